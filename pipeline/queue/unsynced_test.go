package queue

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// TestUnsyncedWriteNotCountedLost: a record the WAL reports as an
// unfinished write (past its durable mark: a power loss kept part of a
// record no fsync had covered, never acknowledged) is skipped without
// counting its events lost or marking the queue degraded, the records
// around it are delivered, and a restart (whose mark is past it by then)
// does not count it either.
func TestUnsyncedWriteNotCountedLost(t *testing.T) {
	mem := wal.NewMemFS()
	dir := "/q"
	e := newEnv(t, mem, Config{Dir: dir, BatchEvents: 10, MaxInFlight: 1})
	e.close()
	logDir := filepath.Join(dir, "dest", "p2")
	l, _, err := wal.Open(mem, logDir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A, B, C appended and fsynced; the mark on disk names the end of A
	// (B's and C's marks lost with the power: at most one mark fsync a
	// second), then B's payload is damaged.
	var raws []string
	var ats []wal.Pos
	for range 3 {
		b := batch(pipeline.P2)
		raws = append(raws, string(b.Events[0].Raw))
		at, _, err := l.Append(appendEvents(nil, b.Events), 1)
		if err != nil {
			t.Fatal(err)
		}
		ats = append(ats, at)
		b.Release()
	}
	mem.Crash()
	l.Close()
	f, err := mem.OpenFile(filepath.Join(logDir, "00000000000000000001.seg"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xFF, 0xFF}, ats[1].Off+20+3); err != nil {
		t.Fatal(err)
	}
	f.Sync()
	f.Close()

	for start := 0; start < 2; start++ {
		e.reg = prometheus.NewRegistry()
		e.m = NewMetrics(e.reg)
		e.open()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			got := strings.Join(e.sink.delivered(), ",")
			if strings.Contains(got, raws[0]) && strings.Contains(got, raws[2]) {
				break
			}
		}
		got := strings.Join(e.sink.delivered(), ",")
		if !strings.Contains(got, raws[0]) || !strings.Contains(got, raws[2]) {
			t.Errorf("start %d: A and C not delivered: %s", start, got)
		}
		if _, _, _, _, _, lost, _ := e.ledger(); lost != 0 {
			t.Errorf("start %d: %v events counted lost for a write that was never acknowledged", start, lost)
		}
		if d := e.q.Degraded(); len(d) != 0 {
			t.Errorf("start %d: degraded %v", start, d)
		}
		e.close()
	}
}
