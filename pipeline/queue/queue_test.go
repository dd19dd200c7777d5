package queue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	tu "github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

func TestMain(m *testing.M) { tu.VerifyTestMain(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeSink records what it is given and fails on demand.
type fakeSink struct {
	mu     sync.Mutex
	got    []string // Raw of delivered events, in order
	fail   func(b *pipeline.Batch) error
	closed bool
}

func (s *fakeSink) Name() string { return "dest" }
func (s *fakeSink) Write(ctx context.Context, b *pipeline.Batch) error {
	s.mu.Lock()
	f := s.fail
	s.mu.Unlock()
	var err error
	if f != nil {
		err = f(b)
	}
	var be *pipeline.BatchError
	failed := map[int]bool{}
	if errors.As(err, &be) {
		for _, it := range be.Items {
			failed[it.Index] = true
		}
	} else if err != nil {
		return err
	}
	s.mu.Lock()
	for i, ev := range b.Events {
		if !failed[i] {
			s.got = append(s.got, string(ev.Raw))
		}
	}
	s.mu.Unlock()
	return err
}
func (s *fakeSink) Close(context.Context) error { s.closed = true; return nil }
func (s *fakeSink) setFail(f func(b *pipeline.Batch) error) {
	s.mu.Lock()
	s.fail = f
	s.mu.Unlock()
}
func (s *fakeSink) delivered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

type env struct {
	t    *testing.T
	fs   wal.FS
	cfg  Config
	sink *fakeSink
	dlq  *tu.MemQuarantine
	m    *Metrics
	reg  *prometheus.Registry
	q    *Queue
}

func newEnv(t *testing.T, fs wal.FS, cfg Config) *env {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.RetryInitial == 0 {
		cfg.RetryInitial, cfg.RetryMax = time.Millisecond, 5*time.Millisecond
	}
	e := &env{t: t, fs: fs, cfg: cfg, sink: &fakeSink{}, dlq: &tu.MemQuarantine{}}
	e.reg = prometheus.NewRegistry()
	e.m = NewMetrics(e.reg)
	e.open()
	return e
}

func (e *env) open() {
	e.t.Helper()
	q, err := open("dest", e.cfg, e.fs, e.sink, e.dlq, e.m, quiet)
	if err != nil {
		e.t.Fatal(err)
	}
	e.q = q
}

// reopen closes the queue (cursors saved) and opens it again with fresh
// metrics, as a restart does.
func (e *env) reopen() {
	e.t.Helper()
	e.close()
	e.reg = prometheus.NewRegistry()
	e.m = NewMetrics(e.reg)
	e.open()
}

func (e *env) close() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.q.Close(ctx); err != nil {
		e.t.Fatal(err)
	}
}

var seq atomic.Int64

// batch makes a batch of events with the given priorities; Raw is "e<n>".
func batch(prios ...pipeline.Priority) *pipeline.Batch {
	b := pipeline.NewBatch()
	for _, p := range prios {
		n := seq.Add(1)
		raw := fmt.Sprintf(`{"seq":%d}`, n)
		b.Commit(append(b.Arena(), raw...), pipeline.Event{Priority: p, Time: n, Ingest: 7, Hash: uint64(n), SourceType: "st", Rule: -1})
	}
	return b
}

func (e *env) write(prios ...pipeline.Priority) ([]string, error) {
	b := batch(prios...)
	defer b.Release()
	var raws []string
	for _, ev := range b.Events {
		raws = append(raws, string(ev.Raw))
	}
	return raws, e.q.Write(context.Background(), b)
}

func (e *env) waitIdle() {
	e.t.Helper()
	// Generous: WaitIdle returns as soon as the queue is empty; the
	// deadline only bounds a test that would fail anyway (fsyncs under
	// -race on a loaded CI machine are slow).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.q.WaitIdle(ctx); err != nil {
		e.t.Fatalf("queue did not drain: %d pending", e.q.Pending())
	}
}

func (e *env) val(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }

// ledger checks accepted + recovered = delivered + quarantined + dropped + lost + queued.
func (e *env) ledger() (acc, rec, del, quar, drop, lost, queued float64) {
	e.t.Helper()
	sum := func(v *prometheus.CounterVec) float64 {
		var t float64
		ch := make(chan prometheus.Metric, 16)
		go func() { v.Collect(ch); close(ch) }()
		for m := range ch {
			t += testutil.ToFloat64(m.(prometheus.Collector))
		}
		return t
	}
	acc, rec, del = e.val(e.m.Accepted), e.val(e.m.Recovered), e.val(e.m.Delivered)
	quar, drop, lost = sum(e.m.Quarantined), sum(e.m.Dropped), sum(e.m.Lost)
	for _, p := range pipeline.Priorities {
		queued += e.val(e.m.Queued.WithLabelValues("dest", p.String()))
	}
	if acc+rec != del+quar+drop+lost+queued {
		e.t.Errorf("ledger does not balance: accepted %v + recovered %v != delivered %v + quarantined %v + dropped %v + lost %v + queued %v",
			acc, rec, del, quar, drop, lost, queued)
	}
	return
}

