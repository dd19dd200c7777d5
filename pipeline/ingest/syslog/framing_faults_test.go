package syslog

// Tests from a third review of the syslog input against what real senders
// write. Each failed on the code as it was found, because of the fault its
// comment describes.

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/testutil/testengine"
)

// faults3Fixture is a syslog input whose destination and quarantine the
// test reads.
type faults3Fixture struct {
	srv *Server
	rec *testutil.RecordSink
	q   *testutil.MemQuarantine
}

func faults3Start(t *testing.T, cfg Config) *faults3Fixture {
	t.Helper()
	f := &faults3Fixture{rec: &testutil.RecordSink{SinkName: "all"}, q: &testutil.MemQuarantine{}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng := testengine.New(t, testengine.P1EDR, f.rec, f.q, log)
	var err error
	if f.srv, err = New(cfg, eng, log); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = f.srv.Shutdown(ctx)
	})
	return f
}

// faults3Event is what these tests read back of a delivered event.
type faults3Event struct {
	Message   string `json:"message"`
	Process   struct{ Name string }
	Logrouter struct {
		ParseStatus string `json:"parse_status"`
	}
	raw string
}

// events returns the delivered events whose JSON contains marker.
func (f *faults3Fixture) events(t *testing.T, marker string) []faults3Event {
	t.Helper()
	var out []faults3Event
	for _, ev := range f.rec.Events() {
		if !strings.Contains(string(ev.Raw), marker) {
			continue
		}
		var e faults3Event
		if err := json.Unmarshal(ev.Raw, &e); err != nil {
			t.Fatalf("event is not JSON: %v: %s", err, ev.Raw)
		}
		e.raw = string(ev.Raw)
		out = append(out, e)
	}
	return out
}

// waitEvents polls until at least want events holding marker arrived, or
// for 10s, then lets 300ms more pass (more than asked for must show too)
// and returns what arrived.
func (f *faults3Fixture) waitEvents(t *testing.T, marker string, want int) []faults3Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(f.events(t, marker)) < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	return f.events(t, marker)
}

// syslogNGStackTrace is, byte for byte, the datagram syslog-ng 3.38 sends
// with `syslog("127.0.0.1" port(N) transport("udp"))` for a Java stack
// trace read by `file(... multi-line-mode(indented))` (captured on this
// machine): one RFC 5424 message whose MSG spans three lines.
const syslogNGStackTrace = "<13>1 2026-11-30T06:32:38+00:00 vm javaapp - - [meta sequenceId=\"1\"] " +
	"Exception in thread \"main\" java.lang.NullPointerException: faults3udp\n" +
	"\tat com.example.Foo.bar(Foo.java:10)\n" +
	"\tat com.example.Main.main(Main.java:5)\n"

// TestUDPMultiLineDatagramSplit
//
// What is wrong: serveUDP splits every datagram at each '\n' and parses
// each line as a message of its own ("A datagram is one message; some
// senders pack several lines", server.go). A multi-line message, a Java
// stack trace as syslog-ng sends it over UDP (syslogNGStackTrace, captured
// from syslog-ng 3.38 with multi-line-mode(indented)), or a Windows event in
// Splunk's classic multi-line rendering, which package parse decodes
// (FormatWinClassic) and which a Splunk forwarder's syslog output
// (outputs.conf [syslog], often type = udp) sends, or NXLog's om_udp with a
// Windows event whose Message holds CRLFs, comes out as one event per line: the first line keeps
// the header, every "\tat ..." continuation becomes an event of its own,
// parse_status "raw" (counted as garbage from that sender), with no host,
// app or time: the stack trace is torn apart and unsearchable as one event.
//
// Expected: one datagram carrying one syslog message is one event with
// its whole MSG, newlines included. RFC 5426 section 3.1: "Each syslog UDP
// datagram MUST contain only one syslog message"; the TCP and TLS
// listeners with octet counting already keep such a message whole
// (docs/shippers.md: "Octet counting lets a message contain newlines
// (stack traces)"). Senders that pack several messages in one datagram
// could still be served by splitting only where the next line starts a
// syslog header ("<PRI>").
func TestUDPMultiLineDatagramSplit(t *testing.T) {
	cfg := Config{UDP: &UDPConfig{Address: "127.0.0.1:0", Readers: 1}, BatchWait: 20 * time.Millisecond}
	f := faults3Start(t, cfg)
	addr, _, _ := f.srv.Addrs()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(syslogNGStackTrace)); err != nil {
		t.Fatal(err)
	}
	// Every event of this fixture comes from that datagram.
	f.waitEvents(t, "faults3udp", 1)
	got := f.events(t, "")
	if len(got) != 1 {
		for _, e := range got {
			t.Logf("event: %s", e.raw)
		}
		t.Fatalf("one UDP datagram holding one multi-line syslog message became %d events, want 1", len(got))
	}
	e := got[0]
	if e.Logrouter.ParseStatus != "rfc5424" || e.Process.Name != "javaapp" {
		t.Errorf("parse_status %q, process.name %q, want rfc5424 and javaapp: %s", e.Logrouter.ParseStatus, e.Process.Name, e.raw)
	}
	want := "Exception in thread \"main\" java.lang.NullPointerException: faults3udp\n\tat com.example.Foo.bar(Foo.java:10)\n\tat com.example.Main.main(Main.java:5)"
	if e.Message != want {
		t.Errorf("message %q, want the whole stack trace %q", e.Message, want)
	}
}

