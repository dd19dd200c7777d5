package engine

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	tu "github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/dedup"
)

// ledgerGap returns input - refused - (deduplicated + delivered) for the
// input "test": the conservation ledger (internal/app BuildLedger: accepted =
// input events - refused) must balance, so it is 0 once every Ack fired.
func ledgerGap(e *Engine, delivered int) float64 {
	in := testutil.ToFloat64(e.m.InputEvents.WithLabelValues("test"))
	refused := testutil.ToFloat64(e.m.InputRefused.WithLabelValues("test"))
	deduped := testutil.ToFloat64(e.m.InputDedup.WithLabelValues("test"))
	return in - refused - (deduped + float64(delivered))
}

// TestRefusedAtCapacityKeepsTheLedger: a batch refused because
// max_inflight_batches is reached (its ctx ends while it waits for a slot)
// is counted in logrouter_input_refused_events_total, but was never counted
// in logrouter_input_events_total (count(b) runs only after the slot is
// taken). The ledger then books negative "accepted" events for the input:
// input - refused must equal deduplicated + delivered.
//
// Expected: either both counters count the refused batch, or neither does.
func TestRefusedAtCapacityKeepsTheLedger(t *testing.T) {
	slow := &slowSink{name: "archive", release: make(chan struct{})}
	e := newEngine(t, Config{MaxInflightBatches: 1}, slow, &tu.RecordSink{SinkName: "siem"}, &tu.RecordSink{SinkName: "opensearch"})
	first := batchOf(pipeline.P3)
	firstDone := make(chan error, 1)
	first.Ack = pipeline.NewAck(func(err error) { firstDone <- err })
	_ = e.Emit(context.Background(), first)

	second := batchOf(pipeline.P3, pipeline.P3, pipeline.P3)
	secondDone := make(chan error, 1)
	second.Ack = pipeline.NewAck(func(err error) { secondDone <- err })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_ = e.Emit(ctx, second)
	if err := <-secondDone; err == nil {
		t.Fatal("the batch past max_inflight_batches was not refused")
	}
	close(slow.release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if gap := ledgerGap(e, 1); gap != 0 {
		t.Errorf("ledger off by %v events: input %v, refused %v, delivered 1 (a batch refused while waiting for a slot is refused but never received)",
			gap, testutil.ToFloat64(e.m.InputEvents.WithLabelValues("test")), testutil.ToFloat64(e.m.InputRefused.WithLabelValues("test")))
	}
	_ = e.Close(context.Background())
}

// TestRefusedAfterCloseKeepsTheLedger: the same for a batch refused
// with ErrShuttingDown (Emit after Close started).
func TestRefusedAfterCloseKeepsTheLedger(t *testing.T) {
	e := newEngine(t, Config{}, &tu.RecordSink{SinkName: "archive"}, &tu.RecordSink{SinkName: "siem"}, &tu.RecordSink{SinkName: "opensearch"})
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err, _ := emit(t, e, batchOf(pipeline.P1, pipeline.P2)); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("err = %v", err)
	}
	if gap := ledgerGap(e, 0); gap != 0 {
		t.Errorf("ledger off by %v events: input %v, refused %v (refused without being received)",
			gap, testutil.ToFloat64(e.m.InputEvents.WithLabelValues("test")), testutil.ToFloat64(e.m.InputRefused.WithLabelValues("test")))
	}
}

// TestGlobalScopeInBatchRepeatOfAnotherPriority: with dedup.scope
// global there is one set for every priority, so an event whose key was
// accepted before is dropped whatever the priority of either copy (the
// second batch below). Two copies of one key inside the same batch must be
// treated alike: the in-batch keySet tells keys apart by priority instead
// of by the set they belong to, so with scope global both copies are kept
// (and delivered) when their priorities differ.
//
// Expected: the repeat inside the batch is dropped as the repeat across
// batches is.
func TestGlobalScopeInBatchRepeatOfAnotherPriority(t *testing.T) {
	arch := &tu.RecordSink{SinkName: "archive"}
	e := newEngine(t, Config{}, arch, &tu.RecordSink{SinkName: "siem"}, &tu.RecordSink{SinkName: "opensearch"})
	e.EnableDedup(dedup.Config{Enabled: true, Window: time.Minute, MaxBytes: 1 << 20, Scope: "global"})
	mk := func(key uint64, prios ...pipeline.Priority) *pipeline.Batch {
		b := pipeline.NewBatch()
		b.Meta.Input = "test"
		for i, p := range prios {
			a := fmt.Appendf(b.Arena(), `{"k":%d,"i":%d}`, key, i)
			b.Commit(a, pipeline.Event{Priority: p, Rule: -1, Key: key, SourceType: "st"})
		}
		return b
	}
	// Across batches: the P3 copy of key 7 is dropped as a repeat of the P2 one.
	for _, p := range []pipeline.Priority{pipeline.P2, pipeline.P3} {
		if err, _ := emit(t, e, mk(7, p)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(arch.Events()); n != 1 {
		t.Fatalf("across batches: archive got %d events of key 7, want 1 (scope global)", n)
	}
	// Within one batch: the same two copies.
	if err, _ := emit(t, e, mk(8, pipeline.P2, pipeline.P3)); err != nil {
		t.Fatal(err)
	}
	if n := len(arch.Events()) - 1; n != 1 {
		t.Errorf("within one batch: archive got %d events of key 8, want 1 as across batches (scope global: one set for every priority)", n)
	}
	_ = e.Close(context.Background())
}
