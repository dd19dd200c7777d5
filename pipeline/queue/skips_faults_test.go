package queue

// Fault tests (fixed since) from a review of 52cec7e (per-log skip file <priority>.skip). Each test fails
// against the code as reviewed; its comment gives the sequence, what
// happens, what should happen and why it matters.

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// TestReviewSkipEntryOutlivesRecordAfterPowerLoss: a skip entry for a
// withdrawn record that a power loss took makes the forwarder skip the
// acknowledged record appended at the same position after the restart.
//
// Sequence: fsync "interval"; the destination is down; WriteHeld(P2)
// appends record X at p2 (1,8) (written, not yet fsynced: interval);
// the engine aborts the hold (another destination refused), so withdraw
// writes and fsyncs p2.skip = {(1,8): withdrawn}; power loss (X's bytes
// were never fsynced, the skip file was); restart; Write(P2) Y is
// acknowledged and lands at (1,8), the position X had; the destination
// comes back.
//
// What happens: loadSkips keeps every entry at or after the cursor, with
// no check that a record still starts there (or that the position is
// before the log's end), and openSub restores it with Log.Skip; the
// Reader passes over Y as withdrawn: the acknowledged event is never
// delivered (it stays pending for ever, and the next start's
// cursor-past-it drops it silently).
//
// What should happen: a skip entry must only ever match the record it was
// written for: drop entries at or after the log's end at Open (a record
// that is not there any more was not acknowledged and is not skipped),
// or record the withdrawn record's CRC/length with the position, or make
// the record durable before its withdrawal is.
//
// Why it matters: an acknowledgement means "fsynced in every destination's
// queue"; here an acknowledged event is lost without being counted lost.
// The same reuse happens under fsync "always" when an operator removes a
// log's segments by hand (documented as supported): the log restarts at
// segment 1 and old entries match new records once it reaches their
// segment.
func TestSkipEntryOutlivesRecordAfterPowerLoss(t *testing.T) {
	mfs := wal.NewMemFS()
	e := newEnv(t, mfs, Config{Dir: "/q", Fsync: "interval", FsyncInterval: time.Hour})
	e.sink.setFail(func(*pipeline.Batch) error { return errors.New("down") })
	b := batch(pipeline.P2)
	defer b.Release()
	h, err := e.q.WriteHeld(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	h.Abort() // another destination refused the batch: withdrawn, skip file fsynced
	mfs.Crash()
	e.q.cancel()
	<-e.q.done
	e.q.closeLogs()

	e.sink = &fakeSink{}
	e.reg = prometheus.NewRegistry()
	e.m = NewMetrics(e.reg)
	e.open()
	y, err := e.write(pipeline.P2) // acknowledged
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = e.q.WaitIdle(ctx)
	got := e.sink.delivered()
	e.close()
	if !contains(got, y[0]) {
		t.Errorf("event %s acknowledged after the restart was never delivered (delivered %v): the skip entry of the withdrawn record lost to the power loss matched it", y[0], got)
	}
}

// TestReviewSkipFileDiscardedWhenPruneWriteFails: a skip file that reads
// back whole is thrown away when loadSkips cannot rewrite it.
//
// Sequence: the destination is up; Write(P1, P3) fails (the p3 log refuses
// writes) so P1 record X1 is withdrawn; the forwarder passes over it and
// saves the cursor after it. The destination goes down; Y (P1) is
// accepted and queued; Write(P1, P3) fails again, so P1 record X2 (after
// Y) is withdrawn: p1.skip = {X1, X2}. Clean restart while the data
// directory is full (ENOSPC creating p1.skip.tmp). The destination comes
// back and the sender resends the refused batch.
//
// What happens: loadSkips reads both entries, drops X1 (behind the cursor)
// and rewrites the file; the rewrite fails, loadSkips returns the error
// and openSub replaces the set, X2 included, by an empty one ("skip file
// unreadable"): X2 is delivered, and the resend delivers it again.
//
// What should happen: a failed prune is harmless (the entries behind the
// cursor are dropped next time): keep what was read, log the write error,
// and skip X2.
//
// Why it matters: a full disk is exactly when queues hold a backlog and
// batches are refused; the skip file exists to stop these duplicates.
func TestSkipFileDiscardedWhenPruneWriteFails(t *testing.T) {
	var failP3, failSkip atomic.Bool
	efs := &wal.ErrorFS{FS: wal.NewMemFS(), Inject: func(op, name string) error {
		if failP3.Load() && op == "write" && strings.HasSuffix(name, ".seg") && filepath.Base(filepath.Dir(name)) == "p3" {
			return syscall.ENOSPC
		}
		if failSkip.Load() && op == "open" && strings.HasSuffix(name, ".skip.tmp") {
			return syscall.ENOSPC
		}
		return nil
	}}
	e := newEnv(t, efs, Config{Dir: "/q"})
	refuse := func() string {
		b := batch(pipeline.P1, pipeline.P3)
		defer b.Release()
		failP3.Store(true)
		defer failP3.Store(false)
		if err := e.q.Write(t.Context(), b); !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("write with the p3 log failing: %v, want ENOSPC", err)
		}
		return string(b.Events[0].Raw)
	}
	refuse() // X1, passed over at once
	e.waitIdle()
	cpath := filepath.Join("/q", "dest", "p1.cursor")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, _ := loadCursor(efs, cpath); c.Off > 8 { // saved after X1
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("cursor never saved past X1")
		}
	}
	down := errors.New("down")
	e.sink.setFail(func(*pipeline.Batch) error { return down })
	if _, err := e.write(pipeline.P1); err != nil { // Y
		t.Fatal(err)
	}
	x2 := refuse()

	failSkip.Store(true)
	e.reopen() // clean restart, disk full
	failSkip.Store(false)
	e.sink.setFail(nil)
	e.waitIdle()
	n := 0
	for _, g := range e.sink.delivered() {
		if g == x2 {
			n++
		}
	}
	e.close()
	if n != 0 {
		t.Errorf("withdrawn P1 event %s delivered %d times after a restart that could not prune the skip file; want 0 (the sender resends it)", x2, n)
	}
}

