package siem

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/queue"
)

func TestMain(m *testing.M) { testutil.VerifyTestMain(m) }

// logBuffer is a goroutine-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func captureLogs() (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	return slog.New(slog.NewJSONHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

// testEvent is a normalized event with an id.
func testEvent(id int, host string, extra string) string {
	s := fmt.Sprintf(`{"@timestamp":"2026-11-28T00:00:00.123Z","id":"e%06d","event":{"dataset":"crowdstrike.falcon"}`, id)
	if host != "" {
		s += fmt.Sprintf(`,"host":{"name":%q}`, host)
	}
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

const testTime = int64(1795824000123456789) // 2026-11-28T00:00:00.123456789Z

// makeBatch builds a batch of raws, all P1 unless prio is given.
func makeBatch(raws []string, prio pipeline.Priority) *pipeline.Batch {
	b := pipeline.NewBatch()
	now := time.Now().UnixNano()
	for i, r := range raws {
		b.Commit(append(b.Arena(), r...), pipeline.Event{
			Priority: prio, SourceType: "crowdstrike.falcon", Time: testTime, Ingest: now,
			Hash: uint64(i + 1), Rule: -1,
		})
	}
	return b
}

func idRange(from, to int, host string) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, testEvent(i, host, ""))
	}
	return out
}

// openQueue puts a memory queue with fast retries in front of sink, as the
// app does with a disk queue.
func openQueue(t testing.TB, sink pipeline.Sink, log *slog.Logger) (*queue.Queue, *testutil.MemQuarantine) {
	t.Helper()
	dlq := &testutil.MemQuarantine{}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q, err := queue.Open(sink.Name(), queue.Config{
		Mode: "memory", Dir: t.TempDir(), RetryInitial: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		BatchEvents: 500,
	}, sink, dlq, queue.NewMetrics(prometheus.NewRegistry()), log)
	if err != nil {
		t.Fatal(err)
	}
	return q, dlq
}

// pushAll writes raws to q in batches of size n and waits until the queue
// delivered everything.
func pushAll(t testing.TB, q *queue.Queue, raws []string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < len(raws); i += n {
		b := makeBatch(raws[i:min(i+n, len(raws))], pipeline.P1)
		if err := q.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	if err := q.WaitIdle(ctx); err != nil {
		t.Fatalf("queue not drained: %v (pending %d)", err, q.Pending())
	}
}

func counterValue(t testing.TB, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 64)
	c.Collect(ch)
	close(ch)
	sum := 0.0
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		if d.Counter != nil {
			sum += d.Counter.GetValue()
		}
	}
	return sum
}

// histQuantiles returns the count and interpolated quantiles of a
// histogram series.
func histQuantiles(t testing.TB, o prometheus.Observer, qs ...float64) (uint64, []float64) {
	t.Helper()
	var d dto.Metric
	if err := o.(prometheus.Metric).Write(&d); err != nil {
		t.Fatal(err)
	}
	h := d.Histogram
	n := h.GetSampleCount()
	out := make([]float64, len(qs))
	for i, q := range qs {
		rank := q * float64(n)
		prevBound, prevCount := 0.0, 0.0
		out[i] = math.Inf(1)
		for _, b := range h.Bucket {
			c := float64(b.GetCumulativeCount())
			if c >= rank {
				if c == prevCount {
					out[i] = b.GetUpperBound()
				} else {
					out[i] = prevBound + (b.GetUpperBound()-prevBound)*(rank-prevCount)/(c-prevCount)
				}
				break
			}
			prevBound, prevCount = b.GetUpperBound(), c
		}
	}
	return n, out
}

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}
