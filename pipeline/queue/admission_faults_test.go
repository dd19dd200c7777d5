package queue

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// reviewBig makes a batch with one event of priority p whose Raw is about n
// bytes.
func reviewBig(b *pipeline.Batch, p pipeline.Priority, n int, hash uint64) *pipeline.Batch {
	if b == nil {
		b = pipeline.NewBatch()
	}
	raw := `{"pad":"` + strings.Repeat("x", n) + `"}`
	b.Commit(append(b.Arena(), raw...), pipeline.Event{Priority: p, Hash: hash, SourceType: "st", Rule: -1})
	return b
}

// TestEmptyDropQueueRefusesAdmittedBatch: on_full drop_p3, an EMPTY
// queue with max_bytes 1 MiB, and a batch of one small P1 event plus one
// 1.5 MB P3 event (larger than max_bytes: a burst, or a small max_bytes).
//
// Sequence: Admit(b) then Write(b), as the engine does.
//
// What happens: Admit reserves only the P1 bytes (P3 is droppable, so it is
// not counted) on the empty queue. Write then subtracts its own reservation
// to decide whether the queue is "full" (cur = pendingBytes - res = 0, so no
// P3 is dropped), but then calls reserve(total - res) while pendingBytes
// still holds its own reservation (cur > 0): the "an empty queue takes any
// batch" exception no longer applies, and Write returns ErrOverloaded. It
// does so on every retry, for ever.
//
// What should happen: Write of an admitted batch succeeds: either the empty
// queue takes the whole batch (as before the change: "an empty queue takes
// any batch"), or it drops (and counts) the P3 event and keeps the P1 one.
//
// Why it matters: Admit said yes, so the engine wrote the batch to every
// other destination before this Write refused it; the sender retries, the
// other destinations get duplicates each time, and this queue refuses the
// batch for ever (the source is wedged on it, P1 alert included).
func TestEmptyDropQueueRefusesAdmittedBatch(t *testing.T) {
	e := newEnv(t, wal.NewMemFS(), Config{MaxBytes: 1 << 20, OnFull: "drop_p3"})
	b := reviewBig(nil, pipeline.P3, 1_500_000, 1)
	b.Commit(append(b.Arena(), `{"p1":1}`...), pipeline.Event{Priority: pipeline.P1, Hash: 2, SourceType: "st", Rule: -1})
	defer b.Release()
	if err := e.q.Admit(b); err != nil {
		t.Fatalf("admit into an empty queue: %v", err)
	}
	if err := e.q.Write(t.Context(), b); err != nil {
		t.Errorf("write of an admitted batch into an empty drop_p3 queue: %v (Admit said yes: the other destinations already took it)", err)
	}
	e.waitIdle()
	e.ledger()
	e.close()
}

// TestQueuedBytesGaugeAfterFailedWrite: Admit now sets the
// logrouter_queue_bytes gauge with its reservation included; the paths of
// Write that give the reservation back without appending (a failed append,
// the queue closed, the queue full) lower pendingBytes but never set the
// gauge again.
//
// Sequence: an empty queue whose p1 log fails its writes (ENOSPC);
// Admit(P1 batch) then Write(P1 batch), which fails.
//
// What happens: pendingBytes is back to 0, but logrouter_queue_bytes still
// shows the reservation (about 40 bytes here; a whole batch's size in
// production) until some later append or delivery sets it again; while the
// disk stays full, none does.
//
// What should happen: the gauge follows pendingBytes: 0 after a Write that
// took nothing (set it wherever the reservation is given back).
//
// Why it matters: during a disk incident the dashboard shows data queued
// for a destination whose queue is empty (and, with large batches,
// megabytes of phantom backlog), which misleads the operator.
func TestQueuedBytesGaugeAfterFailedWrite(t *testing.T) {
	var failP1 atomic.Bool
	efs := &wal.ErrorFS{FS: wal.NewMemFS(), Inject: func(op, name string) error {
		if failP1.Load() && op == "write" && strings.HasSuffix(name, ".seg") && filepath.Base(filepath.Dir(name)) == "p1" {
			return syscall.ENOSPC
		}
		return nil
	}}
	e := newEnv(t, efs, Config{Dir: "/q"})
	b := batch(pipeline.P1)
	defer b.Release()
	failP1.Store(true)
	if err := e.q.Admit(b); err != nil {
		t.Fatal(err)
	}
	if err := e.q.Write(t.Context(), b); err == nil {
		t.Fatal("write with the p1 log failing succeeded")
	}
	if pb, g := e.q.pendingBytes.Load(), e.val(e.m.QueuedBytes.WithLabelValues("dest")); pb != 0 || g != float64(pb) {
		t.Errorf("after a failed Write: pendingBytes %d, logrouter_queue_bytes %v; want both 0", pb, g)
	}
	failP1.Store(false)
	e.close()
}
