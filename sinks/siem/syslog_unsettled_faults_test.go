package siem

// Review of sinks/siem (syslog over TLS whose receiver refuses the client).

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// TestSyslogTLSClientCertRefusedReportedDelivered
//
// A TLS receiver that requires a client certificate (mutual TLS, as
// logrouter's own syslog input offers with require_client_cert) refuses a
// client without one, or with one it no longer trusts (expired, CA
// rotated). In TLS 1.3 the client's handshake completes before the server
// has checked the client's certificate: the refusal (an alert, then a
// close) comes after Dial returned. writePersistent dials, writes the
// batch into the socket at once and returns nil: the queue deletes the
// events as delivered, although the receiver never read a byte of them.
// The only copy left is the in-memory replay window, which keeps at most
// replay_bytes (default 4 MiB): as the misconfiguration lasts, remember()
// trims it, silently (no log, no counter), and those events are lost.
//
// The test refuses the client while 20 batches are written, then fixes the
// receiver (stops requiring client certificates) and writes one more.
// Expected: every event Write reported delivered reaches the receiver
// (or Write does not report delivered what went over a refused
// connection). Observed: Write returns nil for the batches, and those the
// window no longer holds never arrive.
func TestSyslogTLSClientCertRefusedReportedDelivered(t *testing.T) {
	dir, base := testPKI(t)
	var require atomic.Bool
	require.Store(true)
	srvConf := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			c := base.Clone()
			if !require.Load() {
				c.ClientAuth = tls.NoClientCert
			}
			return c, nil
		},
	}
	rcv := newReceiver(t, true, srvConf)
	// No client certificate configured: the receiver refuses every connection.
	s := newTestSyslog(t, SyslogConfig{
		Address: rcv.addr, TLS: &TLSConfig{CAFile: filepath.Join(dir, "ca.pem")},
		ReconnectBackoffMin: time.Millisecond, ReconnectBackoffMax: 20 * time.Millisecond,
		ReplayBytes: 4 << 10, // the default 4 MiB scaled down to the test's traffic
		ReplayAge:   300 * time.Millisecond,
	})
	delivered, nilWrites := writeBatches(s, 30*time.Millisecond) // the refusal arrives; the watcher sees it
	if got := len(rcv.messages()); got != 0 {
		t.Fatalf("the receiver read %d messages while it refused the client", got)
	}
	t.Logf("%d of 20 Writes over refused TLS connections returned nil", nilWrites)

	// The operator fixes the receiver: it no longer requires a client certificate.
	require.Store(false)
	b := makeBatch(idRange(1000, 1010, "ws"), pipeline.P1)
	writeUntilSettled(t, s, b) // the queue retries what Write refused
	b.Release()
	waitFor(t, "the batch written after the fix", 5*time.Second, func() bool {
		return msgIDs(t, rcv.messages())["e001009"] > 0
	})
	time.Sleep(300 * time.Millisecond) // any replay still on its way
	if lost := missing(delivered, msgIDs(t, rcv.messages())); lost > 0 {
		t.Errorf("%d events that Write reported delivered (over TLS connections the receiver refused for the missing client certificate) never reached the receiver: lost from the queue and from the replay window", lost)
	}
}

// TestSyslogAcceptThenResetReportedDelivered is the same fault
// without TLS: a load balancer with no healthy backend (or a receiver still
// starting) accepts each connection and resets it unread. Every Write dials,
// writes into the socket and returns nil; the events exist only in the
// replay window, which remember() trims to replay_bytes without a log line
// or a counter, so what it trims is lost once a backend is back.
func TestSyslogAcceptThenResetReportedDelivered(t *testing.T) {
	for name, mode := range map[string]int32{"reset": modeReset, "closed at once": modeClose} {
		t.Run(name, func(t *testing.T) { acceptThenBreak(t, mode) })
	}
}

// acceptThenBreak: a front that accepts every connection and breaks it
// unread (mode), then a healthy receiver; nothing Write reported
// delivered may be missing.
func acceptThenBreak(t *testing.T, mode int32) {
	rcv := newModalReceiver(t)
	rcv.mode.Store(mode)
	s := newTestSyslog(t, SyslogConfig{
		Address:             rcv.ln.Addr().String(),
		ReconnectBackoffMin: time.Millisecond, ReconnectBackoffMax: 5 * time.Millisecond,
		ReplayBytes: 4 << 10, // the default 4 MiB scaled down to the test's traffic
		ReplayAge:   300 * time.Millisecond,
	})
	ctx := context.Background()
	delivered, nilWrites := writeBatches(s, 40*time.Millisecond) // the reset arrives; the watcher sees it
	t.Logf("%d of 20 Writes to a front that resets every connection unread returned nil", nilWrites)
	rcv.mode.Store(modeRecord)
	time.Sleep(100 * time.Millisecond)
	b := makeBatch(idRange(1000, 1001, "ws"), pipeline.P1)
	writeUntilSettled(t, s, b)
	b.Release()
	_ = s.Close(ctx) // EOF at the receiver: it has read everything
	waitFor(t, "the last batch at the receiver", 5*time.Second, func() bool {
		return msgIDs(t, splitFrames(rcv.recorded()))["e001000"] > 0
	})
	if lost := missing(delivered, msgIDs(t, splitFrames(rcv.recorded()))); lost > 0 {
		t.Errorf("%d events that Write reported delivered over connections the receiver reset unread never reached it", lost)
	}
}

// writeBatches writes 20 batches of 10 events (e000000..e000199), pausing
// after each, and returns the events of the Writes that returned nil.
func writeBatches(s *Syslog, pause time.Duration) (delivered map[string]bool, nilWrites int) {
	delivered = map[string]bool{}
	for i := 0; i < 20; i++ {
		b := makeBatch(idRange(i*10, i*10+10, "ws"), pipeline.P1)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := s.Write(ctx, b)
		cancel()
		b.Release()
		if err == nil {
			nilWrites++
			for j := i * 10; j < i*10+10; j++ {
				delivered[fmt.Sprintf("e%06d", j)] = true
			}
		}
		time.Sleep(pause)
	}
	return delivered, nilWrites
}

// missing counts the ids of delivered that got lacks.
func missing(delivered map[string]bool, got map[string]int) int {
	n := 0
	for id := range delivered {
		if got[id] == 0 {
			n++
		}
	}
	return n
}

// writeUntilSettled writes b until Write takes it, as the queue in front
// of the destination retries: while the receiver is unsettled (it broke a
// connection within replay_age) and the replay window is full, Write
// refuses new batches.
func writeUntilSettled(t *testing.T, s *Syslog, b *pipeline.Batch) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err = s.Write(context.Background(), b); err == nil {
			return
		}
		if !errors.Is(err, errUnsettled) {
			break
		}
	}
	t.Fatalf("write to the healthy receiver: %v", err)
}

// splitFrames cuts octet-counted frames apart (for msgIDs).
func splitFrames(s string) []string {
	var out []string
	for len(s) > 0 {
		sp := 0
		for sp < len(s) && s[sp] != ' ' {
			sp++
		}
		n := 0
		fmt.Sscanf(s[:sp], "%d", &n)
		if n <= 0 || sp+1+n > len(s) {
			break
		}
		out = append(out, s[sp+1:sp+1+n])
		s = s[sp+1+n:]
	}
	return out
}
