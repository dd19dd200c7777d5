package pipeline

import (
	"sync"
	"sync/atomic"
)

// Ack counts the deliveries owed for one upstream unit (an HTTP request, a
// Kafka offset range) and reports the outcome exactly once.
//
// NewAck starts with one reference, held by the creator. Every Add(n) must be
// matched by n calls to Done; the creator's own reference is released with one
// more Done. fn runs exactly once, on the goroutine of the last Done, with the
// first non-nil error passed to any Done (nil when all succeeded).
//
// Sinks never see the Ack: the engine calls Done(sink.Write(ctx, view)) per
// destination lane, and it waits for every lane, even after an error, so a
// pooled arena is never reused while a sink still reads it.
type Ack struct {
	refs atomic.Int64
	mu   sync.Mutex
	err  error
	fn   func(err error)
}

// NewAck returns an Ack holding one reference that calls fn when the count
// reaches zero. fn may be nil.
func NewAck(fn func(err error)) *Ack {
	a := &Ack{fn: fn}
	a.refs.Store(1)
	return a
}

// Add adds n references; n must be positive and the Ack must not have fired.
func (a *Ack) Add(n int) {
	if n <= 0 {
		panic("pipeline: Ack.Add with non-positive count")
	}
	if a.refs.Add(int64(n)) <= int64(n) {
		panic("pipeline: Ack.Add after the Ack fired")
	}
}

// Done releases one reference with the outcome of that delivery.
func (a *Ack) Done(err error) {
	if err != nil {
		a.mu.Lock()
		if a.err == nil {
			a.err = err
		}
		a.mu.Unlock()
	}
	switch n := a.refs.Add(-1); {
	case n == 0:
		if a.fn != nil {
			a.mu.Lock()
			err := a.err
			a.mu.Unlock()
			a.fn(err)
		}
	case n < 0:
		panic("pipeline: Ack.Done called more often than Add")
	}
}
