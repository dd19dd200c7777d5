package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/logrouter/logrouter/internal/jsonscan"
	tu "github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/dedup"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/route"
	"github.com/logrouter/logrouter/rules"
)

func TestMain(m *testing.M) { tu.VerifyTestMain(m) }

func newEngine(t *testing.T, cfg Config, sinks ...pipeline.Sink) *Engine {
	t.Helper()
	set, err := rules.Load(fstest.MapFS{}, ".", pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	norm, _ := normalize.Compile(normalize.DefaultConfig())
	var names []string
	for _, s := range sinks {
		names = append(names, s.Name())
	}
	// archive gets all; siem P1; opensearch P2
	table, err := route.NewTable(names, map[pipeline.Priority][]string{pipeline.P1: {"siem"}, pipeline.P2: {"opensearch"}}, []string{"archive"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, &route.Router{Norm: norm, Rules: set, Table: table}, sinks, &tu.MemQuarantine{}, NewMetrics(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func batchOf(prios ...pipeline.Priority) *pipeline.Batch {
	b := pipeline.NewBatch()
	b.Meta.Input = "test"
	for i, p := range prios {
		a := append(b.Arena(), byte('a'+i))
		b.Commit(a, pipeline.Event{Priority: p, Rule: -1})
	}
	return b
}

// emit sends b and waits for its Ack; it returns the Ack's error and how
// many times the Ack fired.
func emit(t *testing.T, e *Engine, b *pipeline.Batch) (error, int32) {
	t.Helper()
	var fired atomic.Int32
	done := make(chan error, 2)
	b.Ack = pipeline.NewAck(func(err error) { fired.Add(1); done <- err })
	_ = e.Emit(context.Background(), b)
	err := <-done
	time.Sleep(10 * time.Millisecond) // a second firing would show up here
	return err, fired.Load()
}

func raws(evs []pipeline.Event) string {
	var s []string
	for _, ev := range evs {
		s = append(s, string(ev.Raw))
	}
	return strings.Join(s, "")
}

func TestFanOutByPriority(t *testing.T) {
	arch, siem, os := &tu.RecordSink{SinkName: "archive"}, &tu.RecordSink{SinkName: "siem"}, &tu.RecordSink{SinkName: "opensearch"}
	e := newEngine(t, Config{}, arch, siem, os)
	b := batchOf(pipeline.P1, pipeline.P2, pipeline.P3, pipeline.P1)
	if err, n := emit(t, e, b); err != nil || n != 1 {
		t.Fatalf("err=%v fired=%d", err, n)
	}
	b.Release()
	if raws(arch.Events()) != "abcd" || raws(siem.Events()) != "ad" || raws(os.Events()) != "b" {
		t.Fatalf("archive=%q siem=%q opensearch=%q", raws(arch.Events()), raws(siem.Events()), raws(os.Events()))
	}
	if v := testutil.ToFloat64(e.m.DestEvents.WithLabelValues("siem", "accepted")); v != 2 {
		t.Errorf("siem delivered %v", v)
	}
	if v := testutil.ToFloat64(e.m.PriorityEvts.WithLabelValues("P1")); v != 2 {
		t.Errorf("P1 %v", v)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// slowSink finishes its Write only after release closes.
type slowSink struct {
	name    string
	release chan struct{}
	done    atomic.Bool
}

func (s *slowSink) Name() string { return s.name }
func (s *slowSink) Write(ctx context.Context, b *pipeline.Batch) error {
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.done.Store(true)
	return nil
}
func (s *slowSink) Close(context.Context) error { return nil }

// TestAckWaitsForEveryLaneEvenAfterAnError: a failing lane must not fire the
// Ack while another lane still reads the batch.
func TestAckWaitsForEveryLaneEvenAfterAnError(t *testing.T) {
	slow := &slowSink{name: "archive", release: make(chan struct{})}
	failing := &tu.RecordSink{SinkName: "siem", Err: errors.New("siem down")}
	e := newEngine(t, Config{}, slow, failing, &tu.RecordSink{SinkName: "opensearch"})
	b := batchOf(pipeline.P1)
	done := make(chan error, 1)
	b.Ack = pipeline.NewAck(func(err error) {
		if !slow.done.Load() {
			t.Error("Ack fired while the archive lane was still writing")
		}
		done <- err
	})
	_ = e.Emit(context.Background(), b)
	select {
	case <-done:
		t.Fatal("Ack fired early")
	case <-time.After(50 * time.Millisecond):
	}
	close(slow.release)
	if err := <-done; err == nil || !strings.Contains(err.Error(), "siem down") {
		t.Fatalf("err = %v", err)
	}
	if v := testutil.ToFloat64(e.m.DestEvents.WithLabelValues("siem", "refused")); v != 1 {
		t.Errorf("siem failed %v", v)
	}
	b.Release()
	_ = e.Close(context.Background())
}

func TestEmptyBatchAndNoLanes(t *testing.T) {
	e := newEngine(t, Config{}, &tu.RecordSink{SinkName: "archive"}, &tu.RecordSink{SinkName: "siem"}, &tu.RecordSink{SinkName: "opensearch"})
	if err, n := emit(t, e, batchOf()); err != nil || n != 1 {
		t.Fatalf("err=%v fired=%d", err, n)
	}
	_ = e.Close(context.Background())
}

func TestCloseWaitsThenRefuses(t *testing.T) {
	slow := &slowSink{name: "archive", release: make(chan struct{})}
	e := newEngine(t, Config{}, slow, &tu.RecordSink{SinkName: "siem"}, &tu.RecordSink{SinkName: "opensearch"})
	b := batchOf(pipeline.P3)
	acked := make(chan error, 1)
	b.Ack = pipeline.NewAck(func(err error) { acked <- err })
	_ = e.Emit(context.Background(), b)
	closed := make(chan error, 1)
	go func() { closed <- e.Close(context.Background()) }()
	select {
	case <-closed:
		t.Fatal("Close returned with a batch in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(slow.release)
	if err := <-acked; err != nil {
		t.Fatal(err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	b.Release()
	late := batchOf(pipeline.P1)
	if err, n := emit(t, e, late); !errors.Is(err, ErrShuttingDown) || n != 1 {
		t.Fatalf("after Close: err=%v fired=%d", err, n)
	}
}

func TestCloseDeadlineAbortsStuckWrites(t *testing.T) {
	stuck := &slowSink{name: "archive", release: make(chan struct{})}
	e := newEngine(t, Config{}, stuck, &tu.RecordSink{SinkName: "siem"}, &tu.RecordSink{SinkName: "opensearch"})
	b := batchOf(pipeline.P3)
	acked := make(chan error, 1)
	b.Ack = pipeline.NewAck(func(err error) { acked <- err })
	_ = e.Emit(context.Background(), b)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := e.Close(ctx); err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Fatalf("Close: %v", err)
	}
	if err := <-acked; err == nil {
		t.Fatal("a write aborted by shutdown was acknowledged")
	}
	b.Release()
}

func TestInflightBound(t *testing.T) {
	slow := &slowSink{name: "archive", release: make(chan struct{})}
	e := newEngine(t, Config{MaxInflightBatches: 1}, slow, &tu.RecordSink{SinkName: "siem"}, &tu.RecordSink{SinkName: "opensearch"})
	first := batchOf(pipeline.P3)
	first.Ack = pipeline.NewAck(nil)
	_ = e.Emit(context.Background(), first)
	second := batchOf(pipeline.P3)
	acked := make(chan error, 1)
	second.Ack = pipeline.NewAck(func(err error) { acked <- err })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := e.Emit(ctx, second); err == nil {
		t.Fatal("Emit did not block at max_inflight_batches")
	}
	if err := <-acked; err == nil {
		t.Fatal("the refused batch's Ack did not report the error")
	}
	close(slow.release)
	_ = e.Close(context.Background())
	first.Release()
	second.Release()
}

// BenchmarkEmit measures the engine's per-batch overhead (counting,
// splitting into three lanes, one goroutine per lane, the Ack) for batches of
// 1000 events with sinks that discard.
func BenchmarkEmit(b *testing.B) {
	sinks := []pipeline.Sink{tu.DiscardSink{SinkName: "archive"}, tu.DiscardSink{SinkName: "siem"}, tu.DiscardSink{SinkName: "opensearch"}}
	t := &testing.T{}
	e := newEngine(t, Config{}, sinks...)
	prios := make([]pipeline.Priority, 1000)
	for i := range prios {
		prios[i] = pipeline.Priorities[i%3]
	}
	batch := batchOf(prios...)
	done := make(chan error, 1)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		batch.Ack = pipeline.NewAck(func(err error) { done <- err })
		_ = e.Emit(context.Background(), batch)
		<-done
	}
	b.ReportMetric(float64(b.N*len(prios))/b.Elapsed().Seconds(), "events/s")
	b.StopTimer()
	_ = e.Close(context.Background())
}

func TestDedupDropsRepeatsButNotRefusedBatches(t *testing.T) {
	arch := &tu.RecordSink{SinkName: "archive"}
	siem, os := &tu.RecordSink{SinkName: "siem"}, &tu.RecordSink{SinkName: "opensearch"}
	e := newEngine(t, Config{}, arch, siem, os)
	e.EnableDedup(dedup.Config{Enabled: true, Window: time.Minute, MaxBytes: 1 << 20, Scope: "global"})
	mk := func() *pipeline.Batch {
		b := pipeline.NewBatch()
		b.Meta.Input = "test"
		for i, key := range []uint64{1, 2, 3} {
			a := append(b.Arena(), byte('a'+i))
			b.Commit(a, pipeline.Event{Priority: pipeline.P3, Rule: -1, Key: key, SourceType: "st"})
		}
		return b
	}
	// Refused first: the resent copy must not be taken for a duplicate.
	arch.Err = errors.New("down")
	if err, _ := emit(t, e, mk()); err == nil {
		t.Fatal("expected the refusal")
	}
	arch.Err = nil
	if err, _ := emit(t, e, mk()); err != nil {
		t.Fatal(err)
	}
	if n := len(arch.Events()); n != 3 {
		t.Fatalf("archive got %d events after the resend, want 3", n)
	}
	// Accepted once: a repeat is dropped, counted per source type and input.
	if err, _ := emit(t, e, mk()); err != nil {
		t.Fatal(err)
	}
	if n := len(arch.Events()); n != 3 {
		t.Fatalf("archive got %d events, the repeat was not dropped", n)
	}
	if v := testutil.ToFloat64(e.m.DedupSource.WithLabelValues("st")); v != 3 {
		t.Errorf("suppressed %v", v)
	}
	if v := testutil.ToFloat64(e.m.InputDedup.WithLabelValues("test")); v != 3 {
		t.Errorf("input deduplicated %v", v)
	}
	_ = e.Close(context.Background())
}

// TestDedupReachGauge: logrouter_dedup_reach_seconds says how far back the
// set remembers, from the engine's clock.
func TestDedupReachGauge(t *testing.T) {
	arch := &tu.RecordSink{SinkName: "archive"}
	e := newEngine(t, Config{}, arch, &tu.RecordSink{SinkName: "siem"}, &tu.RecordSink{SinkName: "opensearch"})
	e.EnableDedup(dedup.Config{Enabled: true, Window: time.Minute, MaxBytes: 1 << 20, Scope: "priority"})
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	e.now = func() time.Time { return now }
	for i := range 3 {
		if err, _ := emit(t, e, keyedBatch(uint64(10*i+1), uint64(10*i+2))); err != nil {
			t.Fatal(err)
		}
		now = now.Add(5 * time.Second)
	}
	// Keys were added at +0s, +5s and +10s; the gauge was last set at +10s.
	if v := testutil.ToFloat64(e.m.DedupReach); v != 10 {
		t.Errorf("reach %v s, want 10", v)
	}
	_ = e.Close(context.Background())
}

// keyedBatch is a P3 batch of {"k":N} events with dedup keys N.
func keyedBatch(keys ...uint64) *pipeline.Batch {
	b := pipeline.NewBatch()
	b.Meta.Input = "test"
	for _, key := range keys {
		a := fmt.Appendf(b.Arena(), `{"k":%d}`, key)
		b.Commit(a, pipeline.Event{Priority: pipeline.P3, Rule: -1, Key: key, SourceType: "st"})
	}
	return b
}

// countingEngine returns an engine with dedup and count_field on (a
// one-minute window), its archive sink, and the clock it reads, which the
// test moves.
func countingEngine(t *testing.T) (*Engine, *tu.RecordSink, *time.Time) {
	t.Helper()
	arch := &tu.RecordSink{SinkName: "archive"}
	e := newEngine(t, Config{}, arch, &tu.RecordSink{SinkName: "siem"}, &tu.RecordSink{SinkName: "opensearch"})
	e.EnableDedup(dedup.Config{Enabled: true, Window: time.Minute, MaxBytes: 1 << 20, Scope: "global", CountField: "dedup.count"})
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	e.now = func() time.Time { return now }
	return e, arch, &now
}

// TestDedupWithinBatchAndCountField: repeats inside one batch are dropped
// too; with count_field the kept copy of a batch carries how many repeats
// its batch dropped, and the first copy kept after a window how many later
// batches dropped.
func TestDedupWithinBatchAndCountField(t *testing.T) {
	e, arch, now := countingEngine(t)
	mk := keyedBatch
	if err, _ := emit(t, e, mk(1, 2, 1, 1, 3)); err != nil {
		t.Fatal(err)
	}
	if n := len(arch.Events()); n != 3 {
		t.Fatalf("archive got %d events, want 3 (two repeats inside the batch)", n)
	}
	for i := 0; i < 4; i++ { // four repeats of key 1 within the window
		*now = now.Add(10 * time.Second)
		if err, _ := emit(t, e, mk(1)); err != nil {
			t.Fatal(err)
		}
	}
	*now = now.Add(2 * time.Minute)
	if err, _ := emit(t, e, mk(1, 2)); err != nil {
		t.Fatal(err)
	}
	evs := arch.Events()
	if len(evs) != 5 {
		t.Fatalf("archive got %d events, want 5", len(evs))
	}
	// The 2 repeats inside the first batch are on its kept copy (known
	// then: a one-off burst must deliver its count); the copy after the
	// window carries the 4 of later batches.
	if got := string(evs[0].Raw); got != `{"k":1,"dedup":{"count":2}}` {
		t.Errorf("kept copy of a batch with 2 repeats: %s", got)
	}
	if got := string(evs[3].Raw); got != `{"k":1,"dedup":{"count":4}}` {
		t.Errorf("kept copy after the window: %s", got)
	}
	if got := string(evs[4].Raw); got != `{"k":2}` {
		t.Errorf("key without repeats: %s", got)
	}
	_ = e.Close(context.Background())
}

// TestRefusedBatchEmittedAgainKeepsTheLedger: syslog and Kafka hold a
// refused batch and emit the same one again, after deduplication removed
// its repeats in place. Input minus refused must still equal deduplicated
// plus delivered, and the count field must not be added twice.
func TestRefusedBatchEmittedAgainKeepsTheLedger(t *testing.T) {
	e, arch, now := countingEngine(t)
	mk := keyedBatch
	// Key 1 gets a repeat count carried past its window.
	if err, _ := emit(t, e, mk(1)); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(10 * time.Second)
	if err, _ := emit(t, e, mk(1)); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(2 * time.Minute)
	// One batch: key 1 (carries count 1), key 2 twice. Refused, then the
	// same object emitted again.
	b := mk(1, 2, 2)
	arch.Err = errors.New("down")
	if err, _ := emit(t, e, b); err == nil {
		t.Fatal("expected the refusal")
	}
	arch.Err = nil
	if err, _ := emit(t, e, b); err != nil {
		t.Fatal(err)
	}
	evs := arch.Events()
	if len(evs) != 3 {
		t.Fatalf("archive got %d events, want 3", len(evs))
	}
	if got := string(evs[1].Raw); got != `{"k":1,"dedup":{"count":1}}` {
		t.Errorf("re-emitted event with a count: %s", got)
	}
	in := testutil.ToFloat64(e.m.InputEvents.WithLabelValues("test"))
	refused := testutil.ToFloat64(e.m.InputRefused.WithLabelValues("test"))
	deduped := testutil.ToFloat64(e.m.InputDedup.WithLabelValues("test"))
	if delivered := float64(len(evs)); in-refused != deduped+delivered {
		t.Errorf("ledger: input %v - refused %v != deduplicated %v + delivered %v", in, refused, deduped, delivered)
	}
	_ = e.Close(context.Background())
}

// TestDedupPriorities: with dedup.priorities [P2, P3], repeated P1 events
// all go through (neither dropped nor remembered) while repeated P2 events
// are dropped, in both scopes.
func TestDedupPriorities(t *testing.T) {
	for _, scope := range []string{"global", "priority"} {
		t.Run(scope, func(t *testing.T) {
			arch := &tu.RecordSink{SinkName: "archive"}
			e := newEngine(t, Config{}, arch, &tu.RecordSink{SinkName: "siem"}, &tu.RecordSink{SinkName: "opensearch"})
			cfg := dedup.Config{Enabled: true, Window: time.Minute, MaxBytes: 1 << 20, Scope: scope, Priorities: []string{"P2", "p3"}}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			e.EnableDedup(cfg)
			mk := func() *pipeline.Batch {
				b := pipeline.NewBatch()
				b.Meta.Input = "test"
				for _, p := range []pipeline.Priority{pipeline.P1, pipeline.P1, pipeline.P2, pipeline.P2} {
					a := fmt.Appendf(b.Arena(), `{"p":%d}`, p)
					b.Commit(a, pipeline.Event{Priority: p, Rule: -1, Key: uint64(p), SourceType: "st"})
				}
				return b
			}
			for range 2 {
				if err, _ := emit(t, e, mk()); err != nil {
					t.Fatal(err)
				}
			}
			var p1, p2 int
			for _, ev := range arch.Events() {
				switch ev.Priority {
				case pipeline.P1:
					p1++
				case pipeline.P2:
					p2++
				}
			}
			if p1 != 4 || p2 != 1 {
				t.Errorf("archive got %d P1 and %d P2 events, want 4 (never deduplicated) and 1", p1, p2)
			}
			_ = e.Close(context.Background())
		})
	}
}

func TestDedupConfigPriorities(t *testing.T) {
	for _, tc := range []struct {
		prios []string
		err   string
	}{
		{nil, ""},
		{[]string{"P1", "P2", "P3"}, ""},
		{[]string{"P4"}, `dedup.priorities[0]: invalid priority "P4"`},
		{[]string{"P2", "p2"}, "dedup.priorities[1]: P2 is listed twice"},
		{[]string{}, "dedup.priorities: empty"},
	} {
		cfg := dedup.Config{Enabled: true, Priorities: tc.prios}
		cfg.SetDefaults()
		err := cfg.Validate()
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%v: error %v, want %q", tc.prios, err, tc.err)
		}
	}
	cfg := dedup.Config{Priorities: []string{"P3"}}
	if cfg.Covers(pipeline.P1) || !cfg.Covers(pipeline.P3) || !cfg.Covers(pipeline.PriorityNone) {
		t.Error("Covers: P3 only should cover P3 and none, not P1")
	}
}

// TestUnroutedCounted: events of a priority routed nowhere (no route of
// its own, no "all" destination) are acknowledged and dropped; they used to
// vanish without a count. They are counted as dropped with reason
// no_destination, and New warns at start.
func TestUnroutedCounted(t *testing.T) {
	set, err := rules.Load(fstest.MapFS{}, ".", pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	norm, _ := normalize.Compile(normalize.DefaultConfig())
	siem := &tu.RecordSink{SinkName: "siem"}
	table, err := route.NewTable([]string{"siem"}, map[pipeline.Priority][]string{pipeline.P1: {"siem"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	e, err := New(Config{}, &route.Router{Norm: norm, Rules: set, Table: table}, []pipeline.Sink{siem}, &tu.MemQuarantine{}, NewMetrics(), slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err, _ := emit(t, e, batchOf(pipeline.P1, pipeline.P2, pipeline.P3, pipeline.P3)); err != nil {
		t.Fatal(err)
	}
	if n := len(siem.Events()); n != 1 {
		t.Errorf("siem got %d events, want the P1 one", n)
	}
	if v := testutil.ToFloat64(e.m.Dropped.WithLabelValues("route", "no_destination")); v != 3 {
		t.Errorf("dropped no_destination %v, want 3", v)
	}
	if !strings.Contains(logged.String(), "priority=P2") || !strings.Contains(logged.String(), "priority=P3") {
		t.Errorf("no start-up warning for the unrouted priorities: %s", logged.String())
	}
	_ = e.Close(context.Background())
}

// TestDedupCounterBounded: source types are chosen by senders; the cache of
// per-source-type counters used to grow with every new one (only the label
// was capped).
func TestDedupCounterBounded(t *testing.T) {
	e := newEngine(t, Config{}, &tu.RecordSink{SinkName: "archive"}, &tu.RecordSink{SinkName: "siem"}, &tu.RecordSink{SinkName: "opensearch"})
	e.EnableDedup(dedup.Config{Enabled: true, Window: time.Minute, MaxBytes: 1 << 20, Scope: "global"})
	for i := range 3 * maxDedupSourceTypes {
		e.dedupCounter(fmt.Sprintf("st-%d", i)).Inc()
	}
	if n := len(e.dedupCtr); n > maxDedupSourceTypes {
		t.Errorf("%d source types cached, want at most %d", n, maxDedupSourceTypes)
	}
	if v := testutil.ToFloat64(e.m.DedupSource.WithLabelValues("other")); v != 2*maxDedupSourceTypes {
		t.Errorf("other = %v, want %d", v, 2*maxDedupSourceTypes)
	}
	_ = e.Close(context.Background())
}

// TestAppendCount: the count goes into the event's own objects on its
// path; it used to be appended as a second top-level "dedup" member when
// the event had a "dedup" object, and skipped when "dedup":{"count": was
// anywhere in the event.
func TestAppendCount(t *testing.T) {
	p := jsonscan.NewPath("dedup", "count")
	for in, want := range map[string]string{
		`{"k":1}`:                                 `{"k":1,"dedup":{"count":3}}`,
		`{}`:                                      `{"dedup":{"count":3}}`,
		`{"dedup":{"id":"abc"},"k":1}`:            `{"dedup":{"id":"abc","count":3},"k":1}`,
		`{"dedup":{},"k":1}`:                      `{"dedup":{"count":3},"k":1}`,
		`{"a":{"dedup":{"count":1}},"k":"}"}`:     `{"a":{"dedup":{"count":1}},"k":"}","dedup":{"count":3}}`,
		`{"dedup":{"count":5}}`:                   `{"dedup":{"count":5}}`, // already there: emitted again
		`{"dedup":"x","k":1}`:                     `{"dedup":"x","k":1}`,   // a scalar in the way
		`{"s":"a\"}b","n":[1,{"x":[]}],"t":true}`: `{"s":"a\"}b","n":[1,{"x":[]}],"t":true,"dedup":{"count":3}}`,
		`not json`:                                `not json`,
	} {
		if got := string(p.AppendWith(nil, []byte(in), 3)); got != want {
			t.Errorf("%s:\n got %s\nwant %s", in, got, want)
		}
	}
	deep := jsonscan.NewPath("a", "b", "c")
	if got := string(deep.AppendWith(nil, []byte(`{"a":{"x":1}}`), 7)); got != `{"a":{"x":1,"b":{"c":7}}}` {
		t.Errorf("three levels: %s", got)
	}
}

// FuzzAppendCount: for any JSON object, the result is a JSON object with
// no duplicate member on the count's path, and the count is there unless
// the event already had the field or a scalar on its path.
func FuzzAppendCount(f *testing.F) {
	for _, s := range []string{`{"k":1}`, `{"dedup":{"id":"abc"},"k":1}`, `{"dedup":"x"}`, `{"a":[{"dedup":{}}],"b":"\"}"}`, `{ "dedup" : { } }`} {
		f.Add(s)
	}
	p := jsonscan.NewPath("dedup", "count")
	f.Fuzz(func(t *testing.T, in string) {
		var v map[string]any
		if json.Unmarshal([]byte(in), &v) != nil {
			return
		}
		out := p.AppendWith(nil, []byte(in), 3)
		var w map[string]any
		if err := json.Unmarshal(out, &w); err != nil {
			t.Fatalf("%s -> invalid JSON %s: %v", in, out, err)
		}
		if string(out) == in {
			return
		}
		d, ok := w["dedup"].(map[string]any)
		if !ok || d["count"] != float64(3) {
			t.Fatalf("%s -> %s: no dedup.count", in, out)
		}
	})
}
