package queue

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// TestMemoryQueueShutdownPartlyDelivered: a memory queue closed at its
// deadline with a batch partly delivered: the
// delivered part is booked delivered, so it must not also count as lost
// (it did: Close counted the whole batch as left).
func TestMemoryQueueShutdownPartlyDelivered(t *testing.T) {
	e := newEnv(t, wal.NewVolatileFS(), Config{Dir: "/q", Mode: "memory"})
	e.sink.setFail(func(b *pipeline.Batch) error {
		// Item 0 accepted, the last one always retryable (429).
		return &pipeline.BatchError{Items: []pipeline.ItemError{{Index: len(b.Events) - 1, Status: 429, Err: errors.New("es_rejected_execution_exception")}}}
	})
	if _, err := e.write(pipeline.P2, pipeline.P2); err != nil {
		t.Fatal(err)
	}
	// Wait for the first attempt to book item 0 (a fixed sleep could end
	// before a starved forwarder made it).
	for deadline := time.Now().Add(10 * time.Second); e.val(e.m.Delivered) < 1 && time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = e.q.Close(ctx)
	_, _, del, _, _, lost, queued := e.ledger()
	t.Logf("delivered %v lost %v queued %v; sink got %d", del, lost, queued, len(e.sink.delivered()))
	if del != 1 || lost != 1 {
		t.Errorf("delivered %v lost %v, want 1 and 1", del, lost)
	}
}
