package syslog

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/testutil/testengine"
	"github.com/logrouter/logrouter/pipeline"
)

// reviewRefuseFirstSink is the destination "all": it refuses its first
// `refuse` writes (as a full durable queue does: ErrOverloaded), then
// accepts and records what it is given.
type reviewRefuseFirstSink struct {
	mu     sync.Mutex
	refuse int
	writes int
	raws   []string
}

func (s *reviewRefuseFirstSink) Name() string { return "all" }
func (s *reviewRefuseFirstSink) Write(_ context.Context, b *pipeline.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.writes <= s.refuse {
		return fmt.Errorf("queue full: %w", pipeline.ErrOverloaded)
	}
	for _, ev := range b.Events {
		s.raws = append(s.raws, string(ev.Raw))
	}
	return nil
}
func (s *reviewRefuseFirstSink) Close(context.Context) error { return nil }
func (s *reviewRefuseFirstSink) state(sub string) (seen bool, writes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.raws {
		if strings.Contains(r, sub) {
			seen = true
		}
	}
	return seen, s.writes
}

// TestRefusedBatchRetriedOnQuietConnection
//
// Sequence: a TCP sender sends one message and then stays connected but
// quiet (rsyslog and syslog-ng keep such connections open for good). After
// batch_wait the batch is flushed (emitted without waiting: it becomes
// st.prev) and the destination's queue refuses it once (full, 429-style),
// then would accept it.
//
// What happens: nothing re-sends it. The refused batch is only looked at by
// waitPrev, which runs on the next flush (the sender's next message) or
// when the connection ends (idle_timeout, default 10m; here 1m). The read
// loop sees st.pending() == false (only st.b counts, not st.prev) and just
// sleeps in Read. The message is neither delivered nor counted as dropped
// for up to idle_timeout; the destination is written once and never again.
//
// What should happen: docs/architecture.md ("a refused batch is re-sent
// with backoff") and waitPrev's comment ("Over TCP a refused batch is
// re-sent with backoff for as long as it takes"): the batch should reach
// the destination within the retry backoff (50ms, 100ms, ...), seconds at
// most.
//
// Why it matters: low-rate senders are exactly the ones that go quiet
// (a firewall emitting a single critical alert, an auth server at night):
// a single transient queue-full moment delays their security events by up
// to idle_timeout (10 minutes by default), and a sender that keeps its
// connection open and silent longer than the router lives only gets them
// retried at shutdown, within its deadline.
func TestRefusedBatchRetriedOnQuietConnection(t *testing.T) {
	sink := &reviewRefuseFirstSink{refuse: 1}
	log := slog.New(slog.NewTextHandler(&syncBuffer{}, nil))
	eng := testengine.New(t, testengine.P1EDR, sink, &testutil.MemQuarantine{}, log)
	srv, err := New(Config{TCP: &TCPConfig{Address: "127.0.0.1:0"}, IdleTimeout: time.Minute}, eng, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	_, addr, _ := srv.Addrs()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := fmt.Fprintf(c, "<14>1 2026-11-28T10:00:00Z h app - - - quietSenderMarker\n"); err != nil {
		t.Fatal(err)
	}
	// batch_wait is 50ms and the first retries come after 50ms, 100ms,
	// 200ms...: 10s is ample.
	deadline := time.Now().Add(10 * time.Second)
	for {
		seen, writes := sink.state("quietSenderMarker")
		if seen {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sender's message, refused once by a full queue, was not re-sent within 10s on a quiet but open connection "+
				"(destination written %d time(s)); it waits for the sender's next message or idle_timeout (%s)", writes, time.Minute)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
