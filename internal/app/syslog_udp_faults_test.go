package app

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

// Review of "syslog times and UDP shutdown": each test fails against the
// code as it was reviewed, because of the fault its comment describes.

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
	"github.com/logrouter/logrouter/pipeline/queue"
	"github.com/logrouter/logrouter/sinks/file"
)

// TestSyslogUDPSocketOpenAfterItsDrain
//
// The fault: at shutdown a UDP reader now drains its socket until it has
// been quiet for udpDrainQuiet (50 ms) and returns, but the socket stays
// bound and open: Server.Shutdown closes the UDP sockets only after every
// reader AND every TCP/TLS connection is done (s.wg.Wait), which takes as
// long as the TCP drains and their batches' acceptance take (up to the
// shutdown deadline). Every datagram a device sends in that window is
// accepted by the kernel into a socket nobody reads and discarded when it
// is finally closed: not delivered, and counted nowhere (neither
// logrouter_dropped_events_total nor the kernel drop counters, which only
// count a full buffer). The same happens to the sockets of the other
// readers (udp.readers, SO_REUSEPORT) while one of them is still draining
// a busy sender for up to 2 s: the kernel keeps hashing senders to the
// sockets whose readers have left.
//
// Who is affected: every syslog collector with a UDP port and any TCP/TLS
// sender (or a second reader) during a rolling restart or reload. What
// they lose: firewall and OS log lines, silently, the loss the commit set
// out to stop ("the datagrams already in the socket buffers were discarded
// uncounted"); the ledger balances without them. A reader whose drain is
// over should close its socket (later datagrams are then refused, never
// taken and thrown away), or keep reading until the socket is closed.
func TestSyslogUDPSocketOpenAfterItsDrain(t *testing.T) {
	data := t.TempDir()
	cfg := &config.Config{
		Log:   config.Log{Level: "error", Format: "text"},
		Admin: config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{Syslog: &syslog.Config{
			UDP:         &syslog.UDPConfig{Address: "127.0.0.1:0", Readers: 1},
			TCP:         &syslog.TCPConfig{Address: "127.0.0.1:0"},
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
	defer sink.release()
	udpAddr, tcpAddr, _ := a.SyslogAddrs()

	// A TCP sender's last batch is still being accepted when SIGTERM
	// comes (the destination is slow for a moment): Shutdown waits for it.
	tc, err := net.Dial("tcp", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if _, err := fmt.Fprintf(tc, "<134>1 2026-11-28T10:00:00Z fw01 filterlog - - - tcp line udp-seq=1000\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- a.Shutdown(ctx)
	}()
	// The UDP reader had nothing to drain: it is done after 50 ms of quiet.
	time.Sleep(300 * time.Millisecond)
	uc, err := net.Dial("udp", udpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	const n = 20
	sent := 0
	var reply [64]byte
	for i := range n {
		if _, err := fmt.Fprintf(uc, "<134>1 2026-11-28T10:00:01Z fw02 filterlog - - - block in on em0 udp-seq=%d", i); err != nil {
			continue // the ICMP refusal of an earlier datagram (a closed port)
		}
		// A datagram sent to a port no socket holds draws an ICMP port
		// unreachable, which the connected sender's next read reports
		// (ECONNREFUSED): such a datagram was refused, visibly. One that
		// draws none is in the router's socket.
		_ = uc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := uc.Read(reply[:]); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				sent++
			}
		}
	}
	time.Sleep(50 * time.Millisecond)
	sink.release() // the destination catches up; Shutdown completes
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	sink.mu.Lock()
	delivered := 0
	for seq := range sink.seqs {
		if seq < n {
			delivered++
		}
	}
	tcpOK := sink.seqs[1000] > 0
	sink.mu.Unlock()
	if !tcpOK {
		t.Fatal("control: the TCP line was not delivered")
	}
	dropped := gatherSum(t, a, "logrouter_dropped_events_total") + gatherSum(t, a, "logrouter_syslog_udp_kernel_drops_total")
	if float64(delivered)+dropped < float64(sent) {
		t.Errorf("%d datagrams were taken by the kernel into the router's still-open UDP socket during shutdown; %d delivered, %v counted as dropped: %v lost without a trace",
			sent, delivered, dropped, float64(sent-delivered)-dropped)
	}
}
