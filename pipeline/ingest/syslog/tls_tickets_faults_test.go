package syslog

// Review (real shippers): a TLS 1.3 sender that only writes, as syslog
// senders do (RFC 5425 is one-way), loses what the router has not read yet
// when it closes its connection.

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/testutil/testengine"
	"github.com/logrouter/logrouter/pipeline"
)

// reviewExactReads reads one byte at a time, so that a TLS client reads
// no record it does not need.
type reviewExactReads struct{ net.Conn }

func (r reviewExactReads) Read(p []byte) (int, error) { return r.Conn.Read(p[:min(len(p), 1)]) }

// ticketsSlowSink is a destination that takes 50 ms per batch (a busy
// SIEM): the router holds the connection (TCP backpressure), so what the
// sender wrote waits in the router's socket buffer.
type ticketsSlowSink struct{ testutil.RecordSink }

func (s *ticketsSlowSink) Write(ctx context.Context, b *pipeline.Batch) error {
	time.Sleep(50 * time.Millisecond)
	return s.RecordSink.Write(ctx, b)
}

// ticketsSlowStart starts cfg on an engine whose destination is slow.
func ticketsSlowStart(t *testing.T, cfg Config) (*Server, *ticketsSlowSink, *testutil.MemQuarantine) {
	t.Helper()
	sink := &ticketsSlowSink{RecordSink: testutil.RecordSink{SinkName: "all"}}
	q := &testutil.MemQuarantine{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng := testengine.New(t, testengine.P1EDR, sink, q, log)
	srv, err := New(cfg, eng, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv, sink, q
}

func ticketsCount(s *ticketsSlowSink, marker string) int {
	n := 0
	for _, ev := range s.Events() {
		if strings.Contains(string(ev.Raw), marker) {
			n++
		}
	}
	return n
}

// ticketsSendTLS writes n octet-counted RFC 5424 messages of run over one
// TLS connection with at most version maxVer, never reading (as loggen,
// syslog-ng and rsyslog's omfwd do), then closes it as they do at exit or
// at a reconnect.
func ticketsSendTLS(t *testing.T, addr, run string, n int, maxVer uint16) {
	t.Helper()
	raw, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// A session cache makes the client offer psk_dhe_ke, as OpenSSL
	// (loggen, syslog-ng) and GnuTLS (rsyslog gtls) clients always do;
	// reviewExactReads makes it read only the handshake's records, as
	// they do (crypto/tls would otherwise pull the tickets into its own
	// buffer with the server's Finished).
	c := tls.Client(reviewExactReads{raw}, &tls.Config{InsecureSkipVerify: true, MaxVersion: maxVer, //nolint:gosec // test
		ClientSessionCache: tls.NewLRUClientSessionCache(1)})
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("P", 250)
	var b strings.Builder
	for i := 0; i < n; i++ {
		msg := fmt.Sprintf(`<14>1 2026-11-28T10:00:00Z host app - - - {"run":%q,"seq":%d,"pad":%q}`, run, i, pad)
		fmt.Fprintf(&b, "%d %s", len(msg), msg)
		if b.Len() > 64<<10 || i == n-1 {
			if _, err := c.Write([]byte(b.String())); err != nil {
				t.Fatalf("write: %v", err)
			}
			b.Reset()
		}
	}
	// Every byte was written and acknowledged by the router's TCP stack
	// before Close returns... but the session tickets the router sent
	// after the handshake sit unread in this socket: close() sends RST.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTLS13WriteOnlySenderLosesUnread
//
// What the user sees: loggen -U (TLS) sent 50000 messages to the router's
// TLS port; the destination got 40275 of them, and no drop counter moved.
// The same happens to syslog-ng and rsyslog (gtls) whenever they close a
// busy connection (a reload, a restart, rsyslog's RebindInterval).
//
// Cause: the Go TLS 1.3 server (tlsconf KeyPair.Server(), no
// SessionTicketsDisabled) sends NewSessionTicket messages after the
// handshake. A syslog sender never reads, so they stay in its receive
// buffer; its close() then sends a RST instead of a FIN, and the router's
// kernel discards everything still in the router's receive buffer: bytes
// TCP acknowledged, lost, uncounted. Over TLS 1.2 (tickets inside the
// handshake) nothing is lost.
func TestTLS13WriteOnlySenderLosesUnread(t *testing.T) {
	files := newTLSFiles(t)
	const n = 20000
	for _, v := range []struct {
		name string
		max  uint16
	}{{"tls12", tls.VersionTLS12}, {"tls13", tls.VersionTLS13}} {
		t.Run(v.name, func(t *testing.T) {
			srv, sink, q := ticketsSlowStart(t, Config{BatchEvents: 500, TLS: &TLSConfig{Address: "127.0.0.1:0", CertFile: files.cert, KeyFile: files.key}})
			_, _, addr := srv.Addrs()
			run := "review-" + v.name
			ticketsSendTLS(t, addr, run, n, v.max)
			var got int
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				if got = ticketsCount(sink, run); got == n {
					break
				}
			}
			time.Sleep(500 * time.Millisecond)
			got = ticketsCount(sink, run)
			if got != n {
				t.Errorf("%s: the sender wrote %d messages and closed; %d arrived (%d lost, none counted, none quarantined: %d)",
					v.name, n, got, n-got, len(q.Records()))
			}
		})
	}
}
