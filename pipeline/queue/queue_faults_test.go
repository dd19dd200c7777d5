package queue

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// TestFailedDeliveryBooksOnlyItsOwnEvents: a flight is reused from
// delivery to delivery, and its booked count (events booked delivered or
// quarantined) is never reset. When a later delivery on the same flight
// fails at shutdown, settle subtracts the stale total of every earlier
// delivery from pending instead of what this delivery booked (0 here).
//
// Expected: after Close, the 2 undelivered events are what is left: in
// memory mode they are counted lost (2) and the ledger balances; in disk
// mode Pending() reports 2 (they are delivered after the next start).
func TestFailedDeliveryBooksOnlyItsOwnEvents(t *testing.T) {
	for _, mode := range []string{"memory", "disk"} {
		t.Run(mode, func(t *testing.T) {
			var e *env
			if mode == "memory" {
				e = newEnv(t, wal.NewVolatileFS(), Config{Dir: "/q", Mode: "memory", MaxInFlight: 1})
			} else {
				e = newEnv(t, wal.NewMemFS(), Config{Dir: "/q", MaxInFlight: 1})
			}
			ten := make([]pipeline.Priority, 10)
			for i := range ten {
				ten[i] = pipeline.P2
			}
			if _, err := e.write(ten...); err != nil { // delivered: the flight books 10
				t.Fatal(err)
			}
			e.waitIdle()
			e.sink.setFail(func(*pipeline.Batch) error { return errors.New("down") })
			if _, err := e.write(pipeline.P2, pipeline.P2); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(10 * time.Second); e.val(e.m.Retries) == 0 && time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_ = e.q.Close(ctx)
			_, _, del, _, _, lost, _ := e.ledger()
			if mode == "memory" {
				if del != 10 || lost != 2 {
					t.Errorf("memory queue closed with 2 events undelivered: delivered %v lost %v, want 10 and 2", del, lost)
				}
			} else if p := e.q.Pending(); p != 2 {
				t.Errorf("disk queue closed with 2 events undelivered: Pending() = %d, want 2", p)
			}
		})
	}
}

// TestRecoveredRecordDamagedLater: a record recovered at start (valid
// then, so counted in pending and in pendingBytes) is found damaged when the
// forwarder reaches it (bit rot, a media error between start-up and
// delivery). fill ignores every CorruptError before scanEnd, assuming the
// start-up scan counted it, but the start-up scan saw a valid record.
//
// Expected: the record's events are counted lost exactly (2), pending and
// pendingBytes return to 0 once everything else is delivered, and the
// ledger balances (recovered = delivered + lost).
func TestRecoveredRecordDamagedLater(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, wal.OS, Config{Dir: dir, BatchEvents: 1, MaxInFlight: 1})
	e.sink.setFail(func(*pipeline.Batch) error { return errors.New("down") })
	// Record 0: one large event, so that reading it does not read ahead
	// into record A (the reader's window reads 64 KiB ahead).
	writeLargeP2(t, e)
	a, err := e.write(pipeline.P2, pipeline.P2) // record A: damaged later
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.write(pipeline.P2) // record B
	if err != nil {
		t.Fatal(err)
	}

	// Restart: all 4 events are recovered, the first delivery blocks.
	e.close()
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
	if v := e.val(e.m.Recovered); v != 4 {
		t.Fatalf("recovered %v, want 4", v)
	}
	<-entered // record 0 is on its way; A is not read yet

	damageP2(t, dir, a[1])
	close(gate)

	deadline := time.Now().Add(5 * time.Second)
	for !contains(e.sink.delivered(), b[0]) && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	if !contains(e.sink.delivered(), b[0]) {
		t.Fatal("record B not delivered")
	}
	for deadline := time.Now().Add(2 * time.Second); e.q.Pending() != 0 && time.Now().Before(deadline); {
		time.Sleep(2 * time.Millisecond)
	}
	if p := e.q.Pending(); p != 0 {
		t.Errorf("everything delivered or lost, but Pending() = %d (want 0: WaitIdle never returns)", p)
	}
	if pb := e.q.pendingBytes.Load(); pb != 0 {
		t.Errorf("everything delivered or lost, but pendingBytes = %d (want 0: max_bytes shrinks for good)", pb)
	}
	if lost := e.val(e.m.Lost.WithLabelValues("dest", "corrupt_record")); lost != 2 {
		t.Errorf("lost %v, want exactly the 2 events of the damaged record", lost)
	}
	if len(e.q.Degraded()) == 0 {
		t.Error("queue not reported degraded")
	}
	e.ledger()
	e.close()
}

