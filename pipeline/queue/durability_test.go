package queue

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// TestIntervalCursorPastDurableEnd: under fsync "interval" the cursor can be
// persisted (fsynced) past records the WAL has not fsynced yet. A power loss
// then leaves the cursor past the end of the log; new events appended at the
// truncated end used to lie before the cursor and were never delivered.
func TestIntervalCursorPastDurableEnd(t *testing.T) {
	mfs := wal.NewMemFS()
	e := newEnv(t, mfs, Config{Dir: "/q", Fsync: "interval", FsyncInterval: time.Hour})
	if _, err := e.write(pipeline.P2); err != nil {
		t.Fatal(err)
	}
	e.waitIdle() // delivered and confirmed
	// Wait until the forwarder persisted the cursor past that record.
	cpath := filepath.Join("/q", "dest", "p2.cursor")
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _ := loadCursor(mfs, cpath)
		if c.Off > 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("cursor never saved")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Power loss: the WAL record (written, never fsynced) is gone, the
	// cursor file (fsynced) survives.
	mfs.Crash()
	e.q.cancel()
	<-e.q.done
	e.q.closeLogs()

	e.sink = &fakeSink{}
	e.reg = prometheus.NewRegistry()
	e.m = NewMetrics(e.reg)
	e.open()
	// A new event, acknowledged after the restart.
	acked, err := e.write(pipeline.P2)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	idleErr := e.q.WaitIdle(ctx)
	got := e.sink.delivered()
	e.close()
	if idleErr != nil || !contains(got, acked[0]) {
		t.Fatalf("event %s acknowledged after the restart was never delivered (delivered %v, pending %d)", acked[0], got, e.q.Pending())
	}
}

// TestCorruptRecordBytesDrift: a record damaged on disk after the queue
// opened is skipped by fill, which gave back the whole region (header and
// payload) while only the payload was reserved: pendingBytes drifted below
// zero, where max_bytes stops limiting.
func TestCorruptRecordBytesDrift(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, wal.OS, Config{Dir: dir, MaxInFlight: 1})
	gate, entered := make(chan struct{}), make(chan struct{}, 1)
	var once sync.Once
	e.sink.setFail(func(*pipeline.Batch) error {
		once.Do(func() { entered <- struct{}{}; <-gate })
		return nil
	})
	if _, err := e.write(pipeline.P2); err != nil { // record 1: read, delivery blocks
		t.Fatal(err)
	}
	<-entered
	bad, err := e.write(pipeline.P2, pipeline.P2) // record 2: not read yet
	if err != nil {
		t.Fatal(err)
	}
	ok, err := e.write(pipeline.P2) // record 3
	if err != nil {
		t.Fatal(err)
	}
	damageP2(t, dir, bad[0])
	close(gate)
	e.waitIdle()
	if !contains(e.sink.delivered(), ok[0]) {
		t.Fatal("record 3 not delivered")
	}
	if pb := e.q.pendingBytes.Load(); pb != 0 {
		t.Errorf("queue empty but pendingBytes = %d (want 0)", pb)
	}
	if v := e.val(e.m.QueuedBytes.WithLabelValues("dest")); v != 0 {
		t.Errorf("queue empty but queued bytes gauge = %v (want 0)", v)
	}
	e.close()
}

// TestNewQueueDirIsDurable: Open created Dir/<destination> with MkdirAll and
// never fsynced the directories holding the new entries (wal.Open then
// found Dir/<destination> existing and fsynced only its own new entries), so
// a power failure after the first start could take the whole queue.
func TestNewQueueDirIsDurable(t *testing.T) {
	var mu sync.Mutex
	synced := map[string]bool{}
	efs := &wal.ErrorFS{FS: wal.NewMemFS(), Inject: func(op, name string) error {
		if op == "syncdir" {
			mu.Lock()
			synced[filepath.Clean(name)] = true
			mu.Unlock()
		}
		return nil
	}}
	e := newEnv(t, efs, Config{Dir: "/data/queue"})
	if _, err := e.write(pipeline.P1); err != nil {
		t.Fatal(err)
	}
	e.close()
	mu.Lock()
	defer mu.Unlock()
	for _, d := range []string{"/data", "/data/queue"} { // parents of the created /data/queue and /data/queue/dest
		if !synced[d] {
			t.Errorf("directory %s gained a new entry but was never fsynced (synced: %v)", d, synced)
		}
	}
}

// TestCursorPastLastSegment: a cursor past the end of its log (segment
// directory wiped, cursor file left) used to make start-up fail; it is
// reported as degraded and the queue starts at the end.
func TestCursorPastLastSegment(t *testing.T) {
	mfs := wal.NewMemFS()
	if err := mfs.MkdirAll("/q/dest", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := saveCursor(mfs, "/q/dest/p2.cursor", wal.Pos{Seg: 5, Off: 100}); err != nil {
		t.Fatal(err)
	}
	q, err := open("dest", Config{Dir: "/q"}, mfs, &fakeSink{}, nil, NewMetrics(prometheus.NewRegistry()), quiet)
	if err != nil {
		t.Fatalf("start-up failed on a stale cursor: %v", err)
	}
	if d := q.Degraded(); len(d) == 0 || !strings.Contains(d[0], "past the end of its log") {
		t.Errorf("degraded %q, want the stale cursor reported", d)
	}
	_ = q.Close(context.Background())
}
