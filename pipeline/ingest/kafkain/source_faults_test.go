package kafkain

// Fault tests, from a review: each one failed before the fix of the bug it
// names. They use an in-process Kafka (kfake) like internal/app's Kafka
// tests, and a small engine built here (testengine always uses the default
// engine configuration).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/engine"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/route"
	"github.com/logrouter/logrouter/rules"
)

// faultSink is the destination "all". It records every batch it is given
// (size and the events' bytes). With hold set, Write blocks until Release
// (or its ctx ends); with refuse set it refuses every batch; after Release
// it returns releaseErr (nil: accepted).
type faultSink struct {
	hold, refuse bool
	releaseErr   error

	started chan struct{} // one send per Write begun (buffered)
	release chan struct{}
	relOnce sync.Once

	mu     sync.Mutex
	sizes  []int
	seen   map[string]bool // events' Raw of every Write, accepted or not
	events int             // events accepted
}

func newFaultSink() *faultSink {
	return &faultSink{started: make(chan struct{}, 1<<16), release: make(chan struct{}), seen: map[string]bool{}}
}

func (s *faultSink) Name() string { return "all" }
func (s *faultSink) Write(ctx context.Context, b *pipeline.Batch) error {
	s.mu.Lock()
	s.sizes = append(s.sizes, len(b.Events))
	for _, ev := range b.Events {
		s.seen[string(ev.Raw)] = true
	}
	s.mu.Unlock()
	select {
	case s.started <- struct{}{}:
	default:
	}
	if s.refuse {
		return errors.New("destination down")
	}
	if s.hold {
		select {
		case <-s.release:
			if s.releaseErr != nil {
				return s.releaseErr
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	s.events += len(b.Events)
	s.mu.Unlock()
	return nil
}
func (s *faultSink) Close(context.Context) error { return nil }
func (s *faultSink) Release()                    { s.relOnce.Do(func() { close(s.release) }) }
func (s *faultSink) Events() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events
}

// saw reports whether an event whose Raw contains sub reached the sink.
func (s *faultSink) saw(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for raw := range s.seen {
		if strings.Contains(raw, sub) {
			return true
		}
	}
	return false
}

type faultQuarantine struct{}

func (faultQuarantine) Put(context.Context, []pipeline.Rejected) error { return nil }
func (faultQuarantine) Close(context.Context) error                    { return nil }

var faultLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// faultEngine is testengine.New with an engine configuration of the test's
// choosing.
func faultEngine(t *testing.T, cfg engine.Config, sink pipeline.Sink) *engine.Engine {
	t.Helper()
	return faultEngineQ(t, cfg, sink, faultQuarantine{})
}

// faultEngineQ is faultEngine with a quarantine of the test's choosing.
func faultEngineQ(t *testing.T, cfg engine.Config, sink pipeline.Sink, q pipeline.Quarantine) *engine.Engine {
	t.Helper()
	set, err := rules.Load(fstest.MapFS{"r.yaml": {Data: []byte("rules: []\n")}}, ".", pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	norm, err := normalize.Compile(normalize.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	table, err := route.NewTable([]string{"all"}, nil, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(cfg, &route.Router{Norm: norm, Rules: set, Table: table}, []pipeline.Sink{sink}, q,
		engine.NewMetrics(), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

// faultBroker starts an in-process Kafka with one topic.
func faultBroker(t *testing.T, topic string, partitions int) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(partitions), topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// faultProduce writes values to partition 0 of topic.
func faultProduce(t *testing.T, broker, topic string, values ...[]byte) {
	t.Helper()
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: topic, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond,
		BatchSize: 1000, Transport: tr, Balancer: kafka.BalancerFunc(func(kafka.Message, ...int) int { return 0 })}
	defer w.Close()
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		msgs[i] = kafka.Message{Value: v}
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// faultCommitted returns the group's committed offset of topic/0 (-1: none).
func faultCommitted(t *testing.T, broker, group, topic string) int64 {
	t.Helper()
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 5 * time.Second, Transport: tr}
	off, err := cl.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {0}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range off.Topics[topic] {
		if p.Partition == 0 {
			return p.CommittedOffset
		}
	}
	return -1
}

func faultWait(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func faultConfig(broker, group, topic string) Config {
	return Config{Brokers: []string{broker}, GroupID: group, Topics: []Topic{{Name: topic}},
		BatchWait: 20 * time.Millisecond, CommitInterval: 50 * time.Millisecond,
		SessionTimeout: 6 * time.Second, RebalanceTimeout: 6 * time.Second, HeartbeatInterval: 300 * time.Millisecond,
		DrainTimeout: 5 * time.Second}
}

// TestLatestStartRereadsUncommitted: with start_offset latest, a
// partition the group never committed. Replica A fetches records but the
// destination refuses them; A stops (drain: "their records will be read
// again"), committing nothing. The package promises that what was not
// committed is read again by the next owner. A used to never commit the
// position it started from, so replica B, finding no commit, started at the
// partition's end again ("latest") and the records A fetched and never
// delivered were lost. Expected: B delivers every record A fetched (A now
// commits the first fetched offset of a partition without a commit).
func TestLatestStartRereadsUncommitted(t *testing.T) {
	broker := faultBroker(t, "logs", 1)
	cfg := faultConfig(broker, "g-latest", "logs")
	cfg.StartOffset = "latest"
	cfg.DrainTimeout = 300 * time.Millisecond

	down := newFaultSink()
	down.refuse = true
	a, err := New(cfg, faultEngine(t, engine.Config{}, down), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	faultWait(t, 20*time.Second, "replica A's assignment", func() bool { return a.assigned.Load() > 0 })
	// Produce until A has fetched something (its reader resolves "latest"
	// asynchronously; records before that are rightly skipped).
	var pre []string
	faultWait(t, 20*time.Second, "replica A to fetch a record", func() bool {
		v := fmt.Sprintf(`{"pre":%d}`, len(pre))
		faultProduce(t, broker, "logs", []byte(v))
		pre = append(pre, fmt.Sprintf(`"pre":%d`, len(pre)))
		time.Sleep(100 * time.Millisecond)
		return len(down.started) > 0
	})
	var fetchedByA []string
	for _, p := range pre {
		if down.saw(p) {
			fetchedByA = append(fetchedByA, p)
		}
	}
	if len(fetchedByA) == 0 {
		t.Fatal("replica A handed no record to the destination")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Logf("A shutdown: %v", err)
	}
	t.Logf("replica A fetched %v (refused); committed offset now %d", fetchedByA, faultCommitted(t, broker, "g-latest", "logs"))

	up := newFaultSink()
	b, err := New(cfg, faultEngine(t, engine.Config{}, up), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Shutdown(context.Background())
	faultWait(t, 20*time.Second, "replica B's assignment", func() bool { return b.assigned.Load() > 0 })
	// B is consuming once a fresh record reaches its destination.
	m := 0
	faultWait(t, 20*time.Second, "replica B to deliver a record", func() bool {
		faultProduce(t, broker, "logs", fmt.Appendf(nil, `{"marker":%d}`, m))
		m++
		time.Sleep(100 * time.Millisecond)
		return up.Events() > 0
	})
	time.Sleep(300 * time.Millisecond)
	for _, p := range fetchedByA {
		if !up.saw(p) {
			t.Errorf("record {%s} was fetched by replica A, refused, never committed, and never read again by replica B: lost", p)
		}
	}
}

// TestShutdownHonoursDeadline: Shutdown promises to drain "within
// drain_timeout and ctx" and to report "still draining at the shutdown
// deadline". run returns as soon as ctx is cancelled (cg.Next returns at
// once), so s.done closed before any partition drained; the drain then
// happened inside cg.Close, which waits up to drain_timeout regardless of
// ctx, and s.reapers.Wait() waited for every in-flight Ack with no bound at
// all (here until the engine's 30s write timeout). Shutdown overran its
// deadline and returned nil. Expected: with a destination stuck, Shutdown
// returns soon after ctx ends, with an error.
func TestShutdownHonoursDeadline(t *testing.T) {
	broker := faultBroker(t, "logs", 1)
	sink := newFaultSink()
	sink.hold = true
	defer sink.Release()
	e := faultEngine(t, engine.Config{WriteTimeout: 30 * time.Second}, sink)
	cfg := faultConfig(broker, "g-shutdown", "logs")
	cfg.DrainTimeout, cfg.RebalanceTimeout = 10*time.Second, 15*time.Second
	s, err := New(cfg, e, faultLog)
	if err != nil {
		t.Fatal(err)
	}
	faultProduce(t, broker, "logs", []byte(`{"seq":0}`))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sink.started: // the batch is in flight, its destination stuck
	case <-time.After(20 * time.Second):
		t.Fatal("the record never reached the destination")
	}
	const deadline = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	errc := make(chan error, 1)
	go func() { errc <- s.Shutdown(ctx) }()
	select {
	case err := <-errc:
		if err == nil {
			t.Errorf("Shutdown returned nil after %s with a batch still in flight past its deadline", time.Since(start).Round(time.Millisecond))
		}
	case <-time.After(deadline + 3*time.Second):
		t.Errorf("Shutdown with a %s deadline still running after %s (drain_timeout %s, write timeout 30s)",
			deadline, time.Since(start).Round(time.Millisecond), cfg.DrainTimeout)
		sink.Release() // let it finish
		err := <-errc
		t.Logf("Shutdown returned %v after %s", err, time.Since(start).Round(time.Millisecond))
	}
}

// TestDrainTimeoutBoundsBlockedEmit: drain_timeout "bounds how long a
// rebalance or shutdown waits for in-flight batches". emit handed batches
// to the engine with context.Background(), and Engine.Emit blocks while the
// engine's max_inflight_batches (shared by every input and partition) are
// in flight. With destinations slow, the partition goroutine sat in Emit:
// it neither saw its generation end nor honoured the drain deadline (here
// it waited for the 30s write timeout instead of 300ms), so the whole
// group's rebalance, or the shutdown, stalled. Expected: the drain returns
// about drain_timeout after it began, leaving the unsent batch uncommitted.
func TestDrainTimeoutBoundsBlockedEmit(t *testing.T) {
	sink := newFaultSink()
	sink.hold = true
	sink.releaseErr = errors.New("destination down") // nothing is accepted: no commit (the partition has no generation here)
	defer sink.Release()
	e := faultEngine(t, engine.Config{MaxInflightBatches: 1, WriteTimeout: 30 * time.Second}, sink)
	p := newPartition(e)
	p.s.cfg.DrainTimeout = 300 * time.Millisecond
	add := func(off int64) {
		p.add(&kafka.Message{Topic: "t", Partition: 0, Offset: off, Value: fmt.Appendf(nil, `{"offset":%d}`, off)})
	}
	add(5)
	p.flush(context.Background()) // takes the engine's only slot; the destination holds it
	select {
	case <-sink.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the first batch never reached the destination")
	}
	add(6) // fetched, not flushed yet: the drain flushes it
	start := time.Now()
	drained := make(chan struct{})
	go func() { p.drain(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(3 * time.Second):
		t.Errorf("drain with drain_timeout %s still running after %s: blocked in Engine.Emit (context.Background())",
			p.s.cfg.DrainTimeout, time.Since(start).Round(time.Millisecond))
		sink.Release()
		<-drained
	}
	sink.Release()
	p.s.reapers.Wait()
	if p.accepted != 5 {
		t.Errorf("accepted moved to %d with nothing delivered", p.accepted)
	}
}

// TestBatchWaitBoundsBatchUnderLoad: "BatchEvents and BatchWait bound
// a batch of one partition". The loop used to flush on batch_wait only
// when a fetch timed out (no record for 1ms): while records kept coming (a
// backlog, a steady stream) a batch grew past batch_wait until it reached
// batch_events. Here, with batch_wait 5ms, 30000 records that take far
// longer than 5ms to normalize arrive as one single batch. Expected: a
// batch is flushed once batch_wait has passed since its first record, so no
// batch holds more than a fraction of them.
func TestBatchWaitBoundsBatchUnderLoad(t *testing.T) {
	const n = 30000
	const batchWait = 5 * time.Millisecond
	vals := make([][]byte, n)
	for i := range vals {
		vals[i] = fmt.Appendf(nil, `{"seq":%d,"message":"steady stream"}`, i)
	}
	// Precondition: turning the records into events takes well over batch_wait.
	{
		e := faultEngine(t, engine.Config{}, newFaultSink())
		p := newPartition(e)
		start := time.Now()
		for i, v := range vals {
			p.add(&kafka.Message{Topic: "t", Offset: int64(i), Value: v})
		}
		took := time.Since(start)
		p.b.Release()
		e.PutWorker(p.w)
		if took < 4*batchWait {
			t.Skipf("%d records normalize in %s here: too fast to tell", n, took)
		}
		t.Logf("normalizing %d records takes %s (batch_wait %s)", n, took, batchWait)
	}
	broker := faultBroker(t, "logs", 1)
	faultProduce(t, broker, "logs", vals...)
	sink := newFaultSink()
	cfg := faultConfig(broker, "g-batchwait", "logs")
	cfg.BatchEvents = 1 << 20
	cfg.BatchWait = batchWait
	s, err := New(cfg, faultEngine(t, engine.Config{}, sink), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	faultWait(t, 60*time.Second, "every record delivered", func() bool { return sink.Events() >= n })
	sink.mu.Lock()
	sizes := slices.Clone(sink.sizes)
	sink.mu.Unlock()
	if largest := slices.Max(sizes); largest > n/2 {
		t.Errorf("a batch of %d events (of %d; %d batches) with batch_wait %s: batch_wait does not bound a batch while records keep arriving",
			largest, n, len(sizes), batchWait)
	}
}
