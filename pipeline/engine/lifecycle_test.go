package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

type instantSink struct{ name string }

func (s *instantSink) Name() string                                 { return s.name }
func (s *instantSink) Write(context.Context, *pipeline.Batch) error { return nil }
func (s *instantSink) Close(context.Context) error                  { return nil }

// TestEmitReadsRecycledJob: emit's lane loop ranges over j.lanes.Events
// after it started the last non-empty lane's goroutine; that goroutine used
// to recycle j when it finished first, and another Emit's Split rewrote
// j.lanes.Events while the loop still read it (a data race, and a stray
// write of another batch's events). Fails under -race without the loop's
// own reference.
func TestEmitReadsRecycledJob(t *testing.T) {
	e := newEngine(t, Config{}, &instantSink{"archive"}, &instantSink{"siem"}, &instantSink{"opensearch"})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3000; i++ {
				b := batchOf(pipeline.P3) // archive lane only: siem and opensearch lanes trail, empty
				done := make(chan struct{})
				b.Ack = pipeline.NewAck(func(error) { close(done) })
				_ = e.Emit(context.Background(), b)
				<-done
				b.Release()
			}
		}()
	}
	wg.Wait()
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

type gateSink struct {
	name   string
	gate   chan struct{}
	mu     sync.Mutex
	closed bool
	late   int // writes after Close
}

func (s *gateSink) Name() string { return s.name }
func (s *gateSink) Write(ctx context.Context, b *pipeline.Batch) error {
	<-s.gate
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.late++
	}
	return nil
}
func (s *gateSink) Close(context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

// TestEmitBlockedOnSemaphoreRacesClose: an Emit blocked on the in-flight
// semaphore when Close starts used to go on after Close's wg.Wait began
// (wg.Add from zero concurrently with Wait, which can panic) and its writes
// reached sinks Close had already closed. It must be refused instead.
func TestEmitBlockedOnSemaphoreRacesClose(t *testing.T) {
	gate := make(chan struct{})
	arch := &gateSink{name: "archive", gate: gate}
	e := newEngine(t, Config{MaxInflightBatches: 1}, arch, &instantSink{"siem"}, &instantSink{"opensearch"})
	acks := make(chan error, 2)
	emitOne := func() {
		b := batchOf(pipeline.P3)
		b.Ack = pipeline.NewAck(func(err error) { acks <- err })
		_ = e.Emit(context.Background(), b)
	}
	emitOne()    // A: holds the only slot, blocked in the sink
	go emitOne() // B: blocked on the semaphore
	time.Sleep(50 * time.Millisecond)
	closed := make(chan error)
	go func() { closed <- e.Close(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	close(gate)
	<-closed
	<-acks
	<-acks
	arch.mu.Lock()
	defer arch.mu.Unlock()
	if arch.late > 0 {
		t.Errorf("%d writes reached a destination after Close closed it", arch.late)
	}
}