func TestDeliversEverythingAndBalances(t *testing.T) {
	e := newEnv(t, wal.OS, Config{})
	var want []string
	for i := 0; i < 50; i++ {
		r, err := e.write(pipeline.P1, pipeline.P2, pipeline.P3, pipeline.P3)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, r...)
	}
	e.waitIdle()
	got := e.sink.delivered()
	if len(got) != len(want) {
		t.Fatalf("delivered %d of %d", len(got), len(want))
	}
	acc, _, del, _, _, _, q := e.ledger()
	if acc != 200 || del != 200 || q != 0 {
		t.Errorf("accepted %v delivered %v queued %v", acc, del, q)
	}
	e.close()
	if !e.sink.closed {
		t.Error("destination not closed")
	}
}

// TestP1DrainsFirst: P1 written while P3 batches wait takes the first
// delivery slot that frees up. All max_in_flight slots hold P3 batches
// blocked in the destination; P1 arrives; one slot is released: the next
// batch the destination sees is the P1 one.
func TestP1DrainsFirst(t *testing.T) {
	for _, inFlight := range []int{1, 4} {
		t.Run(fmt.Sprintf("max_in_flight=%d", inFlight), func(t *testing.T) {
			e := newEnv(t, wal.OS, Config{BatchEvents: 10, MaxInFlight: inFlight})
			release := make(chan struct{}, 1)
			var mu sync.Mutex
			var entered []pipeline.Priority // first event's priority of each Write, in order
			e.sink.setFail(func(b *pipeline.Batch) error {
				mu.Lock()
				entered = append(entered, b.Events[0].Priority)
				mu.Unlock()
				<-release
				return nil
			})
			waitEntered := func(n int) {
				t.Helper()
				for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
					mu.Lock()
					got := len(entered)
					mu.Unlock()
					if got >= n {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("%d deliveries started, want %d", got, n)
					}
				}
			}
			for i := 0; i < 2*inFlight+4; i++ {
				_, _ = e.write(pipeline.P3, pipeline.P3, pipeline.P3, pipeline.P3, pipeline.P3, pipeline.P3, pipeline.P3, pipeline.P3, pipeline.P3, pipeline.P3)
			}
			waitEntered(inFlight) // every slot holds a P3 batch
			if g := e.val(e.m.InFlight.WithLabelValues("dest")); g != float64(inFlight) {
				t.Errorf("deliveries_in_flight %v with every slot busy, want %d", g, inFlight)
			}
			if _, err := e.write(pipeline.P1, pipeline.P1); err != nil {
				t.Fatal(err)
			}
			release <- struct{}{} // one P3 delivery finishes
			waitEntered(inFlight + 1)
			mu.Lock()
			next := entered[inFlight]
			mu.Unlock()
			if next != pipeline.P1 {
				t.Errorf("after a slot freed the destination got a %s batch, want P1 (order %v)", next, entered)
			}
			close(release)
			e.waitIdle()
			e.ledger()
			e.close()
			if g := e.val(e.m.InFlight.WithLabelValues("dest")); g != 0 {
				t.Errorf("deliveries_in_flight %v after Close", g)
			}
		})
	}
}

func TestDestinationDownThenBack(t *testing.T) {
	e := newEnv(t, wal.OS, Config{})
	var mu sync.Mutex
	down := true
	e.sink.setFail(func(*pipeline.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return errors.New("connection refused")
		}
		return nil
	})
	var want []string
	for i := 0; i < 20; i++ {
		r, err := e.write(pipeline.P2, pipeline.P3)
		if err != nil {
			t.Fatal(err) // the queue accepts while the destination is down
		}
		want = append(want, r...)
	}
	// Wait for the first failed attempt (a fixed sleep was too short for a
	// forwarder starved on a loaded machine).
	for deadline := time.Now().Add(10 * time.Second); e.val(e.m.Retries) == 0 && time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
	}
	if len(e.sink.delivered()) != 0 || e.val(e.m.Retries) == 0 {
		t.Fatalf("delivered %d, retries %v", len(e.sink.delivered()), e.val(e.m.Retries))
	}
	mu.Lock()
	down = false
	mu.Unlock()
	e.waitIdle()
	if got := e.sink.delivered(); len(got) != len(want) {
		t.Fatalf("delivered %d of %d", len(got), len(want))
	}
	_, _, _, quar, drop, _, _ := e.ledger()
	if quar != 0 || drop != 0 {
		t.Errorf("a retry was counted as a loss: quarantined %v dropped %v", quar, drop)
	}
	e.close()
}

