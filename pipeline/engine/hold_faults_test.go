package engine

// Fault tests from a review of commit a8bfcd8 (write on hold, commit or
// abort). Each fails against the code as it was found; the comments
// describe that code.

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	tu "github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/queue"
)

// TestSlowLaneDoesNotStallOtherQueues: one slow or dead destination must
// never delay another (queue package invariant, and the reason every
// destination has its own queue). With holds, a queue lane's record stays
// invisible to its forwarder until the batch's slowest lane returns, and
// the forwarder reads its log in order, so every record appended after it,
// of every other batch, waits as well.
//
// Sequence: the SIEM is a destination without a queue (mode: none) whose
// Write hangs (a dead endpoint: it returns at write_timeout, 30 s by
// default). Batch X (a P1 and a P3 event: the archive takes both, the SIEM
// the P1) is emitted and waits on the SIEM. Batch Y (one P3 event: archive
// only) is emitted and acknowledged at once; its record lies behind X's
// held P3 record in the archive's p3 log.
//
// What happens: the archive's queue delivers nothing, not even Y, which
// the SIEM has nothing to do with, until the SIEM's Write returns. While the
// SIEM stays down, mixed batches keep a hold at the head of the archive's
// p3 log (each for write_timeout, and batches are concurrent), so the
// archive delivers no P3 at all; its backlog grows to max_bytes and then
// batches for healthy destinations are refused as "queue full". The docs
// bound the delay by "one fsync of the slowest lane"; it is the slowest
// lane's whole Write.
//
// What should happen: Y is delivered by the archive while the SIEM hangs:
// a hold delays the records of its own batch only (e.g. the forwarder
// delivers the committed records behind a hold, its cursor staying before
// the hold until it is resolved, as it already stays before a delivery
// still in flight), or at least the docs and the queue invariant say that
// an unqueued destination's outage stalls every queue it shares batches
// with.
//
// Why it matters: a single dead unqueued destination stops delivery to
// every queued one (archive, OpenSearch), the exact failure the per-
// destination queues exist to contain.
func TestSlowLaneDoesNotStallOtherQueues(t *testing.T) {
	reg := NewMetrics()
	qm := queue.NewMetrics(reg.Registry)
	archSink := &tu.RecordSink{SinkName: "archive"}
	q, err := queue.Open("archive", queue.Config{Mode: "memory", Dir: "/q", MaxInFlight: 1,
		RetryInitial: time.Millisecond, RetryMax: 5 * time.Millisecond}, archSink, &tu.MemQuarantine{}, qm,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	siem := &slowSink{name: "siem", release: make(chan struct{})}
	e := newEngine(t, Config{}, q, siem, &tu.RecordSink{SinkName: "opensearch"})

	// X: P1 + P3; the archive takes both, the (hanging) SIEM the P1.
	x := batchOf(pipeline.P1, pipeline.P3)
	xDone := make(chan error, 1)
	x.Ack = pipeline.NewAck(func(err error) { xDone <- err })
	if err := e.Emit(context.Background(), x); err != nil {
		t.Fatal(err)
	}
	// X's archive lane has written (its two events wait in the queue, or
	// were delivered: not on hold, the SIEM has no queue).
	for wait := time.Now().Add(5 * time.Second); q.Pending() < 2 && len(archSink.Events()) < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(wait) {
			t.Fatal("X's archive lane did not write")
		}
	}
	// Y: P3, to the archive only.
	y := batchOf(pipeline.P3)
	if err, _ := emit(t, e, y); err != nil {
		t.Fatalf("Y (archive only): %v", err)
	}
	// Y is acknowledged: the archive's queue has it. Its forwarder should
	// deliver it promptly (milliseconds); give it 2 s.
	deadline := time.Now().Add(2 * time.Second)
	for len(archSink.Events()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(archSink.Events()); n == 0 {
		t.Errorf("the archive delivered nothing in 2 s (Y acknowledged, its destination healthy) while the unqueued SIEM hangs on another batch")
	}

	close(siem.release)
	if err := <-xDone; err != nil {
		t.Fatalf("X: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := q.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	x.Release()
	y.Release()
}

// TestShutdownAbortNotRedeliveredAfterRestart: the common way to abort a
// hold is a shutdown whose deadline cuts a lane that hangs (Close cancels
// the sink writes still running): the batch is refused, the sender resends
// it to the next process, and the queue lanes' records are aborted. Those
// records are the last of their logs (nothing follows them), so the queue's
// cursor, which only moves over records its Reader returned, stays before
// them; Close saves it there, and the abort (in memory only) is forgotten.
//
// Sequence: the archive is a disk queue; the SIEM (no queue) hangs. Batch
// X (P1, P3) is emitted; the archive takes it on hold. Engine.Close with a
// 100 ms deadline cancels the SIEM's write: X is answered with an error and
// the archive's hold is aborted; the engine closes the queue. The router
// starts again (the queue is reopened on the same directory).
//
// What happens: the restarted queue counts X's two events recovered and
// delivers them, although the sender was told X failed and resends it:
// the archive gets X twice. The docs promise this only after a crash.
//
// What should happen: after a clean shutdown the archive delivers nothing
// of a batch it withdrew (the cursor saved at Close lies after aborted
// records, or the abort is recorded durably).
//
// Why it matters: every shutdown whose deadline cuts in-flight batches
// (rolling upgrades with a slow destination) duplicates them in every
// queued destination.
func TestShutdownAbortNotRedeliveredAfterRestart(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := queue.Config{Dir: dir, MaxInFlight: 1, RetryInitial: time.Millisecond, RetryMax: 5 * time.Millisecond}
	reg := NewMetrics()
	q, err := queue.Open("archive", cfg, &tu.RecordSink{SinkName: "archive"}, &tu.MemQuarantine{}, queue.NewMetrics(reg.Registry), quiet)
	if err != nil {
		t.Fatal(err)
	}
	// A queued SIEM whose write hangs (as a hold is used only when every
	// lane is a queue): a stand-in that never returns before ctx ends.
	siem := &hangingHolder{slowSink{name: "siem", release: make(chan struct{})}} // never released
	e := newEngine(t, Config{}, q, siem, &tu.RecordSink{SinkName: "opensearch"})

	x := batchOf(pipeline.P1, pipeline.P3)
	defer x.Release()
	xDone := make(chan error, 1)
	x.Ack = pipeline.NewAck(func(err error) { xDone <- err })
	if err := e.Emit(context.Background(), x); err != nil {
		t.Fatal(err)
	}
	for wait := time.Now().Add(5 * time.Second); q.Pending() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(wait) {
			t.Fatal("X's archive lane did not write")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_ = e.Close(ctx) // reports the deadline; closes the queue
	if err := <-xDone; err == nil {
		t.Fatal("X was acknowledged although the SIEM never took it")
	}

	// The next process.
	again := &tu.RecordSink{SinkName: "archive"}
	q2, err := queue.Open("archive", cfg, again, &tu.MemQuarantine{}, queue.NewMetrics(prometheus.NewRegistry()), quiet)
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := q2.WaitIdle(wctx); err != nil {
		t.Fatal(err)
	}
	if got := raws(again.Events()); got != "" {
		t.Errorf("after a clean restart the archive delivered %q from batch X, which was refused (and is resent by its sender)", got)
	}
	if err := q2.Close(wctx); err != nil {
		t.Fatal(err)
	}
}

// hangingHolder is a pipeline.Holder whose writes hang until ctx ends.
type hangingHolder struct{ slowSink }

func (h *hangingHolder) WriteHeld(ctx context.Context, b *pipeline.Batch) (pipeline.Hold, error) {
	if err := h.Write(ctx, b); err != nil {
		return nil, err
	}
	return nopHold{}, nil
}

type nopHold struct{}

func (nopHold) Commit() {}
func (nopHold) Abort()  {}
