package siem

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// TestRepairStopsWhenBreakSeenDuringRepair: a batch A is written and
// reported delivered; the receiver then crashes, losing it, and for a
// while it (or the load balancer in front of it, with no backend) accepts
// connections and closes them at once; then it is healthy again. No further
// event arrives for this destination. What happens: the repair goroutine
// dials, starts the new connection's watcher, resends the window on it and
// returns nil; when the receiver's close is seen by that watcher while the
// repair goroutine is still running (it holds "repairing" until its
// deferred Store(false)), startRepair does nothing ("one is running"), and
// the running one exits believing the window resent. The connection is
// broken, the window is marked as delivered, and nothing repairs it until
// the next Write: A waits without bound on a quiet destination (the very
// case the repair goroutine was added for). What should happen: the repair
// goroutine must re-check, after clearing "repairing", whether the
// connection it left broke meanwhile (or the watcher should queue a repair
// rather than drop it), so that A reaches the receiver once it is healthy.
func TestRepairStopsWhenBreakSeenDuringRepair(t *testing.T) {
	rcv := newStreamReceiver(t)
	// A front that, while slam is set, closes every new connection at once.
	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var slam atomic.Bool
	go func() {
		for {
			c, err := front.Accept()
			if err != nil {
				return
			}
			if slam.Load() {
				_ = c.Close()
				continue
			}
			go func() {
				b, err := net.Dial("tcp", rcv.ln.Addr().String())
				if err != nil {
					_ = c.Close()
					return
				}
				go func() {
					buf := make([]byte, 64<<10)
					for {
						n, err := c.Read(buf)
						if n > 0 {
							_, _ = b.Write(buf[:n])
						}
						if err != nil {
							_ = b.Close()
							return
						}
					}
				}()
				buf := make([]byte, 512)
				for {
					if _, err := b.Read(buf); err != nil {
						_ = c.Close()
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { _ = front.Close() })

	s := newTestSyslog(t, SyslogConfig{
		Address:             front.Addr().String(),
		ReconnectBackoffMin: time.Millisecond, ReconnectBackoffMax: 2 * time.Millisecond,
	})
	a := makeBatch([]string{testEvent(0, "ws", "")}, pipeline.P1)
	defer a.Release()
	rcv.drop.Store(true)
	if err := s.Write(context.Background(), a); err != nil {
		t.Fatalf("write A: %v", err)
	}
	time.Sleep(50 * time.Millisecond) // the receiver has read A (and dropped it)
	slam.Store(true)
	rcv.killConns() // the receiver crashes; the front closes new connections
	time.Sleep(500 * time.Millisecond)
	rcv.drop.Store(false)
	slam.Store(false) // healthy again
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && !rcv.has(`"id":"e000000"`) {
		time.Sleep(20 * time.Millisecond)
	}
	if !rcv.has(`"id":"e000000"`) {
		s.mu <- struct{}{}
		var broken int64 = -1
		if s.conn != nil {
			broken = s.conn.brokenAt.Load()
		}
		t.Logf("DIAG conn=%v brokenAt=%d repairing=%v window=%d replay=%v", s.conn != nil, broken, s.repairing.Load(), len(s.window), s.replay)
		<-s.mu
		t.Errorf("batch A (reported delivered, lost by the crashing receiver) was not resent within 3s of the receiver being healthy again: the repair stopped after a break seen while it ran")
	}
}
