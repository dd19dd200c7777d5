package queue

// Fault tests from a review of the durability core (queue). Each test failed
// against the code as reviewed (fixed since); its comment gives the sequence, what
// happens, what should happen and why it matters.

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// TestAbortedRecordInBacklogRedeliveredAfterCleanRestart: a withdrawn
// record that lies behind undelivered records is delivered after a clean
// restart.
//
// Sequence: the destination is down; Write(P1) is accepted (record Y,
// queued); Write(P1, P3) fails because the p3 log refuses writes (ENOSPC),
// so its P1 record X, appended on hold after Y, is aborted and the sender
// is told to retry; the router is restarted cleanly (Close, Open: an
// upgrade, a config reload); the destination comes back; the sender
// resends the refused batch.
//
// What happens: Log.Abort lives in memory only and the cursor could not
// pass X (Y before it was never delivered), so Close saves a cursor before
// Y and X; the next Open reads X as an ordinary record, counts it
// recovered and delivers it; the resend delivers it again: the P1 event of
// a batch the sender was told was refused reaches the destination twice.
//
// What should happen: docs/architecture.md: "The sender is told to retry
// and its resend is delivered once"; the only exception documented is "A
// crash after an abort and before the cursor passes the withdrawn record".
// A clean Close must not forget a withdrawal (persist it, e.g. as a
// tombstone record or a skip list next to the cursor, or rewrite nothing
// and keep the skip set on disk), so the restarted queue never delivers X.
//
// Why it matters: a restart while a destination is down (the moment a
// backlog exists, and when operators restart things) turns every batch
// refused during the outage into a duplicate in every other destination;
// the holds exist precisely to prevent that duplicate.
func TestAbortedRecordInBacklogRedeliveredAfterCleanRestart(t *testing.T) {
	var failP3 atomic.Bool
	efs := &wal.ErrorFS{FS: wal.NewMemFS(), Inject: func(op, name string) error {
		if failP3.Load() && op == "write" && strings.HasSuffix(name, ".seg") && filepath.Base(filepath.Dir(name)) == "p3" {
			return syscall.ENOSPC
		}
		return nil
	}}
	e := newEnv(t, efs, Config{Dir: "/q"})
	down := errors.New("destination down")
	e.sink.setFail(func(*pipeline.Batch) error { return down })

	if _, err := e.write(pipeline.P1); err != nil { // Y: accepted, stays queued
		t.Fatal(err)
	}
	b := batch(pipeline.P1, pipeline.P3)
	defer b.Release()
	x := string(b.Events[0].Raw)
	failP3.Store(true)
	if err := e.q.Write(t.Context(), b); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write with the p3 log failing: %v, want ENOSPC", err)
	}
	failP3.Store(false)

	e.reopen() // clean restart while the destination is down
	if rec := e.val(e.m.Recovered); rec != 1 {
		t.Errorf("the restart recovered %v events; want 1 (Y; X was withdrawn)", rec)
	}
	e.sink.setFail(nil)
	e.waitIdle()
	if err := e.q.Write(t.Context(), b); err != nil { // the sender's resend
		t.Fatalf("resend: %v", err)
	}
	e.waitIdle()
	n := 0
	for _, g := range e.sink.delivered() {
		if g == x {
			n++
		}
	}
	if n != 1 {
		t.Errorf("P1 event %s of the refused batch delivered %d times (refused, clean restart, resent once); want 1", x, n)
	}
	e.ledger()
	e.close()
}

// TestDamagedRecordCountedLostOnEveryRestart: a damaged record that the
// cursor has not passed yet is counted lost again by every start.
//
// Sequence: the destination is down; two P2 records are written (3 events,
// then 2); the first record's payload is damaged on disk; the queue is
// started (it counts 3 events lost, as it should) and stopped cleanly while
// the destination is still down, twice more; then the destination comes
// back.
//
// What happens: openSub counts every damaged region after the cursor as
// recovered and lost, and the cursor cannot pass the damaged record while
// the undelivered record after it holds it back, so each start reports the
// same 3 events lost again: logrouter_queue_lost_events_total rises by 3 at
// every restart (increase() over the day says 9 events lost for 3), and
// each start raises the loss alert anew.
//
// What should happen: invariant 5, "damaged records are skipped and counted
// exactly as lost". Once counted, a damaged region must not be counted
// again: the queue can move the cursor over damage at the head of its log
// at once, or persist how far damage has been counted (next to the cursor),
// so the sum of lost over the queue's starts is 3.
//
// Why it matters: lost is the number operators page on and report as data
// loss; a queue that restarts during an outage (crash loops, rolling
// updates, exactly when destinations are down) multiplies it.
func TestDamagedRecordCountedLostOnEveryRestart(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, wal.OS, Config{Dir: dir})
	e.sink.setFail(func(*pipeline.Batch) error { return errors.New("down") })
	a, _ := e.write(pipeline.P2, pipeline.P2, pipeline.P2)       // record 1: 3 events
	if _, err := e.write(pipeline.P2, pipeline.P2); err != nil { // record 2: 2 events
		t.Fatal(err)
	}
	e.close()
	segs, _ := filepath.Glob(filepath.Join(dir, "dest", "p2", "*.seg"))
	if len(segs) != 1 {
		t.Fatalf("segments %v", segs)
	}
	data, _ := os.ReadFile(segs[0])
	i := strings.Index(string(data), a[1]) // inside record 1's payload
	data[i+2] ^= 0xff
	if err := os.WriteFile(segs[0], data, 0o640); err != nil {
		t.Fatal(err)
	}

	var lost float64
	for start := 0; start < 3; start++ {
		e.reg = prometheus.NewRegistry()
		e.m = NewMetrics(e.reg)
		e.open()
		lost += e.val(e.m.Lost.WithLabelValues("dest", "corrupt_record"))
		if start < 2 {
			e.close() // a restart while the destination is still down
		}
	}
	e.sink.setFail(nil)
	e.waitIdle()
	e.ledger()
	e.close()
	if lost != 3 {
		t.Errorf("3 events were damaged; the queue's three starts counted %v lost in all", lost)
	}
}
