package kafkain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil/testengine"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/engine"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// fullQueueSink refuses every batch up front, as pipeline/queue does when
// its queue is full (ErrOverloaded from Admit: a synchronous refusal).
type fullQueueSink struct{ admits atomic.Int64 }

func (s *fullQueueSink) Name() string                                 { return "all" }
func (s *fullQueueSink) Write(context.Context, *pipeline.Batch) error { return nil }
func (s *fullQueueSink) Close(context.Context) error                  { return nil }
func (s *fullQueueSink) Admit(*pipeline.Batch) error {
	s.admits.Add(1)
	return fmt.Errorf("queue full: %w", pipeline.ErrOverloaded)
}

func (s *fullQueueSink) Unadmit(*pipeline.Batch) {}

type failingQuarantine struct{ puts atomic.Int64 }

func (q *failingQuarantine) Put(context.Context, []pipeline.Rejected) error {
	q.puts.Add(1)
	return errors.New("quarantine storage unavailable")
}
func (q *failingQuarantine) Close(context.Context) error { return nil }

func newEngine(t *testing.T, sink pipeline.Sink, q pipeline.Quarantine) *engine.Engine {
	t.Helper()
	return testengine.New(t, "rules: []\n", sink, q, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func newPartition(e *engine.Engine) *partition {
	cfg := Config{CommitInterval: time.Hour}
	cfg.SetDefaults()
	s := &Source{cfg: cfg, eng: e, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	p := &partition{s: s, topic: "t", label: "t/0", notify: make(chan struct{}, 1), w: e.Worker(),
		committed: 5, accepted: 5, lastCommit: time.Now()}
	p.newBatch()
	return p
}

// TestRetryFailedReturnsOnCancel: a rebalance (run canceled) while the
// destination queue is full: the partition goroutine gives up retrying and
// returns, so the group can rebalance, and leaves the batch failed (never
// committed). It used to loop forever, and to spin once ctx was canceled.
func TestRetryFailedReturnsOnCancel(t *testing.T) {
	sink := &fullQueueSink{}
	e := newEngine(t, sink, &failingQuarantine{})
	p := newPartition(e)
	b := pipeline.NewBatch()
	if err := p.w.Add(b, nil, []byte("hello"), &normalize.EventMeta{}); err != nil {
		t.Fatal(err)
	}
	p.inflight = []*flight{{b: b, lo: 5, hi: 5, state: failed, err: pipeline.ErrOverloaded}}
	ctx, cancel := context.WithCancel(context.Background())
	returned := make(chan struct{})
	go func() { p.retryFailed(ctx); close(returned) }()
	time.Sleep(300 * time.Millisecond)
	cancel() // the generation ends (rebalance) or the input shuts down
	before := sink.admits.Load()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatalf("retryFailed did not return within 10s of the cancel; %d emits in those 10s (busy loop)",
			sink.admits.Load()-before)
	}
	if st := p.inflight[0].state; st != failed {
		t.Errorf("flight state %d after the cancel, want failed (%d)", st, failed)
	}
	p.commit(false)
	if p.accepted != 5 {
		t.Errorf("accepted moved to %d past a refused batch", p.accepted)
	}
}

// TestPoisonNotCommittedWhenQuarantineFails: the quarantine is down during a
// rebalance or the drain: flush gives up on the rejects, and their offsets
// must not be committed (they are read again after the rebalance). The
// flight used to be marked done, so the commit moved past records stored
// nowhere and counted nowhere.
func TestPoisonNotCommittedWhenQuarantineFails(t *testing.T) {
	q := &failingQuarantine{}
	e := newEngine(t, &fullQueueSink{}, q)
	p := newPartition(e)
	p.lo, p.hi, p.first = 5, 5, time.Now()
	p.rej = append(p.rej, pipeline.Rejected{Raw: []byte("not json"), Reason: "invalid_json", Detail: "x", Input: "kafka"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // run canceled by a rebalance, or the drain timeout expired
	p.flush(ctx)
	p.commit(false)
	if p.accepted != 5 {
		t.Fatalf("offset 5 (poison record, quarantine failed %d times) counts as accepted: commit would move to %d",
			q.puts.Load(), p.accepted)
	}
}
