package pipeline

import (
	"context"
	"sync"
)

// Gate is the Write/Close discipline of a Sink: Writes are admitted until
// Close, and Close releases the sink's resources only once every admitted
// Write has returned, waiting for that at most as long as its ctx allows.
// The zero value is open.
//
//	func (s *Sink) Write(ctx context.Context, b *pipeline.Batch) error {
//		if !s.gate.Enter() {
//			return pipeline.ErrClosed
//		}
//		defer s.gate.Exit()
//		...
//	}
type Gate struct {
	mu       sync.Mutex
	closed   bool
	inflight sync.WaitGroup
	once     sync.Once
	done     chan struct{}
	err      error
}

// Enter admits one Write and reports true, or reports false after Close.
// Every true must be paired with one Exit.
func (g *Gate) Enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.inflight.Add(1)
	return true
}

// Exit ends a Write that Enter admitted.
func (g *Gate) Exit() { g.inflight.Done() }

// Close stops admitting Writes. The first call runs release in the
// background once the admitted Writes have returned; every call waits for
// release and returns its error, or returns ctx's error if ctx ends first
// (release then still runs to completion). Idempotent.
func (g *Gate) Close(ctx context.Context, release func() error) error {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.once.Do(func() {
		g.done = make(chan struct{})
		go func() {
			g.inflight.Wait()
			g.err = release()
			close(g.done)
		}()
	})
	select {
	case <-g.done:
		return g.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