// TestReviewSkipFileGrowsForTheWholeRun: entries of withdrawn records stay
// in the skip file (and in memory) for the life of the process, long
// after the cursor passed them and their segments were deleted.
//
// Sequence: the destination is up; 200 batches are withdrawn (another
// destination refused each: WriteHeld then Abort, what the engine does
// while one destination's queue is full); one record is then written and
// delivered; the cursor is saved past everything.
//
// What happens: entries are dropped only by loadSkips at the next start;
// the file keeps all 200 entries, and every withdraw rewrites and fsyncs
// the whole file (O(n) bytes and two fsyncs on the ingest path per
// refused batch): over an hour-long refusal episode the file and each
// rewrite grow without bound (quadratic I/O) until a restart.
//
// What should happen: entries behind the persisted cursor are dropped
// when the cursor is saved (as Log.TrimBefore drops its in-memory skips),
// so the file holds only withdrawn records still ahead of the cursor.
//
// Why it matters: one destination being full is the common failure; it
// then slows every other destination's ingest path and grows its state
// without limit.
func TestSkipFileGrowsForTheWholeRun(t *testing.T) {
	mfs := wal.NewMemFS()
	e := newEnv(t, mfs, Config{Dir: "/q", SegmentBytes: 64 << 10})
	for i := 0; i < 200; i++ {
		b := batch(pipeline.P1)
		h, err := e.q.WriteHeld(t.Context(), b)
		if err != nil {
			t.Fatal(err)
		}
		h.Abort()
		b.Release()
	}
	if _, err := e.write(pipeline.P1); err != nil {
		t.Fatal(err)
	}
	e.waitIdle()
	s := e.q.subs[pipeline.P1]
	path := filepath.Join("/q", "dest", "p1.skip")
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _ := loadCursor(mfs, filepath.Join("/q", "dest", "p1.cursor"))
		if c == s.log.End() || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	sk, err := loadSkips(mfs, path, wal.Pos{}, s.log) // what the file holds
	if err != nil {
		t.Fatal(err)
	}
	s.skips.mu.Lock()
	n := len(s.skips.m)
	s.skips.mu.Unlock()
	e.close()
	if n > 0 || len(sk.m) > 0 {
		t.Errorf("the skip file holds %d entries and the set %d, all behind the saved cursor (all 200 withdrawn records passed); want 0", len(sk.m), n)
	}
}
