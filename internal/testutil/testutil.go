// Package testutil holds fakes shared by tests: sinks that record, fail or
// stall, and an in-memory quarantine.
package testutil

import (
	"context"
	"sync"

	"github.com/logrouter/logrouter/pipeline"
)

// RecordSink keeps a copy of every event written to it.
type RecordSink struct {
	SinkName string
	// Err, when set, is returned by Write (and nothing is recorded).
	Err error

	mu     sync.Mutex
	events []pipeline.Event
	closed bool
}

// Name implements pipeline.Sink.
func (s *RecordSink) Name() string { return s.SinkName }

// Write implements pipeline.Sink; it copies Raw.
func (s *RecordSink) Write(ctx context.Context, b *pipeline.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return pipeline.ErrClosed
	}
	if s.Err != nil {
		return s.Err
	}
	for _, ev := range b.Events {
		ev.Raw = append([]byte(nil), ev.Raw...)
		s.events = append(s.events, ev)
	}
	return nil
}

// Close implements pipeline.Sink.
func (s *RecordSink) Close(context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

// Events returns a copy of what was written.
func (s *RecordSink) Events() []pipeline.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]pipeline.Event(nil), s.events...)
}

// Drain returns what was written and forgets it (a fuzz target's sink
// would otherwise grow with every input).
func (s *RecordSink) Drain() []pipeline.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	evs := s.events
	s.events = nil
	return evs
}

// DiscardSink accepts everything and keeps nothing (for benchmarks).
type DiscardSink struct{ SinkName string }

// Name implements pipeline.Sink.
func (s DiscardSink) Name() string { return s.SinkName }

// Write implements pipeline.Sink.
func (DiscardSink) Write(context.Context, *pipeline.Batch) error { return nil }

// Close implements pipeline.Sink.
func (DiscardSink) Close(context.Context) error { return nil }

// MemQuarantine keeps rejected records in memory.
type MemQuarantine struct {
	mu   sync.Mutex
	recs []pipeline.Rejected
	err  error
}

// SetErr makes Put fail with err (nil: succeed again).
func (q *MemQuarantine) SetErr(err error) {
	q.mu.Lock()
	q.err = err
	q.mu.Unlock()
}

// Put implements pipeline.Quarantine; it copies Raw.
func (q *MemQuarantine) Put(_ context.Context, recs []pipeline.Rejected) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	for _, r := range recs {
		r.Raw = append([]byte(nil), r.Raw...)
		q.recs = append(q.recs, r)
	}
	return nil
}

// Close implements pipeline.Quarantine.
func (q *MemQuarantine) Close(context.Context) error { return nil }

// Records returns what was quarantined.
func (q *MemQuarantine) Records() []pipeline.Rejected {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]pipeline.Rejected(nil), q.recs...)
}