// TestTCPNULDelimitedFrames
//
// What is wrong: the newline framer knows one trailer, LF. RFC 6587
// section 3.4.2 (non-transparent framing, which the input claims to
// detect) says of the TRAILER: "most often is ASCII LF (%d10). However,
// other characters have also been seen, with ASCII NUL (%d00) being a
// prominent example". Juniper NetScreen ends each TCP message with NUL
// (rsyslog's imtcp/imptcp AddtlFrameDelimiter exists for it), and Graylog's
// TCP syslog output uses NUL by default. framer.go even strips trailing
// NULs as "framing residue" (trimEOL) but never cuts a frame at one. For
// such a sender:
//   - keepalive: no message is delivered while the connection stays open
//     (they wait for a '\n' that never comes, until idle_timeout, 10m);
//   - volume: once max_message_bytes of them are buffered they come out as
//     ONE truncated event (several messages glued with NULs), and then
//     discardEOL skips "to the next newline", i.e. every later byte of the
//     connection is read and thrown away, counted only as one oversize
//     message.
//
// Expected: a NUL that ends a frame in newline framing is a trailer like
// LF ("<13>a\x00<13>b\x00" is two messages, delivered as they come), as
// RFC 6587 3.4.2 describes and rsyslog's AddtlFrameDelimiter="0" does.
func TestTCPNULDelimitedFrames(t *testing.T) {
	msg := func(i int) string {
		return "<28>Nov 28 10:00:00 ns5gt ns5gt: NetScreen device_id=ns5gt system-warning-00515: faults3nul-" + strings.Repeat("x", 3) + "-" + string(rune('a'+i)) + "\x00"
	}
	t.Run("delivered_while_open", func(t *testing.T) {
		f := faults3Start(t, Config{TCP: &TCPConfig{Address: "127.0.0.1:0"}, BatchWait: 20 * time.Millisecond})
		_, addr, _ := f.srv.Addrs()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var b strings.Builder
		for i := 0; i < 3; i++ {
			b.WriteString(msg(i))
		}
		if _, err := io.WriteString(c, b.String()); err != nil {
			t.Fatal(err)
		}
		got := f.waitEvents(t, "faults3nul", 3)
		if len(got) != 3 {
			t.Fatalf("3 NUL-terminated messages on an open connection: %d events after 10s, want 3 (%v)", len(got), got)
		}
	})
	t.Run("not_discarded_past_max", func(t *testing.T) {
		f := faults3Start(t, Config{TCP: &TCPConfig{Address: "127.0.0.1:0"}, MaxMessageBytes: 480, BatchWait: 20 * time.Millisecond})
		_, addr, _ := f.srv.Addrs()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		const n = 20 // ~2 KB: each message is far below max_message_bytes
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(msg(i))
		}
		if _, err := io.WriteString(c, b.String()); err != nil {
			t.Fatal(err)
		}
		_ = c.Close() // a clean end: everything sent must come out
		got := f.waitEvents(t, "faults3nul", n)
		if len(got) != n {
			for _, e := range got {
				t.Logf("event message: %q", e.Message)
			}
			t.Fatalf("%d NUL-terminated messages of %d bytes each: %d events, want %d (the rest was discarded after the first max_message_bytes)", n, len(msg(0)), len(got), n)
		}
	})
}
