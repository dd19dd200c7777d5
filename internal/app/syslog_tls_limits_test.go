package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
	"github.com/logrouter/logrouter/sinks/file"
)

// TestSyslogTLSIdlePeersDoNotStarveAuthenticatedSenders: peers that connect
// to the TLS listener and never start a handshake (no certificate needed)
// are closed after tls.handshake_timeout and hold no max_connections slot
// meanwhile, so an mTLS sender with a valid certificate still gets through.
//
// It used to go wrong: the handshake ran lazily on the first Read, under the
// 10-minute idle_timeout, with the connection's slot taken at accept, so
// max_connections such sockets (shared with plain TCP, no per-address bound)
// refused every authenticated sender for ten minutes.
func TestSyslogTLSIdlePeersDoNotStarveAuthenticatedSenders(t *testing.T) {
	data := t.TempDir()
	cert, key := selfSigned(t, data)
	cfg := &config.Config{
		Log:   config.Log{Level: "error", Format: "text"},
		Admin: config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{Syslog: &syslog.Config{
			MaxConnections: 4, // the default 1024 fell to 1024 sockets the same way
			TLS: &syslog.TLSConfig{Address: "127.0.0.1:0", CertFile: cert, KeyFile: key, ClientCAFile: cert, RequireClientCert: true,
				HandshakeTimeout: 500 * time.Millisecond},
		}},
		Destinations: []config.Destination{{Name: "all", Type: "file", File: &file.Config{Dir: filepath.Join(data, "all")}}},
		Routing:      config.Routing{All: []string{"all"}},
	}
	cfg.Quarantine.Dir, cfg.Queue.Dir = filepath.Join(data, "q"), filepath.Join(data, "queue")
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, cfg)
	h := &syslogHarness{t: t, app: a, data: data}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	}()
	_, _, addr := a.SyslogAddrs()
	// The attacker: plain TCP connects, no TLS, no certificate, nothing sent.
	var idle []net.Conn
	for i := 0; i < cfg.Inputs.Syslog.MaxConnections; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	// Each is closed once its handshake times out (500ms): wait for that,
	// with room for a loaded machine, but far less than the 10-minute
	// idle_timeout the handshake used to run under.
	for i, c := range idle {
		_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || isTimeoutErr(err) {
			t.Errorf("idle socket %d still open 15s after connecting (handshake_timeout 500ms): %v", i, err)
		}
	}
	// A peer sees its socket closed a moment before the server's handshake
	// goroutine gives its slot back (and then counts the timeout): wait for
	// all four to be counted, or the sender below could find every slot
	// still taken.
	timeouts := fmt.Sprintf(`logrouter_syslog_tls_handshake_failures_total{input="syslog",reason="timeout"} %d`, len(idle))
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(scrapeRegistry(t, a), timeouts); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the %d handshake timeouts were not counted:\n%s", len(idle), grep(scrapeRegistry(t, a), "handshake"))
		}
	}
	pemData, _ := os.ReadFile(cert)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemData)
	kp, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", Certificates: []tls.Certificate{kp}}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 15 * time.Second}, "tcp", addr, tc)
	if err == nil {
		msg := `<14>1 2026-11-28T10:00:00Z h app - - - {"run":"legit","seq":0}`
		_, err = fmt.Fprintf(c, "%d %s", len(msg), msg)
		if err == nil {
			// TLS 1.3 reports a refused connection on the first read.
			_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			_, err = c.Read(make([]byte, 1))
			if isTimeoutErr(err) {
				err = nil
			}
		}
		c.Close()
	}
	if err != nil {
		t.Fatalf("authenticated mTLS sender refused after %d certificate-less idle sockets connected: %v", len(idle), err)
	}
	h.expectExactlyOnce("legit", 1, "syslog-tls")
}
