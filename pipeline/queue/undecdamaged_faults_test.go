package queue

import (
	"errors"
	"hash/crc32"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// TestStartUndecodableDamagedLaterDriftsPending: b5b11ed leaves a
// record with a skipUndecodable entry that this release cannot decode out
// of what waits at start (openSub: not in events, bytes, pending, queued,
// pendingBytes) and puts its position in startUndecodable, which fill
// consults only for a record it reads whole. If the record is damaged
// after the start (a media error: the case fill's CorruptError branch and
// invariant 5 exist for), the reader returns a *CorruptError at its
// position instead; fill's damage branch checks startDamage only, so it
// counts the record's events lost AGAIN (an earlier start counted them
// lost as undecodable) and subtracts them from pending, queued and
// pendingBytes, which never held them.
//
// Sequence: p2 log: record 0 (one 100 KiB event, so the reader does not
// read ahead), record X (unknown codec version, 2 events, with the
// skipUndecodable entry an earlier start wrote after counting it lost),
// record B (1 valid event). Start: recovered 2 (record 0 and B; X left
// out). While record 0 is being delivered, one byte of X's payload is
// flipped on disk. Then everything is delivered.
//
// What happens: fill meets X as damage not in startDamage: lost +2
// (corrupt_record), pending and the queued gauge go to -2, Pending() is
// negative (WaitIdle's `for q.Pending() > 0` returns at once while a
// record still waits), and givePending takes X's payload bytes from
// pendingBytes, which never held them (clamped at 0, it eats other
// records' reservations: max_bytes overshoots).
//
// Contract: docs/architecture.md "Recovery": damaged records are "counted
// exactly as lost (once ...)"; skips.go skipUndecodable: "counted lost
// once"; queue gauge and pending count what waits (never negative). Want:
// lost 0 in this process (counted by the earlier one), queued 0, Pending 0.
// Fix: in fill's CorruptError branch, treat ce.At in startUndecodable like
// startDamage (counted already, never queued). The same drift exists for a
// withdrawn record (Log.Skip) damaged during the run (older code).
//
// Severity: low (needs media damage of such a record during the run), but
// the gauge/pending drift is permanent for the process.
//
// Fixed: fill skips damage at a startUndecodable position uncounted.
func TestStartUndecodableDamagedLaterDriftsPending(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, wal.OS, Config{Dir: dir, BatchEvents: 1, MaxInFlight: 1})
	e.sink.setFail(func(*pipeline.Batch) error { return errors.New("down") })
	writeLargeP2(t, e)
	e.close()

	logDir := filepath.Join(dir, "dest", "p2")
	l, _, err := wal.Open(wal.OS, logDir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	xPayload := []byte("\x09NEWER-RELEASE-RECORD-X-payload")
	xAt, _, err := l.Append(xPayload, 2)
	if err != nil {
		t.Fatal(err)
	}
	bb := batch(pipeline.P2)
	valid := string(bb.Events[0].Raw)
	if _, _, err := l.Append(appendEvents(nil, bb.Events), 1); err != nil {
		t.Fatal(err)
	}
	bb.Release()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// An earlier start could not decode X and counted it lost.
	sk := &skipSet{path: logDir + ".skip", m: map[wal.Pos]skipEntry{}}
	if err := sk.add(wal.OS, xAt, skipEntry{kind: skipUndecodable, check: withdrawnCheck(crc32.Checksum(xPayload, crcTable), len(xPayload))}); err != nil {
		t.Fatal(err)
	}

	gate, entered := make(chan struct{}), make(chan struct{}, 1)
	first := true
	e.sink.setFail(func(*pipeline.Batch) error {
		if first {
			first = false
			entered <- struct{}{}
			<-gate
		}
		return nil
	})
	e.reg = prometheus.NewRegistry()
	e.m = NewMetrics(e.reg)
	e.open()
	if v := e.val(e.m.Recovered); v != 2 {
		t.Fatalf("recovered %v at start, want 2 (record 0 and B; X counted by the earlier start)", v)
	}
	<-entered
	damageP2(t, dir, "NEWER-RELEASE-RECORD-X")
	close(gate)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if strings.Contains(strings.Join(e.sink.delivered(), ","), valid) {
			break
		}
	}
	time.Sleep(20 * time.Millisecond)
	lost := e.val(e.m.Lost.WithLabelValues("dest", "corrupt_record")) + e.val(e.m.Lost.WithLabelValues("dest", "undecodable_record"))
	queued := e.val(e.m.Queued.WithLabelValues("dest", pipeline.P2.String()))
	pending := e.q.Pending()
	e.close()
	if lost != 0 || queued != 0 || pending != 0 {
		t.Errorf("X's 2 events were counted lost by an earlier start and never queued in this one; after the rest was delivered: lost %v (want 0), queued gauge %v (want 0), Pending() %d (want 0)",
			lost, queued, pending)
	}
}
