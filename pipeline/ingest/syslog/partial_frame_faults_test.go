package syslog

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/testutil/testengine"
)

// reviewFixture is a syslog input whose destination and quarantine the
// test reads.
type reviewFixture struct {
	srv *Server
	rec *testutil.RecordSink
	q   *testutil.MemQuarantine
}

func reviewStart(t *testing.T, cfg Config) *reviewFixture {
	t.Helper()
	f := &reviewFixture{rec: &testutil.RecordSink{SinkName: "all"}, q: &testutil.MemQuarantine{}}
	log := slog.New(slog.NewTextHandler(&syncBuffer{}, nil))
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

// outcome counts the delivered events and the quarantined records holding
// marker, and the reasons of the latter.
func (f *reviewFixture) outcome(marker string) (delivered int, reasons []string) {
	for _, ev := range f.rec.Events() {
		if strings.Contains(string(ev.Raw), marker) {
			delivered++
		}
	}
	for _, r := range f.q.Records() {
		if strings.Contains(string(r.Raw), marker) {
			reasons = append(reasons, r.Reason)
		}
	}
	return delivered, reasons
}

// waitOutcome polls outcome for up to 5s until marker shows up somewhere.
func (f *reviewFixture) waitOutcome(marker string) (int, []string) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, r := f.outcome(marker)
		if d+len(r) > 0 || time.Now().After(deadline) {
			return d, r
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The bytes of a frame a sender had not finished when its connection ended.
// octetPartial declares 80 bytes and sends fewer; lfPartial has no newline
// yet. Each follows one complete message.
const (
	octetPartial = "5 <13>a80 <13>1 2026-11-28T00:00:00Z h app - - - octetPartialMarker"
	lfPartial    = "<13>complete\n<13>1 2026-11-28T00:00:00Z h app - - - lfPartialMarker"
)

// TestPartialFrameNotSilentlyLost: bytes of an unfinished frame that
// the router has already read must not vanish when the connection ends.
// When the peer closes cleanly (EOF) they are handled: an unfinished
// octet-counted frame is quarantined as incomplete_frame (framer.go
// next(), documented in docs/architecture.md "A connection that closes
// inside an octet-counted frame leaves half a message: it is quarantined as
// incomplete_frame") and a final newline frame is delivered. But when the
// connection ends any other way, serveConn (server.go) returns and the
// framer's buffer is dropped: nothing delivered, nothing quarantined,
// nothing counted:
//   - idle_timeout closes the connection (a sender that died mid-frame,
//     whose FIN never arrives);
//   - Shutdown drains the connection ("reads what its sender already sent")
//     and closes it;
//   - the peer resets the connection (RST), or a TLS stream ends with
//     io.ErrUnexpectedEOF: fill returns a non-EOF error and next returns it.
//
// Expected: in every case the half octet-counted frame is quarantined as
// incomplete_frame, as at EOF; the newline frame is delivered or
// quarantined, never silently dropped.
func TestPartialFrameNotSilentlyLost(t *testing.T) {
	ends := []struct {
		name string
		cfg  Config
		end  func(t *testing.T, f *reviewFixture, c net.Conn)
	}{
		{"eof (reference: works)", Config{}, func(t *testing.T, f *reviewFixture, c net.Conn) {
			time.Sleep(200 * time.Millisecond)
			c.Close()
		}},
		{"idle_timeout", Config{IdleTimeout: 300 * time.Millisecond}, func(t *testing.T, f *reviewFixture, c net.Conn) {
			if !closedByServer(c, 10*time.Second) {
				t.Fatal("the server did not close the idle connection")
			}
		}},
		{"shutdown", Config{}, func(t *testing.T, f *reviewFixture, c net.Conn) {
			time.Sleep(200 * time.Millisecond) // the server has read the bytes
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := f.srv.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
		}},
		{"reset", Config{}, func(t *testing.T, f *reviewFixture, c net.Conn) {
			time.Sleep(200 * time.Millisecond) // the server has read the bytes
			_ = c.(*net.TCPConn).SetLinger(0)  // close with RST
			c.Close()
		}},
	}
	for _, e := range ends {
		for _, tc := range []struct {
			name, payload, marker string
			octet                 bool
		}{
			{"octet", octetPartial, "octetPartialMarker", true},
			{"lf", lfPartial, "lfPartialMarker", false},
		} {
			t.Run(e.name+"/"+tc.name, func(t *testing.T) {
				cfg := e.cfg
				cfg.TCP = &TCPConfig{Address: "127.0.0.1:0"}
				f := reviewStart(t, cfg)
				_, addr, _ := f.srv.Addrs()
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if _, err := c.Write([]byte(tc.payload)); err != nil {
					t.Fatal(err)
				}
				e.end(t, f, c)
				delivered, reasons := f.waitOutcome(tc.marker)
				if delivered+len(reasons) == 0 {
					t.Fatalf("connection ended by %s: the unfinished frame %q the router had read was neither delivered nor quarantined (silent loss)", e.name, tc.marker)
				}
				if tc.octet && (delivered != 0 || len(reasons) != 1 || reasons[0] != "incomplete_frame") {
					t.Errorf("connection ended by %s inside an octet-counted frame: delivered %d, quarantined %v; want it quarantined once as incomplete_frame", e.name, delivered, reasons)
				}
			})
		}
	}
}