// TestCursorInRemovedSegment: the segment holding the persisted
// cursor is gone (an operator freed disk space by deleting the oldest
// segment files) while later segments remain. The start-up scan's Reader
// then returns the "trimmed" error (os.ErrNotExist), which openSub treats
// as fatal: the queue, and the router, cannot start.
//
// Expected (invariant 5, and as for a cursor past the end of the log):
// start-up does not fail; the queue reports itself degraded and delivers
// everything in the segments that remain.
func TestCursorInRemovedSegment(t *testing.T) {
	mfs := wal.NewMemFS()
	e := newEnv(t, mfs, Config{Dir: "/q", SegmentBytes: 64 << 10})
	e.sink.setFail(func(*pipeline.Batch) error { return errors.New("down") })
	pad := strings.Repeat("y", 10<<10)
	var all []string
	for i := 0; i < 20; i++ { // ~200 KiB: several 64 KiB segments
		b := pipeline.NewBatch()
		raw := pad + string(rune('a'+i))
		b.Commit(append(b.Arena(), raw...), pipeline.Event{Priority: pipeline.P2, Rule: -1})
		if err := e.q.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		b.Release()
		all = append(all, raw)
	}
	e.close()
	names, _ := mfs.ReadDir("/q/dest/p2")
	if len(names) < 3 {
		t.Fatalf("want several segments, got %v", names)
	}
	// The cursor points into segment 1, which the operator deletes.
	if err := saveCursor(mfs, "/q/dest/p2.cursor", wal.Pos{Seg: 1, Off: 8}); err != nil {
		t.Fatal(err)
	}
	if err := mfs.Remove("/q/dest/p2/" + names[0]); err != nil {
		t.Fatal(err)
	}
	e.sink.setFail(nil)
	e.reg = prometheus.NewRegistry()
	e.m = NewMetrics(e.reg)
	q, err := open("dest", e.cfg, mfs, e.sink, e.dlq, e.m, quiet)
	if err != nil {
		t.Fatalf("start-up failed because the cursor's segment was removed: %v", err)
	}
	e.q = q
	if len(q.Degraded()) == 0 {
		t.Error("queue not reported degraded")
	}
	e.waitIdle()
	got := e.sink.delivered()
	if len(got) == 0 || got[len(got)-1] != all[len(all)-1] {
		t.Errorf("the events in the remaining segments were not delivered (%d delivered)", len(got))
	}
	e.close()
}

// TestGarbageOverTwoRecordsBytesDrift: two records in a row lose their
// headers on disk after they were appended; the Reader skips them as one
// region of bytes with no valid header. fill gives back
// CorruptError.PayloadBytes() (the region less ONE header), which is a header
// (20 bytes) more than was reserved for the two payloads, via givePending,
// which clamps at zero only at that moment; settle later subtracts the
// payloads of the other records without a clamp, so pendingBytes ends below
// zero, where the code itself says max_bytes stops limiting.
//
// Expected: once every record is delivered or skipped, pendingBytes and the
// queued-bytes gauge are back to exactly 0 (never below).
func TestGarbageOverTwoRecordsBytesDrift(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, wal.OS, Config{Dir: dir, MaxInFlight: 1})
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
	if _, err := e.write(pipeline.P2); err != nil { // record 1: read, delivery blocks
		t.Fatal(err)
	}
	<-entered
	r2, _ := e.write(pipeline.P2) // records 2 and 3: headers destroyed
	r3, _ := e.write(pipeline.P2)
	r4, err := e.write(pipeline.P2) // record 4: intact
	if err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "dest", "p2", "*.seg"))
	data, _ := os.ReadFile(segs[0])
	f, err := os.OpenFile(segs[0], os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{r2[0], r3[0]} {
		// payload = version byte, uvarint length (1 byte here), raw...
		hdr := strings.Index(string(data), raw) - 2 - wal.HeaderRoom
		if data[hdr] != 0x31 { // first byte of the record magic
			t.Fatalf("no record header at %d", hdr)
		}
		if _, err := f.WriteAt([]byte{0}, int64(hdr)); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	close(gate)
	deadline := time.Now().Add(5 * time.Second)
	for !contains(e.sink.delivered(), r4[0]) && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	if !contains(e.sink.delivered(), r4[0]) {
		t.Fatal("record 4 not delivered")
	}
	var pb int64
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if pb = e.q.pendingBytes.Load(); pb == 0 {
			break
		}
	}
	if pb != 0 {
		t.Errorf("every record delivered or skipped, but pendingBytes = %d (want 0, never below)", pb)
	}
	if v := e.val(e.m.QueuedBytes.WithLabelValues("dest")); v != 0 {
		t.Errorf("queued bytes gauge = %v, want 0", v)
	}
	e.close()
}

