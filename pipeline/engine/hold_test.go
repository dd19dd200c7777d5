package engine

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	tu "github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/queue"
)

// TestRefusedBatchDeliveredByNoQueue: the archive's queue takes a batch on
// hold (pipeline.Holder) while the SIEM's queue refuses it; the engine
// answers the sender with the error and aborts the archive's hold, so the
// batch the sender resends is delivered once, not twice. Without holds the
// archive delivered the refused batch and then the resent one.
func TestRefusedBatchDeliveredByNoQueue(t *testing.T) {
	reg := NewMetrics()
	qm := queue.NewMetrics(reg.Registry)
	archSink := &tu.RecordSink{SinkName: "archive"}
	q, err := queue.Open("archive", queue.Config{Mode: "memory", Dir: "/q", MaxInFlight: 1,
		RetryInitial: time.Millisecond, RetryMax: 5 * time.Millisecond}, archSink, &tu.MemQuarantine{}, qm,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// The SIEM's queue refuses (its disk is full): a stand-in Holder.
	siem := &failingHolder{RecordSink: tu.RecordSink{SinkName: "siem", Err: errors.New("siem queue: no space left on device")}}
	e := newEngine(t, Config{}, q, siem, &tu.RecordSink{SinkName: "opensearch"})

	b := batchOf(pipeline.P1, pipeline.P3)
	defer b.Release()
	if err, _ := emit(t, e, b); err == nil {
		t.Fatal("the SIEM refused the batch, yet it was acknowledged")
	}
	siem.Err = nil // the SIEM is back (the first Ack ordered every lane before this)
	if err, _ := emit(t, e, b); err != nil {
		t.Fatalf("resent batch: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := q.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := raws(archSink.Events()); got != "ab" {
		t.Errorf("archive delivered %q for one batch refused and then accepted, want \"ab\"", got)
	}
	if v := testutil.ToFloat64(e.m.DestEvents.WithLabelValues("archive", "accepted")); v != 2 {
		t.Errorf("archive counted %v accepted, want 2 (the resent batch)", v)
	}
	if v := testutil.ToFloat64(e.m.DestEvents.WithLabelValues("archive", "refused")); v != 2 {
		t.Errorf("archive counted %v refused, want 2 (the first, withdrawn)", v)
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// failingHolder is a queued destination stand-in: a Holder whose writes
// fail while Err is set and are committed at once otherwise.
type failingHolder struct{ tu.RecordSink }

func (f *failingHolder) WriteHeld(ctx context.Context, b *pipeline.Batch) (pipeline.Hold, error) {
	if err := f.Write(ctx, b); err != nil {
		return nil, err
	}
	return nopHold{}, nil
}
