package syslog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/testutil/testengine"
	"github.com/logrouter/logrouter/pipeline"
)

// slowSink takes every batch after delay (a destination queue's fsync),
// counting batches and events.
type slowSink struct {
	delay           time.Duration
	batches, events atomic.Int64
}

func (*slowSink) Name() string { return "all" }
func (s *slowSink) Write(_ context.Context, b *pipeline.Batch) error {
	time.Sleep(s.delay)
	s.batches.Add(1)
	s.events.Add(int64(len(b.Events)))
	return nil
}
func (*slowSink) Close(context.Context) error { return nil }

// TestOverBudgetKeepsBatchesLarge: once max_inflight_bytes is spent, a
// connection hands its batch over at once (backpressure), but then waits
// for the budget to free before it reads on, rather than handing over one
// message at a time: each of those cost a queue write (an fsync), and the
// input slowed to a message per fsync exactly when it was behind.
func TestOverBudgetKeepsBatchesLarge(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sink := &slowSink{delay: 10 * time.Millisecond}
	eng := testengine.New(t, testengine.P1EDR, sink, &testutil.MemQuarantine{}, log)
	// A budget of a few batches' worth: the connections run over it.
	srv, err := New(Config{TCP: &TCPConfig{Address: "127.0.0.1:0"}, MaxInflightBytes: 1 << 20}, eng, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	const conns, per = 32, 2000
	msg := "<14>1 2026-11-28T10:00:00Z h app - - - " + strings.Repeat("x", 300)
	var wg sync.WaitGroup
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", srv.tcp.Addr().String())
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			var b strings.Builder
			for i := range per {
				m := fmt.Sprintf("%s %d %d", msg, c, i)
				fmt.Fprintf(&b, "%d %s", len(m), m)
			}
			if _, err := io.WriteString(conn, b.String()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	eventually(t, "every message taken", func() bool { return sink.events.Load() == conns*per })
	avg := float64(sink.events.Load()) / float64(sink.batches.Load())
	t.Logf("%d messages in %d batches (%.1f a batch)", sink.events.Load(), sink.batches.Load(), avg)
	if raceEnabled {
		return // ~10x slower: the waits time out and fall back (budgetWaited); the figure means nothing (.ci/run runs it without -race too)
	}
	if avg < 60 {
		t.Errorf("over max_inflight_bytes the connections handed over %.1f messages a batch (%d batches for %d messages): a queue write per message or two", avg, sink.batches.Load(), sink.events.Load())
	}
}