// TestStaleCursorPastEndSurvivesRestart: openSub corrects a cursor
// that lies past the end of its log (segments wiped, or a tail lost to a
// power failure under fsync interval) by starting at the end, but sets
// saved to the corrected value, so the bad cursor file is never rewritten
// until the cursor moves. Events acknowledged after that start and not yet
// delivered (destination down) then lie before the stale cursor again at
// the next start, which skips them: acknowledged events are never
// delivered, after a clean restart and under fsync "always".
//
// Expected: every event acknowledged after the first start is delivered
// after the second.
func TestStaleCursorPastEndSurvivesRestart(t *testing.T) {
	mfs := wal.NewMemFS()
	if err := mfs.MkdirAll("/q/dest", 0o755); err != nil {
		t.Fatal(err)
	}
	// Left behind: a cursor into segment 5; the segment files are gone.
	if err := saveCursor(mfs, "/q/dest/p2.cursor", wal.Pos{Seg: 5, Off: 100}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, mfs, Config{Dir: "/q"})
	e.sink.setFail(func(*pipeline.Batch) error { return errors.New("down") })
	var acked []string
	for i := 0; i < 30; i++ {
		r, err := e.write(pipeline.P2)
		if err != nil {
			t.Fatal(err)
		}
		acked = append(acked, r...)
	}
	e.close() // clean shutdown, events still queued
	e.sink.setFail(nil)
	e.reg = prometheus.NewRegistry()
	e.m = NewMetrics(e.reg)
	e.open()
	if v := e.val(e.m.Recovered); v != float64(len(acked)) {
		t.Errorf("recovered %v after a clean restart, want the %d acknowledged events", v, len(acked))
	}
	e.waitIdle()
	got := e.sink.delivered()
	for _, a := range acked {
		if !contains(got, a) {
			t.Errorf("acknowledged event %s never delivered (%d of %d delivered)", a, len(got), len(acked))
			break
		}
	}
	e.close()
}

// TestIntervalStaleCursorAfterPowerLoss: the documented fsync
// "interval" case (TestIntervalCursorPastDurableEnd): a power loss leaves
// the persisted cursor past the end of the log. The queue starts at the end
// but leaves the stale cursor file in place. Events acknowledged after the
// restart, while the destination is down, are fsynced (Close fsyncs the
// log); after a second, clean, restart the stale cursor is no longer past
// the end and the queue resumes from it, skipping them.
//
// Expected: every event acknowledged after the power loss is delivered
// after the clean restart.
func TestIntervalStaleCursorAfterPowerLoss(t *testing.T) {
	mfs := wal.NewMemFS()
	e := newEnv(t, mfs, Config{Dir: "/q", Fsync: "interval", FsyncInterval: time.Hour})
	if _, err := e.write(pipeline.P2); err != nil {
		t.Fatal(err)
	}
	e.waitIdle()
	cpath := filepath.Join("/q", "dest", "p2.cursor")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, _ := loadCursor(mfs, cpath); c.Off > 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("cursor never saved")
		}
	}
	mfs.Crash() // the record is gone, the cursor past it survives
	e.q.cancel()
	<-e.q.done
	e.q.closeLogs()

	e.sink = &fakeSink{}
	e.sink.setFail(func(*pipeline.Batch) error { return errors.New("down") })
	e.reg = prometheus.NewRegistry()
	e.m = NewMetrics(e.reg)
	e.open()
	var acked []string
	for i := 0; i < 3; i++ {
		r, err := e.write(pipeline.P2)
		if err != nil {
			t.Fatal(err)
		}
		acked = append(acked, r...)
	}
	e.close() // clean: the log is fsynced, the events wait for the destination

	e.sink.setFail(nil)
	e.reg = prometheus.NewRegistry()
	e.m = NewMetrics(e.reg)
	e.open()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = e.q.WaitIdle(ctx)
	got := e.sink.delivered()
	e.close()
	for _, a := range acked {
		if !contains(got, a) {
			t.Errorf("event %s acknowledged after the power loss never delivered after a clean restart (delivered %v)", a, got)
		}
	}
}