func TestPermanentAndPartialFailures(t *testing.T) {
	e := newEnv(t, wal.OS, Config{})
	var mu sync.Mutex
	attempts := 0
	e.sink.setFail(func(b *pipeline.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if attempts == 1 { // 4 events: #0 mapping error, #1 429 (retry), #2, #3 ok
			return &pipeline.BatchError{Items: []pipeline.ItemError{
				{Index: 0, Status: 400, Err: pipeline.Permanentf("mapper_parsing_exception")},
				{Index: 1, Status: 429, Err: errors.New("es_rejected_execution_exception")},
			}}
		}
		return nil
	})
	raws, err := e.write(pipeline.P2, pipeline.P2, pipeline.P2, pipeline.P2)
	if err != nil {
		t.Fatal(err)
	}
	e.waitIdle()
	got := strings.Join(e.sink.delivered(), ",")
	if got != raws[2]+","+raws[3]+","+raws[1] {
		t.Errorf("delivered %s", got)
	}
	recs := e.dlq.Records()
	if len(recs) != 1 || string(recs[0].Raw) != raws[0] || recs[0].Destination != "dest" || recs[0].Status != 400 || !strings.Contains(recs[0].Detail, "mapper_parsing") {
		t.Errorf("quarantine %+v", recs)
	}
	_, _, del, quar, _, _, _ := e.ledger()
	if del != 3 || quar != 1 {
		t.Errorf("delivered %v quarantined %v", del, quar)
	}
	// A whole batch refused permanently goes to quarantine, not into a retry loop.
	e.sink.setFail(func(*pipeline.Batch) error { return pipeline.Permanentf("403 forbidden") })
	_, _ = e.write(pipeline.P1, pipeline.P3)
	e.waitIdle()
	if len(e.dlq.Records()) != 3 {
		t.Errorf("quarantine has %d records", len(e.dlq.Records()))
	}
	e.ledger()
	e.close()
}

func TestFullQueueRefusesOrDropsP3(t *testing.T) {
	for _, policy := range []string{"block", "drop_p3"} {
		t.Run(policy, func(t *testing.T) {
			e := newEnv(t, wal.NewMemFS(), Config{MaxBytes: 1 << 20, OnFull: policy})
			if e.q.Full() {
				t.Errorf("Full() true before any refusal")
			}
			block := make(chan struct{})
			e.sink.setFail(func(*pipeline.Batch) error { <-block; return nil })
			_, err := fillUntilRefused(e, pipeline.P2, 2000)
			if !e.q.Full() {
				t.Errorf("Full() false right after the queue refused a batch (HEC health would say healthy)")
			}
			if !errors.Is(err, pipeline.ErrOverloaded) || !strings.Contains(err.Error(), "queue.max_bytes") {
				t.Fatalf("full queue: %v", err)
			}
			// Top it up with small batches until even those are refused.
			small := []pipeline.Priority{pipeline.P2, pipeline.P2, pipeline.P2, pipeline.P2, pipeline.P2}
			for err = nil; err == nil; _, err = e.write(small...) {
			}
			p3 := make([]pipeline.Priority, 50)
			for i := range p3 {
				p3[i] = pipeline.P3
				if i%2 == 1 {
					p3[i] = pipeline.PriorityNone // filed as P3 by Write, and so by Admit
				}
			}
			b := batch(p3...)
			aerr := e.q.Admit(b)
			werr := e.q.Write(context.Background(), b)
			b.Release()
			if policy == "block" {
				if aerr == nil || werr == nil {
					t.Errorf("P3 into a full blocking queue: admit %v write %v", aerr, werr)
				}
			} else {
				if aerr != nil || werr != nil {
					t.Errorf("P3 into a full drop_p3 queue: admit %v write %v", aerr, werr)
				}
				if v := e.val(e.m.Dropped.WithLabelValues("dest", "queue_full")); v != 50 {
					t.Errorf("dropped %v", v)
				}
				b1 := batch(small...)
				b1.Events[0].Priority = pipeline.P1
				if err := e.q.Write(context.Background(), b1); !errors.Is(err, pipeline.ErrOverloaded) {
					t.Errorf("P1 must never be dropped: %v", err)
				}
				b1.Release()
			}
			close(block)
			e.waitIdle()
			e.ledger()
			e.close()
		})
	}
}

