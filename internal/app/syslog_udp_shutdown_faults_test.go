package app

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found), but any
// skipped with its reason.

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
	"github.com/logrouter/logrouter/pipeline/queue"
	"github.com/logrouter/logrouter/sinks/file"
)

// reviewGatedSink holds every Write until open is closed, then records the
// sequence numbers ("udp-seq=N") of the events it accepts.
type reviewGatedSink struct {
	name string
	open chan struct{}
	once sync.Once
	mu   sync.Mutex
	seqs map[int]int
}

var reviewSeqRE = regexp.MustCompile(`udp-seq=(\d+)`)

func (s *reviewGatedSink) Name() string { return s.name }
func (s *reviewGatedSink) Write(ctx context.Context, b *pipeline.Batch) error {
	select {
	case <-s.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range b.Events {
		if m := reviewSeqRE.FindSubmatch(ev.Raw); m != nil {
			var n int
			fmt.Sscan(string(m[1]), &n)
			s.seqs[n]++
		}
	}
	return nil
}
func (s *reviewGatedSink) Close(context.Context) error { s.release(); return nil }
func (s *reviewGatedSink) release()                    { s.once.Do(func() { close(s.open) }) }

func gatherSum(t *testing.T, a *App, name string) float64 {
	t.Helper()
	mfs, err := a.Engine().Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

// TestSyslogUDPShutdownDrainsReceiveBuffer
//
// What I did: ran the router with the syslog UDP input while its
// destination was momentarily slow (the reader waits for its batch to be
// accepted: one batch in flight per stream), sent 50 datagrams that the
// kernel queued on the socket, then stopped the router (App.Shutdown, what
// SIGTERM does). Against the real binary: 3000 datagrams over UDP and 3000
// lines over one TCP connection, SIGTERM right after the last send: all
// 3000 TCP lines were archived, 1203 of the 3000 UDP messages.
//
// What happened: Server.Shutdown drains TCP and TLS connections ("reads
// what its sender already sent until it ends or stays quiet for 200ms"),
// but a UDP reader returns as soon as it sees closing, and the socket is
// closed with the datagrams still in its receive buffer: they are
// discarded, and counted nowhere (neither
// logrouter_dropped_events_total nor logrouter_syslog_udp_kernel_drops_total:
// the ledger balances without them).
//
// What should happen: the README promises that SIGTERM "stops accepting,
// answers requests in flight, flushes ... and exits 0", and that UDP losses
// are counted. The datagrams the kernel already accepted for the router are
// in hand: read them (non-blocking, until the buffer is empty) before
// closing, as TCP connections are drained, or at the least count them as
// dropped. Every rolling restart or config reload of a syslog collector
// behind a UDP port otherwise silently loses up to a receive buffer (8 MiB
// by default, tens of thousands of firewall log lines) of events.
func TestSyslogUDPShutdownDrainsReceiveBuffer(t *testing.T) {
	data := t.TempDir()
	cfg := &config.Config{
		Log:   config.Log{Level: "error", Format: "text"},
		Admin: config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{Syslog: &syslog.Config{
			UDP:         &syslog.UDPConfig{Address: "127.0.0.1:0", Readers: 1},
			BatchEvents: 1, BatchWait: 10 * time.Millisecond,
		}},
		Destinations: []config.Destination{
			{Name: "siem", Type: "file", File: &file.Config{Dir: filepath.Join(data, "siem")}, Queue: &queue.Config{Mode: "none"}},
		},
		Routing: config.Routing{All: []string{"siem"}},
	}
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Queue.Dir = filepath.Join(data, "queue")
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sink := &reviewGatedSink{name: "siem", open: make(chan struct{}), seqs: map[int]int{}}
	a := startApp(t, cfg, WithSink("siem", sink))
	udp, _, _ := a.SyslogAddrs()
	c, err := net.Dial("udp", udp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	send := func(i int) {
		if _, err := fmt.Fprintf(c, "<134>1 2026-11-28T10:00:00Z fw01 filterlog - - - block in on em0 udp-seq=%d", i); err != nil {
			t.Fatal(err)
		}
	}
	// The first message's batch waits for the destination; the second
	// holds the reader. The rest wait in the socket's receive buffer.
	send(0)
	time.Sleep(100 * time.Millisecond)
	send(1)
	time.Sleep(100 * time.Millisecond)
	const n = 50
	for i := 2; i < n; i++ {
		send(i)
	}
	time.Sleep(50 * time.Millisecond)

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- a.Shutdown(ctx)
	}()
	time.Sleep(100 * time.Millisecond) // SIGTERM arrived; the destination catches up
	sink.release()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	sink.mu.Lock()
	delivered := len(sink.seqs)
	sink.mu.Unlock()
	dropped := gatherSum(t, a, "logrouter_dropped_events_total") + gatherSum(t, a, "logrouter_syslog_udp_kernel_drops_total")
	if float64(delivered)+dropped < n {
		t.Errorf("%d datagrams were sent and queued on the socket before SIGTERM; %d were delivered, %v counted as dropped: %v lost without a trace",
			n, delivered, dropped, float64(n-delivered)-dropped)
	}
}
