package queue

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// TestWriteErrorAfterPartialAppend: Write files a batch's events
// into one record per priority and appends those records in parallel
// (p1, p2, p3 are separate logs). When one append fails (ENOSPC or EIO on
// the p3 log's segment: the P3 record is the large one, the P1 record
// still fits) Write returns the error, so the engine answers the sender
// with an error and counts every event of the lane refused
// (logrouter_destination_events_total{outcome="refused"}); but the P1
// record is in its log, counted accepted by the queue, and the forwarder
// delivers it.
//
// Sequence: Write(P1, P3) while the p3 segment's writes fail; then the disk
// recovers and the sender retries the same batch (it was told to).
//
// What happens: the first Write returns ENOSPC, yet its P1 event is
// delivered; the retry delivers it a second time. The destination gets the
// P1 event twice for one event sent, and the ledger row disagrees with
// itself (engine: all refused; queue: P1 accepted).
//
// What should happen: a Write that returns an error has accepted nothing
// (as for a full queue: "nothing accepted, nothing dropped: the sender
// retries all"): a record appended for a batch that then fails as a whole
// must not be delivered (e.g. remember the positions of the records
// appended by the failed Write and have the forwarder skip them, counting
// neither accepted nor queued; or append all priorities' records before
// acknowledging any and roll the successful ones back).
//
// Why it matters: an acknowledgement means every destination accepted the
// event, and a refusal must mean none did, or every retry during a disk
// incident duplicates P1 alerts at the SIEM.
//
// Fixed with wal.Log.AppendHeld: a Write's records are held until every
// one is durable, then released, or aborted when one failed.
func TestWriteErrorAfterPartialAppend(t *testing.T) {
	var failP3 atomic.Bool
	efs := &wal.ErrorFS{FS: wal.NewMemFS(), Inject: func(op, name string) error {
		if failP3.Load() && op == "write" && strings.HasSuffix(name, ".seg") && filepath.Base(filepath.Dir(name)) == "p3" {
			return syscall.ENOSPC
		}
		return nil
	}}
	e := newEnv(t, efs, Config{Dir: "/q"})
	b := batch(pipeline.P1, pipeline.P3)
	defer b.Release()
	var raws []string
	for _, ev := range b.Events {
		raws = append(raws, string(ev.Raw))
	}

	failP3.Store(true)
	err := e.q.Write(t.Context(), b)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write with the p3 log failing: %v, want ENOSPC", err)
	}
	failP3.Store(false)
	// The sender was told to retry: it sends the same batch again.
	if err := e.q.Write(t.Context(), b); err != nil {
		t.Fatalf("retry: %v", err)
	}
	e.waitIdle()
	got := e.sink.delivered()
	for _, r := range raws {
		n := 0
		for _, g := range got {
			if g == r {
				n++
			}
		}
		if n != 1 {
			t.Errorf("event %s delivered %d times for one accepted Write (the failed Write had refused it)", r, n)
		}
	}
	if acc := e.val(e.m.Accepted); acc != 2 {
		t.Errorf("queue accepted %v events; only the retry (2 events) was acknowledged", acc)
	}
	e.ledger()
	e.close()
}

// TestDropCountedForRefusedWrite: with on_full drop_p3, a Write into
// a full queue drops the batch's P3 record and counts it (dropped, and
// accepted: "a drop policy accepts and counts them"), then appends the
// rest. When that append fails, Write returns the error: the engine
// answers the sender with an error and counts the whole lane refused, the
// sender resends the batch, and the P3 events are dropped (and counted)
// again, or taken.
//
// What happens: the refused Write leaves logrouter_queue_dropped_events_total
// and logrouter_queue_accepted_events_total raised by the P3 events,
// although the sender was told to retry them: one event sent once is
// counted dropped twice after the retry (or dropped and delivered).
//
// What should happen: a Write that returns an error drops and accepts
// nothing; the drop is counted only with a Write that succeeds (move the
// q.dropped/q.accepted additions of droppedEvents under firstErr == nil).
//
// Why it matters: "a retry is never a drop"; the drop count is what an
// operator reads as events lost by policy.
func TestDropCountedForRefusedWrite(t *testing.T) {
	var failP1 atomic.Bool
	efs := &wal.ErrorFS{FS: wal.NewMemFS(), Inject: func(op, name string) error {
		if failP1.Load() && op == "write" && strings.HasSuffix(name, ".seg") && filepath.Base(filepath.Dir(name)) == "p1" {
			return syscall.ENOSPC
		}
		return nil
	}}
	e := newEnv(t, efs, Config{Dir: "/q", MaxBytes: 1 << 20, OnFull: "drop_p3", MaxInFlight: 1})
	block := make(chan struct{})
	e.sink.setFail(func(*pipeline.Batch) error { <-block; return nil })
	big := func(p pipeline.Priority, n int) *pipeline.Batch {
		b := pipeline.NewBatch()
		raw := `{"pad":"` + strings.Repeat("x", n) + `"}`
		b.Commit(append(b.Arena(), raw...), pipeline.Event{Priority: p, Hash: 1, SourceType: "st", Rule: -1})
		return b
	}
	// 600 KB waits (the destination does not confirm).
	first := big(pipeline.P2, 600_000)
	if err := e.q.Write(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	first.Release()
	// P1 (small) + P3 (500 KB): over max_bytes, so P3 is dropped; the P1
	// append fails.
	b := big(pipeline.P3, 500_000)
	b.Commit(append(b.Arena(), `{"p1":1}`...), pipeline.Event{Priority: pipeline.P1, Hash: 2, SourceType: "st", Rule: -1})
	defer b.Release()
	failP1.Store(true)
	if err := e.q.Write(t.Context(), b); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write with the p1 log failing: %v, want ENOSPC", err)
	}
	dropped := e.val(e.m.Dropped.WithLabelValues("dest", "queue_full"))
	if acc := e.val(e.m.Accepted); dropped != 0 || acc != 1 {
		t.Errorf("after a Write answered with an error: dropped %v, accepted %v; want 0 dropped and only the first event accepted (the sender retries the whole batch)", dropped, acc)
	}
	close(block)
	e.close()
}