// TestCrashKeepsEveryAcknowledgedEvent: on a strict file system that loses
// what was not fsynced, every event whose Write returned nil is delivered
// after the crash.
func TestCrashKeepsEveryAcknowledgedEvent(t *testing.T) {
	mfs := wal.NewMemFS()
	e := newEnv(t, mfs, Config{Dir: "/q"})
	block := make(chan struct{})
	e.sink.setFail(func(*pipeline.Batch) error { <-block; return errors.New("never delivered") })
	var acked []string
	var wg sync.WaitGroup
	var mu sync.Mutex
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				r, err := e.write(pipeline.P1, pipeline.P2, pipeline.P3)
				if err == nil {
					mu.Lock()
					acked = append(acked, r...)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	mfs.Crash()
	// The old process is gone: stop its goroutine without saving anything.
	e.q.cancel()
	close(block)
	<-e.q.done
	e.sink = &fakeSink{}
	e.reg = prometheus.NewRegistry()
	e.m = NewMetrics(e.reg)
	e.open()
	e.waitIdle()
	got := map[string]int{}
	for _, g := range e.sink.delivered() {
		got[g]++
	}
	for _, a := range acked {
		if got[a] == 0 {
			t.Fatalf("acknowledged event %s lost in the crash", a)
		}
	}
	if _, rec, _, _, _, _, _ := e.ledger(); rec != float64(len(acked)) {
		t.Errorf("recovered %v, acknowledged %d", rec, len(acked))
	}
	e.close()
}

func TestRestartResumesFromCursorWithoutRedelivery(t *testing.T) {
	e := newEnv(t, wal.OS, Config{})
	first, _ := e.write(pipeline.P2, pipeline.P2, pipeline.P2)
	e.waitIdle()
	e.reopen()
	e.waitIdle()
	if got := e.sink.delivered(); len(got) != len(first) {
		t.Fatalf("after a clean restart the destination got %d events, want %d (no redelivery)", len(got), len(first))
	}
	// Undelivered events survive a restart.
	e.sink.setFail(func(*pipeline.Batch) error { return errors.New("down") })
	second, _ := e.write(pipeline.P1, pipeline.P3)
	e.reopen()
	if v := e.val(e.m.Recovered); v != 2 {
		t.Errorf("recovered %v, want 2", v)
	}
	e.sink.setFail(nil)
	e.waitIdle()
	got := e.sink.delivered()
	if len(got) != 5 || !contains(got, second[0]) || !contains(got, second[1]) {
		t.Errorf("delivered %v", got)
	}
	e.close()
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// TestCorruptSegmentIsCountedExactly flips a byte inside a stored record:
// the queue still opens, reports itself degraded, counts the record's
// events as lost and delivers the rest.
func TestCorruptSegmentIsCountedExactly(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, wal.OS, Config{Dir: dir})
	e.sink.setFail(func(*pipeline.Batch) error { return errors.New("down") })
	a, _ := e.write(pipeline.P2, pipeline.P2, pipeline.P2) // record 1: 3 events
	b, _ := e.write(pipeline.P2, pipeline.P2)              // record 2: 2 events
	e.close()
	segs, _ := filepath.Glob(filepath.Join(dir, "dest", "p2", "*.seg"))
	if len(segs) != 1 {
		t.Fatalf("segments %v", segs)
	}
	data, _ := os.ReadFile(segs[0])
	i := strings.Index(string(data), a[1]) // inside record 1's payload
	data[i+2] ^= 0xff
	if err := os.WriteFile(segs[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	e.sink.setFail(nil)
	e.reg = prometheus.NewRegistry()
	e.m = NewMetrics(e.reg)
	e.open()
	e.waitIdle()
	if got := e.sink.delivered(); strings.Join(got, ",") != strings.Join(b, ",") {
		t.Errorf("delivered %v, want %v", got, b)
	}
	if lost := e.val(e.m.Lost.WithLabelValues("dest", "corrupt_record")); lost != 3 {
		t.Errorf("lost %v, want exactly 3", lost)
	}
	if len(e.q.Degraded()) == 0 || e.val(e.m.Degraded.WithLabelValues("dest")) != 1 {
		t.Error("queue not reported degraded")
	}
	e.ledger()
	e.close()
}

// TestDiskFullRefusesThenRecovers: while the disk is full nothing is
// acknowledged; when space returns, writes succeed and everything
// acknowledged is delivered.
func TestDiskFullRefusesThenRecovers(t *testing.T) {
	var mu sync.Mutex
	full := false
	efs := &wal.ErrorFS{FS: wal.NewMemFS(), Inject: func(op, name string) error {
		mu.Lock()
		defer mu.Unlock()
		if full && (op == "write" || op == "sync") && strings.HasSuffix(name, ".seg") {
			return syscall.ENOSPC
		}
		return nil
	}}
	e := newEnv(t, efs, Config{Dir: "/q"})
	before, err := e.write(pipeline.P1, pipeline.P2)
	if err != nil {
		t.Fatal(err)
	}
	e.waitIdle()
	mu.Lock()
	full = true
	mu.Unlock()
	if _, err := e.write(pipeline.P1, pipeline.P3); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on a full disk: %v", err)
	}
	mu.Lock()
	full = false
	mu.Unlock()
	after, err := e.write(pipeline.P2)
	if err != nil {
		t.Fatalf("after space returned: %v", err)
	}
	e.waitIdle()
	got := e.sink.delivered()
	for _, x := range append(before, after...) {
		if !contains(got, x) {
			t.Errorf("acknowledged %s not delivered", x)
		}
	}
	e.close()
}

func TestCloseIsIdempotentAndRefusesWrites(t *testing.T) {
	e := newEnv(t, wal.OS, Config{})
	e.close()
	e.close()
	if _, err := e.write(pipeline.P1); !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

func TestCodecRoundTrip(t *testing.T) {
	b := batch(pipeline.P2, pipeline.P2)
	defer b.Release()
	b.Events[1].SourceType = ""
	enc := appendEvents(nil, b.Events)
	out := pipeline.NewBatch()
	defer out.Release()
	d := &decoder{interned: map[string]string{}}
	if err := d.decodeInto(out, enc, 2, pipeline.P2); err != nil {
		t.Fatal(err)
	}
	for i := range b.Events {
		x, y := b.Events[i], out.Events[i]
		if string(x.Raw) != string(y.Raw) || x.Time != y.Time || x.Ingest != y.Ingest || x.Hash != y.Hash || x.SourceType != y.SourceType || y.Priority != pipeline.P2 {
			t.Errorf("event %d: %+v vs %+v", i, x, y)
		}
	}
	for cut := 0; cut < len(enc); cut++ {
		out.Reset()
		if err := d.decodeInto(out, enc[:cut], 2, pipeline.P2); err == nil {
			t.Fatalf("truncated payload (%d of %d bytes) decoded", cut, len(enc))
		}
	}
}

// TestBatchLargerThanTheQueueIsAcceptedWhenEmpty: refusing a batch that can
// never fit would refuse it forever (a livelock found with syslog batches).
func TestBatchLargerThanTheQueueIsAcceptedWhenEmpty(t *testing.T) {
	e := newEnv(t, wal.NewMemFS(), Config{MaxBytes: 1 << 20})
	block := make(chan struct{})
	e.sink.setFail(func(*pipeline.Batch) error { <-block; return nil })
	huge := pipeline.NewBatch()
	raw := strings.Repeat("x", 3<<20)
	huge.Commit(append(huge.Arena(), raw...), pipeline.Event{Priority: pipeline.P2, Rule: -1})
	if err := e.q.Admit(huge); err != nil {
		t.Fatalf("admit into an empty queue: %v", err)
	}
	if err := e.q.Write(context.Background(), huge); err != nil {
		t.Fatalf("write into an empty queue: %v", err)
	}
	if err := e.q.Write(context.Background(), huge); !errors.Is(err, pipeline.ErrOverloaded) {
		t.Fatalf("a second one must wait: %v", err)
	}
	huge.Release()
	close(block)
	e.waitIdle()
	e.close()
}

// TestDeliveriesRespectBatchLimits: one big record is delivered in pieces of
// at most batch_events events and batch_bytes bytes.
func TestDeliveriesRespectBatchLimits(t *testing.T) {
	e := newEnv(t, wal.OS, Config{BatchEvents: 7, BatchBytes: 60})
	var mu sync.Mutex
	var sizes []int
	e.sink.setFail(func(b *pipeline.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, ev := range b.Events {
			n += len(ev.Raw)
		}
		if len(b.Events) > 7 || (n > 60 && len(b.Events) > 1) {
			t.Errorf("delivery of %d events, %d bytes", len(b.Events), n)
		}
		sizes = append(sizes, len(b.Events))
		return nil
	})
	prios := make([]pipeline.Priority, 50)
	for i := range prios {
		prios[i] = pipeline.P2
	}
	want, err := e.write(prios...)
	if err != nil {
		t.Fatal(err)
	}
	e.waitIdle()
	if got := e.sink.delivered(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("delivered out of order or incompletely")
	}
	mu.Lock()
	if len(sizes) < 50/7 {
		t.Errorf("deliveries %v", sizes)
	}
	mu.Unlock()
	e.close()
}

// TestCursorWaitsForTheSlowestDelivery: deliveries finish out of order; the
// cursor only moves over the finished prefix. One batch stays stuck in the
// destination while later ones are confirmed; the queue closes; after a
// restart everything from the stuck batch on is delivered again (the
// confirmed ones a second time: at-least-once), nothing is lost, and the
// ledgers of both processes balance.
func TestCursorWaitsForTheSlowestDelivery(t *testing.T) {
	e := newEnv(t, wal.OS, Config{BatchEvents: 5, MaxInFlight: 4})
	// The first batch's first event: batch numbers events from seq (the
	// tests of this package do not run in parallel).
	stuckRaw := fmt.Sprintf(`{"seq":%d}`, seq.Load()+1)
	stuck := make(chan struct{})
	e.sink.setFail(func(b *pipeline.Batch) error {
		if string(b.Events[0].Raw) == stuckRaw {
			<-stuck
			return errors.New("destination gave up on this request")
		}
		return nil
	})
	var all []string
	for i := 0; i < 12; i++ {
		r, err := e.write(pipeline.P2, pipeline.P2, pipeline.P2, pipeline.P2, pipeline.P2)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && r[0] != stuckRaw {
			t.Fatalf("first event %s, want %s", r[0], stuckRaw)
		}
		all = append(all, r...)
	}
	// The three other slots keep delivering around the stuck one.
	deadline := time.Now().Add(5 * time.Second)
	for len(e.sink.delivered()) < len(all)-5 {
		if time.Now().After(deadline) {
			t.Fatalf("delivered %d of %d around the stuck batch", len(e.sink.delivered()), len(all)-5)
		}
		time.Sleep(time.Millisecond)
	}
	for deadline := time.Now().Add(5 * time.Second); e.q.Pending() != 5; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("pending %d, want the 5 events of the stuck batch", e.q.Pending())
		}
	}
	// Close gives up on the stuck delivery (its ctx ends); the cursor stays
	// before it.
	go func() { time.Sleep(50 * time.Millisecond); close(stuck) }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	_ = e.q.Close(ctx)
	cancel()
	e.ledger()

	before := len(e.sink.delivered())
	e.sink.setFail(nil)
	e.reg = prometheus.NewRegistry()
	e.m = NewMetrics(e.reg)
	e.open()
	if v := e.val(e.m.Recovered); v != float64(len(all)) {
		t.Errorf("recovered %v after the restart, want all %d (the cursor was held by the first batch)", v, len(all))
	}
	e.waitIdle()
	got := e.sink.delivered()
	for _, a := range all {
		if !contains(got[before:], a) {
			t.Fatalf("event %s not delivered after the restart", a)
		}
	}
	e.ledger()
	e.close()
}

// TestOneProbeWhileDown: while a delivery backs off after a failure, no new
// delivery starts, so a destination that is down sees at most max_in_flight
// distinct batches (those started before the first failure), not the whole
// queue retrying at once.
func TestOneProbeWhileDown(t *testing.T) {
	e := newEnv(t, wal.OS, Config{BatchEvents: 2, MaxInFlight: 4, RetryInitial: 5 * time.Millisecond, RetryMax: 5 * time.Millisecond})
	var mu sync.Mutex
	down := true
	tried := map[string]bool{}
	e.sink.setFail(func(b *pipeline.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		if down {
			tried[string(b.Events[0].Raw)] = true
			return errors.New("connection refused")
		}
		return nil
	})
	var want []string
	for i := 0; i < 30; i++ {
		r, _ := e.write(pipeline.P2, pipeline.P2)
		want = append(want, r...)
	}
	time.Sleep(100 * time.Millisecond) // ~20 backoff rounds
	mu.Lock()
	n := len(tried)
	down = false
	mu.Unlock()
	if n > 4 {
		t.Errorf("%d distinct batches tried while the destination was down, want at most max_in_flight (4)", n)
	}
	e.waitIdle()
	if got := e.sink.delivered(); len(got) != len(want) {
		t.Errorf("delivered %d of %d", len(got), len(want))
	}
	e.ledger()
	e.close()
}

// TestReadErrorMidBatchLosesNothing: a read of the log fails after a batch
// already holds some records. Those go out (the reader is past them), the
// read is retried, and every event is delivered.
func TestReadErrorMidBatchLosesNothing(t *testing.T) {
	var mu sync.Mutex
	armed, reads := false, 0
	efs := &wal.ErrorFS{FS: wal.NewMemFS(), Inject: func(op, name string) error {
		mu.Lock()
		defer mu.Unlock()
		if armed && op == "read" && strings.HasSuffix(name, ".seg") {
			reads++
			if reads == 2 { // the first chunk reads fine, the next fails once
				return syscall.EIO
			}
		}
		return nil
	}}
	e := newEnv(t, efs, Config{Dir: "/q", BatchEvents: 100000, BatchBytes: 64 << 20, MaxInFlight: 1})
	gate, entered := make(chan struct{}), make(chan struct{}, 1)
	e.sink.setFail(func(*pipeline.Batch) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-gate
		return nil
	})
	pad := strings.Repeat("x", 2000)
	var want []string
	for i := 0; i < 200; i++ { // ~400 KB: several 64 KiB read chunks
		b := pipeline.NewBatch()
		raw := fmt.Sprintf(`{"seq":%d,"pad":"%s"}`, seq.Add(1), pad)
		b.Commit(append(b.Arena(), raw...), pipeline.Event{Priority: pipeline.P2, Hash: uint64(i), Rule: -1})
		if err := e.q.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		b.Release()
		want = append(want, raw)
		if i == 0 {
			<-entered // the first record goes out alone and blocks
		}
	}
	mu.Lock()
	armed = true
	mu.Unlock()
	close(gate)
	e.waitIdle()
	got := e.sink.delivered()
	for _, w := range want {
		if !contains(got, w) {
			t.Fatalf("event %.20s... lost after a read error (%d of %d delivered)", w, len(got), len(want))
		}
	}
	mu.Lock()
	if reads < 2 {
		t.Errorf("the read error was never injected (%d reads)", reads)
	}
	mu.Unlock()
	e.ledger()
	e.close()
}

