package syslog

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/testutil/testengine"
)

func TestMain(m *testing.M) { testutil.VerifyTestMain(m) }

// tlsFiles is a self-signed certificate (CA, server and client at once)
// for 127.0.0.1.
type tlsFiles struct {
	cert, key string
	pool      *x509.CertPool
	pair      tls.Certificate
}

func newTLSFiles(t *testing.T) tlsFiles {
	t.Helper()
	var f tlsFiles
	var certPEM []byte
	f.cert, f.key, certPEM = testutil.SelfSigned(t, t.TempDir())
	f.pool = x509.NewCertPool()
	f.pool.AppendCertsFromPEM(certPEM)
	var err error
	if f.pair, err = tls.LoadX509KeyPair(f.cert, f.key); err != nil {
		t.Fatal(err)
	}
	return f
}

// syncBuffer is a log destination tests read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type limitsFixture struct {
	srv *Server
	rec *testutil.RecordSink
	log *syncBuffer
}

// startServer starts a syslog input with cfg (loopback listeners to set by
// the caller) on an engine with one recording destination; it is shut down
// when the test ends.
func startServer(t *testing.T, cfg Config) *limitsFixture {
	t.Helper()
	f := &limitsFixture{rec: &testutil.RecordSink{SinkName: "all"}, log: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	eng := testengine.New(t, testengine.P1EDR, f.rec, &testutil.MemQuarantine{}, log)
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
		if err := f.srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return f
}

func counter(c interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}

// eventually fails t unless cond holds within 30s (generous: CI runs every
// package at once under -race on two cores).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within 30s: %s", what)
		}
	}
}

