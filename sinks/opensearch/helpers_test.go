package opensearch

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/logrouter/logrouter/bench/loadgen"
	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
)

func TestMain(m *testing.M) { testutil.VerifyTestMain(m) }

// baseTime is two hours before a UTC midnight, so that batches spread over
// two daily indices.
var baseTime = time.Date(2026, time.November, 28, 22, 0, 0, 0, time.UTC)

// makeBatch returns n realistic loadgen events, one every step from
// baseTime, with their xxhash as Hash (as the normalizer's content hash, it
// is unique per distinct event).
func makeBatch(tb testing.TB, seed int64, n int, step time.Duration) *pipeline.Batch {
	tb.Helper()
	m := loadgen.New(loadgen.Options{Seed: seed})
	b := pipeline.NewBatch()
	var raw []byte
	for i := range n {
		var kind loadgen.Kind
		raw, kind = m.Next(raw[:0])
		p, _ := pipeline.ParsePriority(kind.Priority())
		b.Commit(append(b.Arena(), raw...), pipeline.Event{
			Priority:   p,
			SourceType: kind.SourceType(),
			Time:       baseTime.Add(time.Duration(i) * step).UnixNano(),
			Ingest:     baseTime.Add(time.Duration(i) * step).UnixNano(),
			Hash:       xxhash.Sum64(raw),
			Rule:       -1,
		})
	}
	return b
}

// testNamer returns the index namer of a sink with the given index and
// default limits, logging nowhere.
func testNamer(tb testing.TB, index string) *namer {
	tb.Helper()
	cfg := Config{Index: index}
	cfg.SetDefaults()
	t, err := parseIndexTemplate(cfg.Index)
	if err != nil {
		tb.Fatal(err)
	}
	return newNamer(cfg, t, slog.New(slog.DiscardHandler), nil)
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	srv  *osfake.Server
	sink *Sink
	m    *Metrics
	logs *syncBuffer
}

// newEnv starts a fake cluster and a sink writing to it.
func newEnv(t testing.TB, cfg Config, fakeOpts ...osfake.Option) *env {
	t.Helper()
	srv := osfake.New(fakeOpts...)
	t.Cleanup(srv.Close)
	return newEnvOn(t, srv, cfg)
}

func newEnvOn(t testing.TB, srv *osfake.Server, cfg Config, opts ...Option) *env {
	t.Helper()
	if len(cfg.URLs) == 0 {
		cfg.URLs = []string{srv.URL}
	}
	e := &env{srv: srv, m: NewMetrics(prometheus.NewRegistry()), logs: new(syncBuffer)}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New("os", cfg, append([]Option{WithMetrics(e.m), WithLogger(log)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	e.sink = s
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return e
}

// counts returns the four item outcome counters.
func (e *env) counts() (indexed, conflict, retried, quarantined int) {
	c := func(v *prometheus.CounterVec) int { return int(promtest.ToFloat64(v.WithLabelValues("os"))) }
	return c(e.m.Indexed), c(e.m.ConflictAsDelivered), c(e.m.Retried), c(e.m.Quarantined)
}

// delivery is what the queue-like loop observed.
type delivery struct {
	perm      map[int]pipeline.ItemError // by index in the original batch
	retried   map[int]int                // times each event was reported retryable
	writes    int                        // Write calls
	sent      int                        // events given to Write, all calls together
	retryable int                        // retryable outcomes, all calls together
}

// deliver mimics the durable queue (pipeline/queue deliver): it writes b,
// then writes a view of only the retryable failures again, until none is
// left; permanent failures are set aside (the queue quarantines them).
// between runs after every Write that left retryable items.
func deliver(t testing.TB, s *Sink, b *pipeline.Batch, maxWrites int, between func(round int)) delivery {
	t.Helper()
	d := delivery{perm: map[int]pipeline.ItemError{}, retried: map[int]int{}}
	view := b
	idx := make([]int, len(b.Events))
	for i := range idx {
		idx[i] = i
	}
	var v pipeline.Batch
	ctx := context.Background()
	for round := 0; ; round++ {
		if d.writes == maxWrites {
			t.Fatalf("still %d events to retry after %d writes", len(view.Events), maxWrites)
		}
		err := s.Write(ctx, view)
		d.writes++
		d.sent += len(view.Events)
		if err == nil {
			return d
		}
		var next []pipeline.Event
		var nextIdx []int
		var be *pipeline.BatchError
		switch {
		case errors.As(err, &be):
			seen := map[int]bool{}
			for _, it := range be.Items {
				if it.Index < 0 || it.Index >= len(view.Events) || seen[it.Index] {
					t.Fatalf("BatchError item index %d invalid or repeated (batch of %d)", it.Index, len(view.Events))
				}
				seen[it.Index] = true
				if pipeline.IsPermanent(it.Err) {
					d.perm[idx[it.Index]] = it
					continue
				}
				d.retried[idx[it.Index]]++
				d.retryable++
				next = append(next, view.Events[it.Index])
				nextIdx = append(nextIdx, idx[it.Index])
			}
		case pipeline.IsPermanent(err):
			for i := range view.Events {
				d.perm[idx[i]] = pipeline.ItemError{Index: i, Err: err}
			}
			return d
		default:
			for i := range view.Events {
				d.retried[idx[i]]++
			}
			d.retryable += len(view.Events)
			next, nextIdx = append(next, view.Events...), append(nextIdx, idx...)
		}
		if len(next) == 0 {
			return d
		}
		if between != nil {
			between(round)
		}
		view, idx = b.View(&v, next), nextIdx
	}
}
