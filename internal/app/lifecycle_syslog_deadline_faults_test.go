package app

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
)

// reviewLabeled returns the value of counter name with every label of want.
func reviewLabeled(t *testing.T, a *App, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := a.Engine().Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if got[k] != v {
					continue next
				}
			}
			n += m.GetCounter().GetValue()
		}
	}
	return n
}

// TestLifecycleSyslogReadThenDroppedAtDeadline
//
// What I did: eight syslog TCP senders (relays forwarding a steady stream:
// a complete message every 20 ms each, never quiet for drainIdle) are
// connected when the router is stopped (App.Shutdown, what SIGTERM does)
// with a 1.5 s deadline. The destinations are local and healthy.
//
// Observed: the router keeps reading the connections for the whole
// deadline (a drain ends only on 200 ms of silence); at the deadline it
// cancels s.shutdown and flushes each connection's last batch with
// Engine.Emit(s.shutdown, ...): Emit's select between a free delivery slot
// and the cancelled context picks at random, so about half of the
// connections' last batches are refused (errNoCapacity) and, the shutdown
// context being done, dropped by waitPrev:
// logrouter_dropped_events_total{stage="syslog",reason="shutdown_deadline"} > 0.
// The engine and queues are still open at that point (App.Shutdown closes
// the engine only after the inputs return): nothing stopped them from
// being queued.
//
// Expected: a message the router read off a TCP socket (syslog's only
// acknowledgement) is in the queues; at the deadline it stops reading, but
// what it read goes to the queues, which are open and have room.
func TestLifecycleSyslogReadThenDroppedAtDeadline(t *testing.T) {
	// Which connections lose their last batch depends on timing (and on
	// Emit's select): up to five stops, each ~2 s; one drop is the fault.
	for round := 0; round < 5; round++ {
		if dropped, detail := reviewSyslogStopUnderTraffic(t); dropped > 0 {
			t.Fatalf("round %d: %v syslog messages read from TCP connections were dropped at the shutdown deadline while the queues were open and healthy (%s)", round, dropped, detail)
		}
	}
}

func reviewSyslogStopUnderTraffic(t *testing.T) (float64, string) {
	a, _ := syslogApp(t, &syslog.Config{TCP: &syslog.TCPConfig{Address: "127.0.0.1:0"}}, nil, 1<<30)
	_, tcp, _ := a.SyslogAddrs()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for k := 0; k < 16; k++ {
		c, err := net.Dial("tcp", tcp)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				msg := fmt.Sprintf(`<14>1 2026-11-28T10:00:00Z relay%d app - - - {"conn":%d,"seq":%d}`, k, k, i)
				if _, err := fmt.Fprintf(c, "%d %s", len(msg), msg); err != nil {
					return
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	err := a.Shutdown(ctx)
	close(stop)
	wg.Wait()
	dropped := reviewLabeled(t, a, "logrouter_dropped_events_total", map[string]string{"stage": "syslog"})
	return dropped, fmt.Sprintf("reason shutdown_deadline: %v; Shutdown: %v", reviewLabeled(t, a, "logrouter_dropped_events_total",
		map[string]string{"stage": "syslog", "reason": "shutdown_deadline"}), err)
}

// TestLifecycleSteadySyslogSenderStarvesShutdown
//
// What I did: one syslog TCP sender (a relay) sends a small message every
// 50 ms, a steady trickle; the router is stopped (App.Shutdown, what
// SIGTERM does) with a 2 s deadline (shutdown_timeout). The destinations
// are local and healthy.
//
// Observed: the router never "stops accepting": the connection is drained
// until it is quiet for 200 ms (drainIdle), which a steady sender never
// is, so it is read for the whole shutdown_timeout; the engine and the
// destinations then get an expired context: Shutdown returns "connections
// still delivering at the shutdown deadline ... close destination archive:
// context deadline exceeded" (router run exits non-zero, not "stopped
// cleanly"), and the archive's open object is left .partial.
//
// Expected (README: "stops accepting, answers requests in flight, flushes
// and closes every destination and exits 0 (bounded by shutdown_timeout)";
// docs/kubernetes.md, Shutdown: 1. stops accepting ... 4. delivers what it
// can within shutdown_timeout): a healthy router with one slow sender
// stops cleanly well within its deadline; the drain of a connection is
// bounded by something less than the whole shutdown budget.
func TestLifecycleSteadySyslogSenderStarvesShutdown(t *testing.T) {
	a, data := syslogApp(t, &syslog.Config{TCP: &syslog.TCPConfig{Address: "127.0.0.1:0"}}, nil, 1<<30)
	_, tcp, _ := a.SyslogAddrs()
	c, err := net.Dial("tcp", tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			msg := fmt.Sprintf(`<14>1 2026-11-28T10:00:00Z relay app - - - {"seq":%d}`, i)
			if _, err := fmt.Fprintf(c, "%d %s\n", len(msg), msg); err != nil {
				return
			}
		}
	})
	time.Sleep(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	err = a.Shutdown(ctx)
	took := time.Since(start)
	close(stop)
	wg.Wait()
	partial, _ := filepath.Glob(filepath.Join(data, "archive", "*", "*", "*", "*", "*", "*.partial"))
	if err != nil || len(partial) > 0 {
		t.Fatalf("a healthy router with one steady syslog sender did not stop cleanly: Shutdown took %v and returned %v; archive objects left .partial: %d", took.Round(time.Millisecond), err, len(partial))
	}
}