// dialFrom connects to addr from the loopback address from (127.0.0.0/8 is
// all loopback on Linux: distinct source addresses for the per-address
// bound).
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Skipf("cannot connect from %s (needs the 127.0.0.0/8 loopback of Linux): %v", from, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByServer reports whether the server closed c within wait.
func closedByServer(c net.Conn, wait time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	_, err := c.Read(make([]byte, 1))
	return err != nil && !isTimeout(err)
}

// stillOpen reports whether c is open (no data, no close) for a moment.
func stillOpen(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	return isTimeout(err)
}

func (f *limitsFixture) delivered(run string) int {
	n := 0
	for _, ev := range f.rec.Events() {
		if bytes.Contains(ev.Raw, []byte(`"run":"`+run+`"`)) {
			n++
		}
	}
	return n
}

func sendLine(t *testing.T, c net.Conn, run string) {
	t.Helper()
	if _, err := fmt.Fprintf(c, "<14>1 2026-11-28T10:00:00Z h app - - - {\"run\":%q}\n", run); err != nil {
		t.Fatal(err)
	}
}

// TestPerIPConnectionBound: past max_connections_per_ip, an address's new
// connections are closed at once and counted, TCP and TLS (handshakes in
// progress included) together; other addresses are not affected, and a
// closed connection frees its place.
func TestPerIPConnectionBound(t *testing.T) {
	tf := newTLSFiles(t)
	f := startServer(t, Config{
		MaxConnections: 16, MaxConnectionsPerIP: 3,
		TCP: &TCPConfig{Address: "127.0.0.1:0"},
		// The held TLS connection never starts its handshake: the longest
		// handshake_timeout keeps it held however slowly the test runs.
		TLS: &TLSConfig{Address: "127.0.0.1:0", CertFile: tf.cert, KeyFile: tf.key, HandshakeTimeout: time.Minute},
	})
	_, tcpAddr, tlsAddr := f.srv.Addrs()
	// 127.0.0.2: two idle TCP connections and one TLS handshake never begun.
	held := []net.Conn{dialFrom(t, "127.0.0.2", tcpAddr), dialFrom(t, "127.0.0.2", tcpAddr), dialFrom(t, "127.0.0.2", tlsAddr)}
	eventually(t, "3 connections of 127.0.0.2 counted", func() bool {
		f.srv.mu.Lock()
		defer f.srv.mu.Unlock()
		return f.srv.perIP[netip.MustParseAddr("127.0.0.2")] == 3
	})
	for _, addr := range []string{tcpAddr, tlsAddr} {
		if c := dialFrom(t, "127.0.0.2", addr); !closedByServer(c, 10*time.Second) {
			t.Errorf("a 4th connection of 127.0.0.2 (to %s) stayed open past max_connections_per_ip 3", addr)
		}
	}
	if got := counter(f.srv.m.refused[refusedPerIP]); got != 2 {
		t.Errorf("refused{reason=max_connections_per_ip} = %v, want 2", got)
	}
	if !strings.Contains(f.log.String(), "max_connections_per_ip") {
		t.Errorf("no warning names max_connections_per_ip:\n%s", f.log.String())
	}
	for i, c := range held {
		if !stillOpen(c) {
			t.Errorf("connection %d of 127.0.0.2, within the bound, was closed", i)
		}
	}
	// Another address is not affected.
	other := dialFrom(t, "127.0.0.3", tcpAddr)
	sendLine(t, other, "other-ip")
	eventually(t, "the message of 127.0.0.3 delivered", func() bool { return f.delivered("other-ip") == 1 })
	// A closed connection frees its place.
	held[0].Close()
	eventually(t, "the closed connection released", func() bool {
		f.srv.mu.Lock()
		defer f.srv.mu.Unlock()
		return f.srv.perIP[netip.MustParseAddr("127.0.0.2")] == 2
	})
	again := dialFrom(t, "127.0.0.2", tcpAddr)
	sendLine(t, again, "after-close")
	eventually(t, "127.0.0.2 delivers again once below the bound", func() bool { return f.delivered("after-close") == 1 })
}

// TestPerIPConnectionBoundOff: max_connections_per_ip -1 leaves only
// max_connections.
func TestPerIPConnectionBoundOff(t *testing.T) {
	f := startServer(t, Config{MaxConnections: 8, MaxConnectionsPerIP: -1, TCP: &TCPConfig{Address: "127.0.0.1:0"}})
	_, tcpAddr, _ := f.srv.Addrs()
	var conns []net.Conn
	for i := 0; i < 8; i++ {
		conns = append(conns, dialFrom(t, "127.0.0.2", tcpAddr))
	}
	for i, c := range conns {
		if !stillOpen(c) {
			t.Errorf("connection %d closed with max_connections_per_ip -1", i)
		}
	}
	if c := dialFrom(t, "127.0.0.2", tcpAddr); !closedByServer(c, 10*time.Second) {
		t.Error("a 9th connection stayed open past max_connections 8")
	}
	if got := counter(f.srv.m.refused[refusedMax]); got != 1 {
		t.Errorf("refused{reason=max_connections} = %v, want 1", got)
	}
}

// TestTLSHandshakeTimeout: a TLS peer that does not complete its handshake
// within tls.handshake_timeout is closed and counted, and releases its
// place; it never held a max_connections slot, so a sender with a
// certificate gets through meanwhile even with every slot's worth of such
// peers connected.
func TestTLSHandshakeTimeout(t *testing.T) {
	tf := newTLSFiles(t)
	// Long enough that the two pending handshakes below are still pending
	// when the third peer is accepted, even on a loaded machine.
	const hsTimeout = 2 * time.Second
	f := startServer(t, Config{
		MaxConnections: 2, MaxConnectionsPerIP: 8,
		TLS: &TLSConfig{Address: "127.0.0.1:0", CertFile: tf.cert, KeyFile: tf.key, ClientCAFile: tf.cert, RequireClientCert: true,
			HandshakeTimeout: hsTimeout},
	})
	_, _, addr := f.srv.Addrs()
	// One raw peer that never starts a handshake, one that trickles half a
	// ClientHello: neither completes. start is taken before either is
	// accepted, so no peer can be closed less than hsTimeout after it.
	start := time.Now()
	silent := dialFrom(t, "127.0.0.2", addr)
	trickle := dialFrom(t, "127.0.0.2", addr)
	if _, err := trickle.Write([]byte{0x16, 0x03, 0x01, 0x00, 0xff}); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]net.Conn{"silent": silent, "trickling": trickle} {
		if !closedByServer(c, 15*time.Second) {
			t.Errorf("%s peer still open 15s after connecting (handshake_timeout %s)", name, hsTimeout)
		}
	}
	if d := time.Since(start); d < hsTimeout-100*time.Millisecond {
		t.Errorf("peers closed after %s, before handshake_timeout", d)
	}
	eventually(t, "2 handshake timeouts counted", func() bool {
		return counter(f.srv.m.handshake.WithLabelValues("syslog", "timeout")) == 2
	})
	f.srv.mu.Lock()
	left := len(f.srv.perIP)
	f.srv.mu.Unlock()
	if left != 0 || len(f.srv.handshakes) != 0 || len(f.srv.conns) != 0 {
		t.Errorf("after the timeouts: %d addresses, %d handshakes, %d slots still held", left, len(f.srv.handshakes), len(f.srv.conns))
	}
	eventually(t, "the failed handshakes logged at debug level", func() bool {
		return strings.Count(f.log.String(), "syslog TLS handshake failed") == 2
	})

	// While both slots' worth of handshakes are pending, a real sender
	// still completes its own and delivers.
	for i := 0; i < 2; i++ {
		dialFrom(t, "127.0.0.2", addr)
	}
	eventually(t, "2 handshakes pending", func() bool { return len(f.srv.handshakes) == 2 })
	if c := dialFrom(t, "127.0.0.2", addr); !closedByServer(c, 10*time.Second) {
		t.Error("a 3rd pending handshake was not refused past max_connections 2")
	}
	if got := counter(f.srv.m.refused[refusedHandshakes]); got != 1 {
		t.Errorf("refused{reason=handshakes} = %v, want 1", got)
	}
	eventually(t, "the pending handshakes timed out", func() bool { return len(f.srv.handshakes) == 0 })
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: tf.pool, ServerName: "127.0.0.1", Certificates: []tls.Certificate{tf.pair}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sendLine(t, c, "authenticated")
	eventually(t, "the authenticated message delivered", func() bool { return f.delivered("authenticated") == 1 })
	if got := len(f.srv.conns); got != 1 {
		t.Errorf("%d max_connections slots held by one established connection", got)
	}
}