// TestBatchWaitDeliversFullBatches: with batch_wait a lone event goes at
// once, events trickling in behind it wait (on disk) and go together once
// batch_wait has passed, and a full batch goes without waiting.
func TestBatchWaitDeliversFullBatches(t *testing.T) {
	// In memory (no fsync latency): the trickle of ten writes must land
	// well within batch_wait even on a loaded CI machine.
	const wait = time.Second
	e := newEnv(t, wal.NewMemFS(), Config{Dir: "/q", BatchEvents: 50, BatchWait: wait})
	var mu sync.Mutex
	type call struct {
		n  int
		at time.Time
	}
	var calls []call
	e.sink.setFail(func(b *pipeline.Batch) error {
		mu.Lock()
		calls = append(calls, call{len(b.Events), time.Now()})
		mu.Unlock()
		return nil
	})
	snapshot := func() []call {
		mu.Lock()
		defer mu.Unlock()
		return append([]call(nil), calls...)
	}
	start := time.Now()
	if _, err := e.write(pipeline.P2); err != nil {
		t.Fatal(err)
	}
	e.waitIdle()
	if c := snapshot(); len(c) != 1 || c[0].at.Sub(start) > wait/2 {
		t.Fatalf("a lone event after a quiet spell: %v, want one delivery at once", c)
	}
	// A trickle: ten events in ten writes, well within batch_wait.
	for i := 0; i < 10; i++ {
		if _, err := e.write(pipeline.P2); err != nil {
			t.Fatal(err)
		}
	}
	e.waitIdle()
	c := snapshot()
	if len(c) != 2 || c[1].n != 10 {
		t.Fatalf("the trickle went out as %v, want one delivery of 10", c)
	}
	// batch_wait runs from when the first delivery started, which lies
	// between start and c[0].at: measured from start the bound holds
	// however late the delivery goroutine got to the sink.
	if d := c[1].at.Sub(start); d < wait*9/10 {
		t.Errorf("the trickle went %s after the first write, want at least about batch_wait (%s)", d, wait)
	}
	// A full batch does not wait.
	full := make([]pipeline.Priority, 50)
	for i := range full {
		full[i] = pipeline.P2
	}
	t0 := time.Now()
	if _, err := e.write(full...); err != nil {
		t.Fatal(err)
	}
	e.waitIdle()
	c = snapshot()
	if len(c) != 3 || c[2].n != 50 || c[2].at.Sub(t0) > wait/2 {
		t.Errorf("a full batch: %v, want a delivery of 50 at once", c[2:])
	}
	e.ledger()
	e.close()
}

