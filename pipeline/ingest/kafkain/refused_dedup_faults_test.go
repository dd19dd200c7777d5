package kafkain

// A Kafka batch refused by the engine, then emitted again
// (retry) or read again (rebalance), with deduplication on.

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/dedup"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

type reviewToggleSink struct {
	mu     sync.Mutex
	refuse bool
	n      int
}

func (s *reviewToggleSink) Name() string { return "all" }
func (s *reviewToggleSink) Write(_ context.Context, b *pipeline.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse {
		return errors.New("destination down")
	}
	s.n += len(b.Events)
	return nil
}
func (s *reviewToggleSink) Close(context.Context) error { return nil }
func (s *reviewToggleSink) set(r bool)                  { s.mu.Lock(); s.refuse = r; s.mu.Unlock() }
func (s *reviewToggleSink) count() int                  { s.mu.Lock(); defer s.mu.Unlock(); return s.n }

func TestKafkaRefusedBatchNotDedupedAgainstItself(t *testing.T) {
	for _, mode := range []string{"retry", "reread"} {
		t.Run(mode, func(t *testing.T) {
			sink := &reviewToggleSink{refuse: true}
			e := newEngine(t, sink, &failingQuarantine{})
			e.EnableDedup(dedup.Config{Enabled: true, Window: time.Minute, MaxBytes: 1 << 20, Scope: "global"})
			p := newPartition(e)
			fill := func() {
				for _, m := range []string{`{"a":1,"@timestamp":"2024-01-01T00:00:00Z"}`, `{"a":2,"@timestamp":"2024-01-01T00:00:00Z"}`, `{"a":1,"@timestamp":"2024-01-01T00:00:00Z"}`} {
					p.open(5)
					p.hi = 5
					if err := p.w.Add(p.b, nil, []byte(m), &normalize.EventMeta{}); err != nil {
						t.Fatal(err)
					}
				}
			}
			fill()
			ctx := context.Background()
			p.flush(ctx)
			deadline := time.Now().Add(5 * time.Second)
			for {
				p.mu.Lock()
				st := p.inflight[0].state
				p.mu.Unlock()
				if st == failed {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("not refused")
				}
				time.Sleep(time.Millisecond)
			}
			sink.set(false)
			if mode == "retry" {
				p.retryFailed(ctx)
			} else {
				// rebalance: the flight is given up, the records read again
				p.inflight = nil
				fill()
				p.flush(ctx)
			}
			for time.Now().Before(deadline) && sink.count() < 2 {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond)
			if n := sink.count(); n != 2 {
				t.Errorf("delivered %d events, want 2 (a:1 once, a:2)", n)
			}
		})
	}
}