// TestTLSHandshakeFailureReasons: failed handshakes are counted by reason.
func TestTLSHandshakeFailureReasons(t *testing.T) {
	tf := newTLSFiles(t)
	f := startServer(t, Config{
		TLS: &TLSConfig{Address: "127.0.0.1:0", CertFile: tf.cert, KeyFile: tf.key, ClientCAFile: tf.cert, RequireClientCert: true},
	})
	_, _, addr := f.srv.Addrs()
	fail := func(reason string) float64 { return counter(f.srv.m.handshake.WithLabelValues("syslog", reason)) }

	// No client certificate.
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: tf.pool, ServerName: "127.0.0.1"})
	if err == nil { // TLS 1.3: the client learns of the refusal on its first read
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _ = c.Read(make([]byte, 1))
		c.Close()
	}
	eventually(t, "certificate failure counted", func() bool { return fail("certificate") == 1 })

	// Not TLS at all.
	raw := dialFrom(t, "127.0.0.1", addr)
	sendLine(t, raw, "plaintext")
	if !closedByServer(raw, 10*time.Second) {
		t.Error("a plaintext peer on the TLS listener stayed open")
	}
	eventually(t, "protocol failure counted", func() bool { return fail("protocol") == 1 })

	// Connected and left.
	dialFrom(t, "127.0.0.1", addr).Close()
	eventually(t, "closed failure counted", func() bool { return fail("closed") == 1 })
	if fail("timeout") != 0 {
		t.Errorf("timeouts counted: %v", fail("timeout"))
	}
}

// TestShutdownEndsPendingHandshakes: Shutdown does not wait for handshakes
// in progress (nothing was received on them) nor counts them as failures.
func TestShutdownEndsPendingHandshakes(t *testing.T) {
	tf := newTLSFiles(t)
	f := startServer(t, Config{TLS: &TLSConfig{Address: "127.0.0.1:0", CertFile: tf.cert, KeyFile: tf.key}})
	_, _, addr := f.srv.Addrs()
	c := dialFrom(t, "127.0.0.1", addr)
	eventually(t, "the handshake pending", func() bool { return len(f.srv.handshakes) == 1 })
	// Both bounds stay under handshake_timeout (10s), which a Shutdown
	// waiting for the handshake would take; they leave room for a loaded
	// machine.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	start := time.Now()
	if err := f.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Shutdown took %s with a handshake pending (handshake_timeout 10s)", d)
	}
	if !closedByServer(c, 5*time.Second) {
		t.Error("the pending handshake's connection is still open after Shutdown")
	}
	for _, reason := range []string{"timeout", "closed", "protocol", "certificate"} {
		if n := counter(f.srv.m.handshake.WithLabelValues("syslog", reason)); n != 0 {
			t.Errorf("shutdown counted as handshake failure %s: %v", reason, n)
		}
	}
}

// TestClientCAWithoutRequireWarns: client_ca_file without
// require_client_cert accepts clients that send no certificate; the start
// log says so and what to set.
func TestClientCAWithoutRequireWarns(t *testing.T) {
	tf := newTLSFiles(t)
	f := startServer(t, Config{TLS: &TLSConfig{Address: "127.0.0.1:0", CertFile: tf.cert, KeyFile: tf.key, ClientCAFile: tf.cert}})
	if !strings.Contains(f.log.String(), "require_client_cert: true") {
		t.Errorf("no warning telling to set require_client_cert:\n%s", f.log.String())
	}
	g := startServer(t, Config{TLS: &TLSConfig{Address: "127.0.0.1:0", CertFile: tf.cert, KeyFile: tf.key, ClientCAFile: tf.cert, RequireClientCert: true}})
	if strings.Contains(g.log.String(), "level=WARN") {
		t.Errorf("warning with require_client_cert set:\n%s", g.log.String())
	}
}

func TestLimitsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string // "" = valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"per-ip off", func(c *Config) { c.MaxConnectionsPerIP = -1 }, ""},
		{"per-ip negative", func(c *Config) { c.MaxConnectionsPerIP = -2 }, "max_connections_per_ip"},
		{"handshake negative", func(c *Config) { c.TLS.HandshakeTimeout = -time.Second }, "tls.handshake_timeout"},
		{"handshake too long", func(c *Config) { c.TLS.HandshakeTimeout = 2 * time.Minute }, "tls.handshake_timeout"},
		{"handshake 1m", func(c *Config) { c.TLS.HandshakeTimeout = time.Minute }, ""},
	} {
		c := Config{TLS: &TLSConfig{}}
		tc.mod(&c)
		c.SetDefaults()
		err := c.Validate("inputs.syslog")
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.want)
		}
	}
	c := Config{TLS: &TLSConfig{}}
	c.SetDefaults()
	if c.MaxConnectionsPerIP != 64 || c.TLS.HandshakeTimeout != 10*time.Second {
		t.Errorf("defaults: max_connections_per_ip %d, tls.handshake_timeout %s", c.MaxConnectionsPerIP, c.TLS.HandshakeTimeout)
	}
}