// TestCloseDeliversWhatBatchWaitHolds: Close drains everything it can,
// including a partial batch batch_wait is holding back.
func TestCloseDeliversWhatBatchWaitHolds(t *testing.T) {
	e := newEnv(t, wal.OS, Config{BatchEvents: 100, BatchWait: time.Minute})
	first, _ := e.write(pipeline.P3)
	e.waitIdle() // the first goes at once and starts the minute
	var held []string
	for i := 0; i < 5; i++ {
		r, _ := e.write(pipeline.P3)
		held = append(held, r...)
	}
	time.Sleep(20 * time.Millisecond)
	if n := len(e.sink.delivered()); n != len(first) {
		t.Fatalf("%d delivered before Close, want only the first (the rest wait for batch_wait)", n)
	}
	e.close()
	got := e.sink.delivered()
	for _, h := range held {
		if !contains(got, h) {
			t.Fatalf("%s still queued after Close: %v", h, got)
		}
	}
	if p := e.q.Pending(); p != 0 {
		t.Errorf("pending %d after Close", p)
	}
}

// TestBatchErrorDuplicateIndex: a sink that names the same event twice in
// its BatchError must not make the queue book fewer events delivered than
// it confirmed (the delivered count went negative for the batch, and the
// queued gauge up).
func TestBatchErrorDuplicateIndex(t *testing.T) {
	e := newEnv(t, wal.NewMemFS(), Config{})
	var once sync.Once
	e.sink.setFail(func(b *pipeline.Batch) error {
		var err error
		once.Do(func() {
			err = &pipeline.BatchError{Items: []pipeline.ItemError{
				{Index: 0, Status: 429, Err: errors.New("busy")},
				{Index: 0, Status: 429, Err: errors.New("busy again")},
			}}
		})
		return err
	})
	if _, err := e.write(pipeline.P2, pipeline.P2, pipeline.P2); err != nil {
		t.Fatal(err)
	}
	e.waitIdle()
	if n := len(e.sink.delivered()); n != 3 {
		t.Fatalf("delivered %d events, want 3", n)
	}
	if v := e.val(e.m.Delivered.WithLabelValues("dest")); v != 3 {
		t.Errorf("delivered counter %v, want 3", v)
	}
	if v := e.val(e.m.Queued.WithLabelValues("dest", "P2")); v != 0 {
		t.Errorf("queued gauge %v, want 0", v)
	}
	e.close()
}

