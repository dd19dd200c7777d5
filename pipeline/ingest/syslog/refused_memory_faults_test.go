package syslog

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

// fullQueueSink refuses every write as a full durable queue does
// (the SIEM has been down long enough for its queue to reach max_bytes).
type fullQueueSink struct{}

func (fullQueueSink) Name() string { return "all" }
func (fullQueueSink) Write(context.Context, *pipeline.Batch) error {
	return fmt.Errorf("queue all: full: %w", pipeline.ErrOverloaded)
}
func (fullQueueSink) Close(context.Context) error { return nil }

// TestRefusedBatchesMemoryBounded
//
// Fault: what a TCP/TLS connection makes the input hold while its
// destinations refuse is bounded per connection only, and not in bytes:
// stream.full() counts events (there is no byte bound on a syslog batch),
// and a connection keeps its refused batch (st.prev, re-sent by waitPrev)
// and the next one it had read (st.b) until the queue takes them:
// 2 x min(batch_events x message size, what one core parses in
// batch_wait). Nothing is shared between connections the way
// inputs.http.max_inflight_bytes bounds requests ("a quarter of the memory
// limit, at least 64 MiB"). Figures: ~2 x 16 MiB per connection here
// (1000 x 16 KiB); at the defaults up to 2 x 64 MiB, or ~2 x 6 MB when
// batch_wait (50ms) cuts the batch first at the documented 120 MB/s per
// core; so one unauthenticated address with its max_connections_per_ip
// (64) connections holds ~0.8-8 GiB, and max_connections (1024) ~12-128
// GiB, exactly when a destination is down and the router must stay up to
// buffer. docs/architecture.md says the router's memory "is bounded by
// configuration (... engine.max_inflight_batches request bodies)" and a
// syslog connection's "memory per connection is bounded by the limit"
// (max_message_bytes).
//
// Sequence: the only destination's queue is full (every write refused
// with ErrOverloaded). Four connections from one address, one after the
// other, send RFC 5424 messages of 16 KiB as fast as they can until the
// router stops reading them.
//
// Expected: the batches connections hold are charged to a shared budget
// (a connection stops reading, TCP backpressure, once it is spent), so
// that they stay within 64 MiB whatever the number of connections.
//
// Actual: the four connections hold ~4 x 2 x 16 MiB, live, for as long as
// the queue stays full.
func TestRefusedBatchesMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("holds ~130 MiB")
	}
	log := slog.New(slog.NewTextHandler(&syncBuffer{}, nil))
	eng := testengine.New(t, testengine.P1EDR, fullQueueSink{}, &testutil.MemQuarantine{}, log)
	// batch_wait 30s: each batch fills to batch_events whatever the speed
	// of this machine (at the default 50ms it holds what one core parses
	// in 50ms, ~6 MB at the documented 120 MB/s).
	srv, err := New(Config{TCP: &TCPConfig{Address: "127.0.0.1:0"}, BatchWait: 30 * time.Second, MaxInflightBytes: 32 << 20}, eng, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	base := reviewLiveHeap()

	const conns, size = 4, 16 << 10
	msg := []byte("<14>1 2026-11-28T10:00:00Z h app - - - " + strings.Repeat("x", size) + "\n")
	var wg sync.WaitGroup
	var cs []net.Conn
	defer func() {
		for _, c := range cs {
			c.Close()
		}
		wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx) // the refused batches are dropped, counted, at its deadline
		if n := srv.inflight.Load(); n != 0 {
			t.Errorf("after the shutdown the streams still hold %d bytes of max_inflight_bytes", n)
		}
	}()
	// One connection after the other, each sending as fast as it can
	// until the router stops reading it: it reads until its second batch
	// is flushed, then waits for the refused first one.
	for range conns {
		c, err := net.Dial("tcp", srv.tcp.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, err := c.Write(msg); err != nil {
					return
				}
			}
		}()
		last, stable := -1.0, 0
		eventually(t, "the connection is no longer read", func() bool {
			time.Sleep(50 * time.Millisecond)
			n := counter(srv.m.bytes)
			if n == last && n > 0 {
				stable++
			} else {
				stable = 0
			}
			last = n
			return stable >= 5
		})
	}
	time.Sleep(200 * time.Millisecond)
	held := int64(reviewLiveHeap()) - int64(base)
	t.Logf("%d connections, destination refusing: the input read %.0f MiB and holds %d MiB live (%d MiB per connection)",
		conns, counter(srv.m.bytes)/(1<<20), held>>20, held>>20/conns)
	if held > 64<<20 {
		t.Errorf("%d connections of one address make the input hold %d MiB while the destination refuses (2 x batch_events x message size each, no shared bound); want at most 64 MiB (max_inflight_bytes 32 MiB)",
			conns, held>>20)
	}
}
