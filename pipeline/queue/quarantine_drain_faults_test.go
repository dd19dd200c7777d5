package queue

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// Fault: a delivery whose events the destination refused for good, while
// the quarantine could not take them (its volume full, its bucket down),
// retried the quarantine with backoff up to retry_max and ignored the
// drain: a shutdown waited for it for the whole shutdown_timeout, and the
// destinations closed after it were cancelled undrained. A disk queue now
// stops retrying when draining starts, as deliver does: the events stay
// queued and are quarantined after the next start.
func TestQuarantineRetryStopsWhenDraining(t *testing.T) {
	e := newEnv(t, wal.OS, Config{RetryInitial: 2 * time.Second, RetryMax: 10 * time.Second})
	var refused atomic.Bool
	e.sink.setFail(func(*pipeline.Batch) error {
		refused.Store(true)
		return pipeline.Permanentf("mapping conflict")
	})
	e.dlq.SetErr(errors.New("quarantine bucket down"))
	b := fullVolBatch(3)
	if err := e.q.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	b.Release()
	for deadline := time.Now().Add(5 * time.Second); !refused.Load(); {
		if time.Now().After(deadline) {
			t.Fatal("not delivered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the quarantine failed; in its backoff

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.q.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v: the quarantine retry did not stop for the drain", d)
	}

	// After the restart, with the quarantine back, they are quarantined.
	e.dlq.SetErr(nil)
	e.open()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := e.q.WaitIdle(wctx); err != nil {
		t.Fatalf("not quarantined after the restart: %v", err)
	}
	if n := len(e.dlq.Records()); n != 3 {
		t.Errorf("%d events quarantined after the restart, want 3", n)
	}
	e.close()
}