// fillUntilRefused writes batches of n events of priority p (at most 200)
// until the queue refuses one (its destination must hold them), and
// returns the batch's priorities and the last error.
func fillUntilRefused(e *env, p pipeline.Priority, n int) ([]pipeline.Priority, error) {
	prios := make([]pipeline.Priority, n)
	for i := range prios {
		prios[i] = p
	}
	var err error
	for i := 0; i < 200 && err == nil; i++ {
		_, err = e.write(prios...)
	}
	return prios, err
}

// writeLargeP2 writes one P2 record of a 100 KiB event: reading it does
// not read ahead into the next record (the reader's window is 64 KiB).
func writeLargeP2(t *testing.T, e *env) {
	t.Helper()
	big := pipeline.NewBatch()
	big.Commit(append(big.Arena(), strings.Repeat("x", 100<<10)...), pipeline.Event{Priority: pipeline.P2, Rule: -1, SourceType: "st"})
	if err := e.q.Write(context.Background(), big); err != nil {
		t.Fatal(err)
	}
	big.Release()
}

// damageP2 flips a byte of the payload holding marker in the queue's only
// P2 segment under dir (a record damaged on disk after it was written).
func damageP2(t *testing.T, dir, marker string) {
	t.Helper()
	segs, _ := filepath.Glob(filepath.Join(dir, "dest", "p2", "*.seg"))
	if len(segs) != 1 {
		t.Fatalf("segments %v", segs)
	}
	data, _ := os.ReadFile(segs[0])
	i := strings.Index(string(data), marker)
	if i < 0 {
		t.Fatalf("%q is not in %s", marker, segs[0])
	}
	f, err := os.OpenFile(segs[0], os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte{data[i+2] ^ 0xff}, int64(i+2)); err != nil {
		t.Fatal(err)
	}
}

// newerPayload is a queue record payload in a codec version this release
// does not know (9): what a newer release queued before a rollback.
var newerPayload = []byte{9, 'n', 'e', 'w', 'e', 'r'}

// appendUndecodableThenValid appends to the log in logDir (on fs) a record
// of 2 events this release cannot decode (newerPayload), then a valid
// record of one P2 event as Write writes it. It returns the first's
// position and the valid event's raw bytes.
func appendUndecodableThenValid(t *testing.T, fs wal.FS, logDir string) (x wal.Pos, valid string) {
	t.Helper()
	l, _, err := wal.Open(fs, logDir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if x, _, err = l.Append(newerPayload, 2); err != nil {
		t.Fatal(err)
	}
	bb := batch(pipeline.P2)
	valid = string(bb.Events[0].Raw)
	if _, _, err := l.Append(appendEvents(nil, bb.Events), 1); err != nil {
		t.Fatal(err)
	}
	bb.Release()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return x, valid
}
