package siem

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// idleCloser is a healthy syslog receiver that reads everything and closes
// a connection once it has been idle for idle (as HAProxy's timeout client,
// a cloud load balancer's idle timeout, or rsyslog/syslog-ng with an idle
// timeout do).
type idleCloser struct {
	ln    net.Listener
	idle  time.Duration
	mu    sync.Mutex
	data  strings.Builder
	conns int
}

func newIdleCloser(t *testing.T, idle time.Duration) *idleCloser {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &idleCloser{ln: ln, idle: idle}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns++
			r.mu.Unlock()
			go func() {
				defer c.Close()
				buf := make([]byte, 64<<10)
				for {
					_ = c.SetReadDeadline(time.Now().Add(r.idle))
					n, err := c.Read(buf)
					r.mu.Lock()
					r.data.Write(buf[:n])
					r.mu.Unlock()
					if err != nil {
						return // idle (or EOF): close
					}
				}
			}()
		}
	}()
	return r
}

func (r *idleCloser) snapshot() (string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.data.String(), r.conns
}

// TestSyslogIdleTimeoutStallsForever: a receiver that reads every
// byte but closes idle connections (idle timeout shorter than replay_age)
// breaks a connection while the window is full. Write then refuses new
// batches (errUnsettled) "until a connection lasts replay_age": but a
// refused Write writes nothing, so the connection is idle again and the
// receiver closes it again; the break refreshes lastBreak, the repair
// replays the whole window (duplicates) and the destination stays
// unsettled forever. Expected: a new batch is taken once replay_age has
// passed since the receiver's first break (the receiver is healthy).
// Observed: every Write is refused for 3x replay_age, while the window is
// resent again and again.
func TestSyslogIdleTimeoutStallsForever(t *testing.T) {
	const idle = 150 * time.Millisecond
	const replayAge = time.Second
	rcv := newIdleCloser(t, idle)
	s := newTestSyslog(t, SyslogConfig{
		Address:             rcv.ln.Addr().String(),
		ReconnectBackoffMin: time.Millisecond, ReconnectBackoffMax: 20 * time.Millisecond,
		ReplayBytes: 2 << 10,
		ReplayAge:   replayAge,
	})
	ctx := context.Background()
	// Traffic fills the replay window.
	for i := 0; i < 4; i++ {
		b := makeBatch(idRange(i*10, i*10+10, "ws"), pipeline.P1)
		if err := s.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	// A quiet moment: the receiver closes the idle connection.
	time.Sleep(3 * idle)

	b := makeBatch(idRange(1000, 1010, "ws"), pipeline.P1)
	defer b.Release()
	start := time.Now()
	var err error
	for time.Since(start) < 3*replayAge {
		if err = s.Write(ctx, b); err == nil {
			break
		}
		if !errors.Is(err, errUnsettled) {
			t.Fatalf("Write: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // the queue's retry
	}
	data, conns := rcv.snapshot()
	copies := strings.Count(data, `"id":"e000035"`)
	if err != nil {
		t.Fatalf("a healthy receiver that closes idle connections after %v: every Write refused for %v (3x replay_age %v): %v; the receiver accepted %d connections and got the last remembered event %d times (the window replayed at every idle close)",
			idle, time.Since(start).Round(time.Millisecond), replayAge, err, conns, copies)
	}
	t.Logf("taken after %v; %d connections; e000035 x%d", time.Since(start).Round(time.Millisecond), conns, copies)
}
