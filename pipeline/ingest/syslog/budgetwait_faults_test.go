package syslog

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/engine"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/route"
	"github.com/logrouter/logrouter/rules"
)

// reviewCountSink counts the events it takes.
type reviewCountSink struct {
	name   string
	events atomic.Int64
}

func (s *reviewCountSink) Name() string { return s.name }
func (s *reviewCountSink) Write(_ context.Context, b *pipeline.Batch) error {
	s.events.Add(int64(len(b.Events)))
	return nil
}
func (*reviewCountSink) Close(context.Context) error { return nil }

// reviewSplitEngine is an engine with two destinations: P1 events
// (event.dataset "edr") go to "siem", whose queue is full (every write
// refused with ErrOverloaded), the rest (P3) to "archive", which takes
// everything.
func reviewSplitEngine(t *testing.T, log *slog.Logger) (*engine.Engine, *reviewCountSink) {
	t.Helper()
	set, err := rules.Load(fstest.MapFS{"r.yaml": &fstest.MapFile{Data: []byte(
		"rules:\n  - name: p1\n    priority: P1\n    expr: event.dataset == \"edr\"\n")}}, ".", pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	norm, err := normalize.Compile(normalize.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	table, err := route.NewTable([]string{"siem", "archive"},
		map[pipeline.Priority][]string{pipeline.P1: {"siem"}, pipeline.P3: {"archive"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	siem := &testutil.RecordSink{SinkName: "siem", Err: fmt.Errorf("queue siem: full: %w", pipeline.ErrOverloaded)}
	archive := &reviewCountSink{name: "archive"}
	eng, err := engine.New(engine.Config{}, &route.Router{Norm: norm, Rules: set, Table: table},
		[]pipeline.Sink{siem, archive}, &testutil.MemQuarantine{}, engine.NewMetrics(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close(context.Background()) })
	return eng, archive
}

// reviewHoldBudget opens a connection whose events go to the refusing
// "siem" and writes until the input holds more than max_inflight_bytes
// (its refused batch, re-sent by waitPrev for as long as the queue is
// full). It returns the writer's connection.
func reviewHoldBudget(t *testing.T, srv *Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.tcp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	msg := []byte(`<14>1 2026-11-28T10:00:00Z h app - - - {"event":{"dataset":"edr"},"pad":"` + strings.Repeat("x", 4<<10) + "\"}\n")
	go func() {
		for {
			if _, err := c.Write(msg); err != nil {
				return
			}
		}
	}()
	eventually(t, "the refused connection holds the budget", func() bool {
		return srv.inflight.Load() > srv.cfg.MaxInflightBytes
	})
	time.Sleep(100 * time.Millisecond)
	if srv.inflight.Load() <= srv.cfg.MaxInflightBytes {
		t.Fatalf("the refused connection does not hold the budget: inflight %d", srv.inflight.Load())
	}
	return c
}

// TestBudgetHeldByRefusedRouteThrottlesHealthySender
//
// Fault: awaitBudget (server.go, serveConn after a flush that
// max_inflight_bytes forced) waits up to budgetWaitMax (200 ms) for the
// budget to have room after EVERY forced flush. When what holds the budget
// is not batches in flight that finish but a connection whose destination
// refuses (waitPrev re-sends its batch for as long as the queue is full,
// keeping it charged), the budget never has room, and every other
// connection, whose own destination is healthy, is handed over one message
// per flush (full() is true at each message while over budget) and then
// sleeps 200 ms: 5 messages a second per connection, for as long as the
// other destination is down. Before the commit such a connection made
// one-message batches at the speed of its healthy queue.
//
// Sequence: two destinations, P1 (event.dataset edr) to "siem", whose
// queue is full, P3 to "archive", which takes everything;
// max_inflight_bytes 1 MiB. A sender of edr events fills the budget with
// its refused batch. A second sender then writes 50 small P3 messages.
//
// Expected: the archive takes them within a second or two (before the
// commit: a few milliseconds).
//
// Actual: ~200 ms per message, ~10 s for 50.
//
// Fixed: refused batches being re-sent are left out of the budget the
// wait looks at (Server.retrying), and a wait that found no room is not
// repeated until a flush sees room (stream.budgetWaited).
func TestBudgetHeldByRefusedRouteThrottlesHealthySender(t *testing.T) {
	srv, archive := startHeldServer(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx) // the refused batch is dropped, counted, at its deadline
	})

	c, err := net.Dial("tcp", srv.tcp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 50
	b := healthyLines(n)
	start := time.Now()
	if _, err := c.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	for archive.events.Load() < n && time.Since(start) < 30*time.Second {
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(start)
	t.Logf("%d messages of a healthy destination's sender taken in %v (%d taken)", n, took, archive.events.Load())
	if took > 2*time.Second {
		t.Errorf("with another destination's refused batch holding max_inflight_bytes, a sender whose destination is healthy took %v for %d small messages (%v a message): awaitBudget sleeps up to 200 ms after every one-message flush", took, n, took/n)
	}
}

// TestBudgetWaitLosesSocketDataAtShutdown
//
// Fault: the same wait during the shutdown drain. awaitBudget sleeps on
// s.shutdown, which is cancelled only at the deadline, not when the drain
// begins (closing): while a refused batch of another destination holds the
// budget, a draining connection reads one message per 200 ms, and at the
// drain's end (half the time to the deadline) it returns and closes with
// what its sender wrote still unread in the socket buffer (beyond the
// framer's buffer, which addRest takes): lost, counted nowhere (the sender
// counts it as sent).
//
// Sequence: as above; the healthy sender writes 5000 small messages
// (~300 KB, held by the kernel's socket buffers), then the router is shut
// down with a 4 s deadline (drain: 2 s).
//
// Expected: every message is taken (before the commit the drain read them
// all well within its 2 s).
//
// Actual: a few hundred are taken (the framer's buffer, plus one message
// per 200 ms); the rest are discarded unread at close.
//
// Fixed: no budget wait once the router drains (Server.closing).
func TestBudgetWaitLosesSocketDataAtShutdown(t *testing.T) {
	srv, archive := startHeldServer(t)

	c, err := net.Dial("tcp", srv.tcp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 5000
	b := healthyLines(n)
	_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(b.String())); err != nil {
		t.Fatalf("the socket buffers did not take the %d bytes: %v", b.Len(), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	start := time.Now()
	_ = srv.Shutdown(ctx) // an error: the refused siem batch is dropped at the deadline
	t.Logf("shutdown took %v; the archive took %d of %d messages the healthy sender wrote before it", time.Since(start), archive.events.Load(), n)
	if got := archive.events.Load(); got < n {
		// (>= n: at the deadline the refused connection's last, partial
		// line is taken as a message of its own, P3, as framer.rest says.)
		t.Errorf("the archive took %d of the %d messages a healthy sender had written before the shutdown: the drain read one per 200 ms (awaitBudget) and the rest were discarded unread at close", got, n)
	}
}

// startHeldServer starts a syslog server (max_inflight_bytes 1 MiB) on
// reviewSplitEngine, whose budget a refused batch then holds
// (reviewHoldBudget); archive is the healthy destination. Batches are
// bounded by the budget alone (batch_events and batch_wait far above):
// under the race detector a connection read too slowly to pass 1 MiB
// within the default batch_wait, so its refused batches never held the
// budget and the setup timed out.
func startHeldServer(t *testing.T) (*Server, *reviewCountSink) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(&syncBuffer{}, nil))
	eng, archive := reviewSplitEngine(t, log)
	srv, err := New(Config{TCP: &TCPConfig{Address: "127.0.0.1:0"}, MaxInflightBytes: 1 << 20, BatchEvents: 100000, BatchWait: 5 * time.Second}, eng, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	reviewHoldBudget(t, srv)
	return srv, archive
}

// healthyLines is n newline-framed P3 messages.
func healthyLines(n int) *strings.Builder {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "<14>1 2026-11-28T10:00:00Z h app - - - healthy %d\n", i)
	}
	return &b
}
