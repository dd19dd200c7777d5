package queue

import (
	"errors"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// TestFullWhileTheQueueIsStillFull: Queue.Full (031dcc4, the
// HEC health endpoint's 503 code 18 through Engine.QueuesFull) reports
// whether the queue *refused a batch in the last 2 s* (fullFor), not
// whether it is full. The health endpoint exists so that a load balancer
// stops sending to a replica that cannot take input (hec.go
// handleHECHealth: "so that a load balancer checking it sends to other
// replicas"). But once the load balancer has taken the replica out,
// nothing is sent to it, nothing is refused, and 2 s later the health
// endpoint answers 200 "HEC is healthy" although the queue is exactly as
// full as before (the destination is still down): the balancer puts the
// replica back, its next requests are refused 503, it is taken out again,
// and so on for the whole outage (flapping; every re-admission costs the
// senders a burst of refusals and retries). The same holds after a
// restart with a full queue on disk: healthy until the first refusal.
//
// Reproduce: a blocking queue (on_full: block) whose destination does not
// confirm is filled until Write refuses even a 3-event batch; nothing is written for 2.1 s
// (the balancer took the replica out); then Full() is read, and Admit of
// a small batch shows the queue still refuses input.
//
// Expected: Full() true for as long as the queue would refuse a batch
// (its pending bytes at max_bytes), as Splunk's health reports the state
// of its queues ("HEC is unhealthy, queues are full"), not the last
// refusal; README: "503 code 18 ... while a destination's queue is full
// and input is refused".
//
// Severity: medium (the health check flaps during every destination
// outage, which is when it matters).
func TestFullWhileTheQueueIsStillFull(t *testing.T) {
	e := newEnv(t, wal.NewMemFS(), Config{MaxBytes: 1 << 20, OnFull: "block"})
	block := make(chan struct{})
	e.sink.setFail(func(*pipeline.Batch) error { <-block; return nil }) // destination down
	_, err := fillUntilRefused(e, pipeline.P2, 2000)
	if !errors.Is(err, pipeline.ErrOverloaded) {
		t.Fatalf("queue never refused: %v", err)
	}
	// Top it up with small batches until even those are refused: the
	// queue has no room left at all.
	small := []pipeline.Priority{pipeline.P2, pipeline.P2, pipeline.P2}
	for err = nil; err == nil; _, err = e.write(small...) {
	}
	if !e.q.Full() {
		t.Fatalf("Full() false right after a refusal")
	}
	// The load balancer took the replica out: nothing arrives.
	time.Sleep(fullFor + 100*time.Millisecond)
	full := e.q.Full()
	b := batch(small...)
	aerr := e.q.Admit(b)
	e.q.Unadmit(b)
	b.Release()
	if !full && errors.Is(aerr, pipeline.ErrOverloaded) {
		t.Errorf("Full() = false (HEC health 200 \"HEC is healthy\") while the queue still refuses every batch (%v): a load balancer puts the replica back, and the health check flaps for the whole outage", aerr)
	}
	close(block)
	e.waitIdle()
	e.close()
}

// TestNotFullOnceEmptyForAnOversizedBatch: a queue takes a batch larger
// than max_bytes when it holds nothing else (reserveOwn), so a refusal of
// such a batch while it held something must not make Full() true for ever
// after: once the queue drained, the batch would be taken, and HEC health
// (503 code 18) would otherwise take the replica out until the next
// refusal, which never comes while no load balancer sends to it.
func TestNotFullOnceEmptyForAnOversizedBatch(t *testing.T) {
	e := newEnv(t, wal.NewMemFS(), Config{MaxBytes: 1 << 20, OnFull: "block"})
	block := make(chan struct{})
	e.sink.setFail(func(*pipeline.Batch) error { <-block; return nil })
	if _, err := e.write(pipeline.P2); err != nil {
		t.Fatal(err)
	}
	big := make([]pipeline.Priority, 80000) // ~1.2 MiB: over max_bytes alone
	for i := range big {
		big[i] = pipeline.P2
	}
	if _, err := e.write(big...); !errors.Is(err, pipeline.ErrOverloaded) {
		t.Fatalf("an oversized batch into a queue that holds something: %v, want a refusal", err)
	}
	close(block)
	e.waitIdle()
	time.Sleep(fullFor + 100*time.Millisecond)
	if e.q.Full() {
		t.Error("Full() true for an empty queue, which would take the oversized batch now")
	}
	if _, err := e.write(big...); err != nil {
		t.Fatalf("the oversized batch into the empty queue: %v", err)
	}
	e.waitIdle()
	e.close()
}

// TestFullAfterRestartWithAFullQueue: a queue recovered full from disk is
// full (HEC health 503 code 18) before its first refusal, so that a load
// balancer does not send a restarted replica requests it can only refuse.
func TestFullAfterRestartWithAFullQueue(t *testing.T) {
	e := newEnv(t, wal.NewMemFS(), Config{MaxBytes: 1 << 20, OnFull: "block"})
	e.sink.setFail(func(*pipeline.Batch) error { return errors.New("destination down") })
	if _, err := fillUntilRefused(e, pipeline.P2, 2000); !errors.Is(err, pipeline.ErrOverloaded) {
		t.Fatalf("queue never refused: %v", err)
	}
	small := []pipeline.Priority{pipeline.P2, pipeline.P2, pipeline.P2}
	for err := error(nil); err == nil; _, err = e.write(small...) {
	}
	e.reopen()
	if !e.q.Full() {
		t.Error("Full() false for a queue recovered full from disk, before its first refusal")
	}
	e.close()

	empty := newEnv(t, wal.NewMemFS(), Config{MaxBytes: 1 << 20, OnFull: "block"})
	if empty.q.Full() {
		t.Error("Full() true for a new, empty queue")
	}
	empty.close()
}
