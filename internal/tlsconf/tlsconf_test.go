package tlsconf

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
)

func TestClientErrorsNameTheSetting(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ca, cert, key, want string
	}{
		{ca: filepath.Join(dir, "missing.pem"), want: "tls.ca_file"},
		{ca: notPEM, want: "tls.ca_file: no PEM certificate"},
		{cert: notPEM, key: notPEM, want: "tls.cert_file/key_file"},
	} {
		if _, err := NewClient(tc.ca, tc.cert, tc.key, false, "", nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewClient(%q, %q, %q) = %v, want an error with %q", tc.ca, tc.cert, tc.key, err, tc.want)
		}
	}
	c, err := NewClient("", "", "", false, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tc := c.Config(); tc.RootCAs != nil || len(tc.Certificates) != 0 || tc.MinVersion == 0 || c.Reloads() {
		t.Fatalf("NewClient with no files = %+v (reloads %v)", tc, c.Reloads())
	}
}

// rotatingServer serves the pair in cur (swapped by the test) on
// 127.0.0.1.
type rotatingServer struct {
	cur atomic.Pointer[tls.Certificate]
}

func (r *rotatingServer) set(t *testing.T, certFile, keyFile string) {
	t.Helper()
	kp, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	r.cur.Store(&kp)
}

func (r *rotatingServer) config() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		return r.cur.Load(), nil
	}}
}

// handshakeOnly listens on 127.0.0.1 with cfg and completes each
// connection's handshake, then closes it.
func handshakeOnly(t *testing.T, cfg *tls.Config) net.Listener {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_ = c.(*tls.Conn).Handshake()
				_ = c.Close()
			}()
		}
	}()
	return ln
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestClientDialSeesRotatedCA: a destination whose certificate moves to a
// new CA is trusted at the next connection once the CA bundle file holds
// the new CA, without a restart, and dialled by IP address (crypto/tls
// gives VerifyConnection no server name there, which is why the bundle is
// swapped per connection). Until the file changes, the new certificate is
// refused: the bundle verifies.
func TestClientDialSeesRotatedCA(t *testing.T) {
	certA, keyA, pemA := testutil.SelfSigned(t, t.TempDir())
	certB, keyB, pemB := testutil.SelfSigned(t, t.TempDir())
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	writeFile(t, caFile, pemA)
	var srv rotatingServer
	srv.set(t, certA, keyA)
	ln := handshakeOnly(t, srv.config())
	c, err := NewClient(caFile, "", "", false, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.roots.every = 0 // check at every connection
	dial := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := c.Dial(ctx, nil, "tcp", ln.Addr().String())
		if err == nil {
			_ = conn.Close()
		}
		return err
	}
	if err := dial(); err != nil {
		t.Fatalf("the first CA's server: %v", err)
	}
	srv.set(t, certB, keyB)
	if err := dial(); err == nil {
		t.Fatal("a server of a CA not in the bundle was trusted")
	}
	writeFile(t, caFile, pemB)
	time.Sleep(10 * time.Millisecond) // a new modification time
	if err := dial(); err != nil {
		t.Fatalf("after the bundle was rotated: %v", err)
	}
	writeFile(t, caFile, []byte("half written"))
	time.Sleep(10 * time.Millisecond)
	if err := dial(); err != nil {
		t.Fatalf("a bundle that does not load replaced the last good one: %v", err)
	}
}

// TestTransportSeesRotatedCA: an http.Transport set up by Client.Transport
// verifies each new connection with the bundle as it is then, keeps
// HTTP/2 where the transport attempts it, and refuses an untrusted server.
func TestTransportSeesRotatedCA(t *testing.T) {
	certA, keyA, pemA := testutil.SelfSigned(t, t.TempDir())
	certB, keyB, pemB := testutil.SelfSigned(t, t.TempDir())
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	writeFile(t, caFile, pemA)
	var rs rotatingServer
	rs.set(t, certA, keyA)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{TLSConfig: rs.config(), ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(r.Proto)) })}
	go func() { _ = srv.ServeTLS(ln, "", "") }() // HTTP/2 offered
	defer srv.Close()
	url := "https://" + ln.Addr().String()

	c, err := NewClient(caFile, "", "", false, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.roots.every = 0
	tr := http.DefaultTransport.(*http.Transport).Clone() // ForceAttemptHTTP2
	c.Transport(tr)
	defer tr.CloseIdleConnections()
	get := func() (string, error) {
		tr.CloseIdleConnections() // a new connection each time
		resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(url)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		return resp.Proto, nil
	}
	if proto, err := get(); err != nil || proto != "HTTP/2.0" {
		t.Fatalf("the first CA's server: %q, %v; want HTTP/2.0", proto, err)
	}
	rs.set(t, certB, keyB)
	if _, err := get(); err == nil {
		t.Fatal("a server of a CA not in the bundle was trusted")
	}
	writeFile(t, caFile, pemB)
	time.Sleep(10 * time.Millisecond)
	if proto, err := get(); err != nil || proto != "HTTP/2.0" {
		t.Fatalf("after the bundle was rotated: %q, %v", proto, err)
	}
}

// TestClientServerName: server_name is what the certificate is verified
// against, whatever host was dialled.
func TestClientServerName(t *testing.T) {
	certA, keyA, pemA := testutil.SelfSigned(t, t.TempDir()) // for 127.0.0.1 and localhost
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	writeFile(t, caFile, pemA)
	var rs rotatingServer
	rs.set(t, certA, keyA)
	ln := handshakeOnly(t, rs.config())
	for name, ok := range map[string]bool{"localhost": true, "siem.example.com": false} {
		c, err := NewClient(caFile, "", "", false, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := c.Dial(context.Background(), (&net.Dialer{Timeout: 5 * time.Second}).DialContext, "tcp", ln.Addr().String())
		if (err == nil) != ok {
			t.Errorf("server_name %s: %v, want ok=%v", name, err, ok)
		}
		if err == nil {
			_ = conn.Close()
		}
	}
}
