package queue

import (
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// TestStagedUndecodableCountedTwiceAfterCrash: b5b11ed's headline
// is "an undecodable record is counted lost once across restarts": fill
// counted the record (undecodable_record) and wrote its skipUndecodable
// entry durably before returning, before anything else happened. f00fba3
// stages the entry in memory (skipSet.stage) and writes it only at the
// next saveCursors, which the forwarder runs at most every cursorInterval
// (200 ms; the first one 200 ms after the start). A power loss or a kill
// in that window loses the entry while the count was already exported, and
// the next start counts the same record again.
//
// Sequence: the p2 log holds one record of an unknown codec version (2
// events) and one valid record; the destination is down (the cursor cannot
// pass them). Start: fill counts the record lost (2). Power loss within
// the first 200 ms (before the first saveCursors). Restart.
//
// What happens: the skip file never got the entry; the second start
// counts the same 2 events lost again (undecodable_record 2 in a process
// that lost nothing new); over the two processes 4 for 2 events. Before
// f00fba3 the entry was durable when fill returned and the second start
// counted 0.
//
// Contract: b5b11ed / skips.go skipUndecodable: "counted lost once";
// docs/architecture.md "counted exactly as lost (once ...)". f00fba3's
// comment in fill concedes "A crash before the write counts them again at
// the next start", so this is a known trade-off, but the window it opens is
// 200 ms per start and per run of undecodable records, not the
// microseconds of the old one.
//
// Severity: low (accounting; rollback plus a crash within 200 ms of a
// fill that met undecodable records). Fix: flush the staged entries at the
// end of fill when the run ends (the next record decodes or the log is at
// its end) or when a fill staged entries and no save is due soon -- i.e.
// one write per run, which is what the quadratic-cost fix needed -- or
// write them before the count is exported (count at flush time).
//
// Fixed: fill leaves the records pending; saveCursors writes their entries
// and only then counts them lost (countUndecodable).
func TestStagedUndecodableCountedTwiceAfterCrash(t *testing.T) {
	mem := wal.NewMemFS()
	// The first process's view of the disk: dead (every operation fails)
	// once it is killed, so that nothing it does after the power loss
	// reaches the disk.
	var dead atomic.Bool
	efs := wal.ErrorFS{FS: mem, Inject: func(op, name string) error {
		if dead.Load() {
			return errors.New("process killed")
		}
		return nil
	}}
	dir := "/q"
	e := newEnv(t, efs, Config{Dir: dir, BatchEvents: 10, MaxInFlight: 1})
	e.sink.setFail(func(*pipeline.Batch) error { return errors.New("down") })
	e.close()
	appendUndecodableThenValid(t, mem, filepath.Join(dir, "dest", "p2"))

	undec := func() float64 { return e.val(e.m.Lost.WithLabelValues("dest", "undecodable_record")) }
	var tries atomic.Int64 // delivery attempts: B's means fill passed X
	e.sink.setFail(func(*pipeline.Batch) error { tries.Add(1); return errors.New("down") })
	e.reg = prometheus.NewRegistry()
	e.m = NewMetrics(e.reg)
	start := time.Now()
	e.open()
	for deadline := time.Now().Add(5 * time.Second); tries.Load() == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
	}
	first := undec()
	if since := time.Since(start); since >= cursorInterval {
		e.close()
		t.Skipf("the first fill took %v, past the first saveCursors; cannot show the window", since)
	}
	dead.Store(true)
	mem.Crash() // power loss before the first saveCursors
	e.q.cancel()
	<-e.q.done
	e.q.closeLogs()

	e.fs = mem
	e.sink = &fakeSink{}
	e.sink.setFail(func(*pipeline.Batch) error { return errors.New("down") })
	e.reg = prometheus.NewRegistry()
	e.m = NewMetrics(e.reg)
	e.open()
	for deadline := time.Now().Add(5 * time.Second); undec() == 0 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
	}
	e.close()
	if total := first + undec(); total != 2 {
		t.Errorf("one undecodable record of 2 events, a crash before the first start recorded it: counted %v + %v lost over the two starts, want 2 in all", first, undec())
	}
}
