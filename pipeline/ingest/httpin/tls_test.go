package httpin

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
)

// TestStartFailsOnUnloadableTLSFiles: with tls_cert_file and
// tls_key_file set the HTTP input serves HTTPS (docs/configuration.md,
// inputs.http). When those files cannot be loaded (missing, or a key that
// does not match the certificate), Start must return an error, as the
// syslog TLS listener does ("inputs.syslog.tls: load cert_file/key_file")
// and as every TLS output does in New, so that the router does not start.
//
// A review found that Start loaded nothing: it listened, logged "HTTP
// input listening" with tls=true and returned nil, while its goroutine's
// ServeTLS failed at once on the files and returned, leaving the listener
// open with nobody accepting. App.Start then marked the router ready
// (/readyz 200), every sender's connection sat in the kernel backlog until
// its own timeout, and the error only came out at Shutdown.
func TestStartFailsOnUnloadableTLSFiles(t *testing.T) {
	dir := t.TempDir()
	cert, _, _ := testutil.SelfSigned(t, dir)
	_, otherKey, _ := testutil.SelfSigned(t, t.TempDir())
	for _, tc := range []struct{ name, cert, key string }{
		{"missing key", cert, filepath.Join(dir, "missing-key.pem")},
		{"key of another certificate", cert, otherKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{}, nil)
			s, err := New(Config{Address: "127.0.0.1:0", TLSCertFile: tc.cert, TLSKeyFile: tc.key}, f.eng, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				return // refused before listening: fine too
			}
			if err := s.Start(); err != nil {
				return // expected: the router does not start
			}
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				serr := s.Shutdown(ctx)
				_ = s.ln.Close() // ServeTLS returned without closing it
				t.Logf("the load error only came out at Shutdown: %v", serr)
			}()
			// What a sender sees: the kernel accepts the TCP connection,
			// nobody ever answers the TLS handshake.
			d := &net.Dialer{Timeout: time.Second}
			c, herr := tls.DialWithDialer(d, "tcp", s.Addr(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // probing only
			if herr == nil {
				c.Close()
			}
			t.Errorf("Start() = nil with TLS files that do not load (%s); a sender's TLS handshake: %v", tc.name, herr)
		})
	}
}

// TestHTTPS: with loadable files the input serves HTTPS (a HEC event over
// TLS 1.2+ is accepted) and refuses TLS 1.1.
func TestHTTPS(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := testutil.SelfSigned(t, dir)
	f := newFixture(t, Config{}, nil)
	s, err := New(Config{Address: "127.0.0.1:0", TLSCertFile: cert, TLSKeyFile: key, Tokens: []Token{{Name: "t", Token: "tok-https-0123456789"}}}, f.eng, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}()
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // a self-signed test certificate
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("POST", "https://"+s.Addr()+"/services/collector/event", strings.NewReader(`{"event":"over tls"}`))
	req.Header.Set("Authorization", "Splunk tok-https-0123456789")
	res, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil {
		t.Fatalf("HTTPS HEC request: %d %s (tls %v)", res.StatusCode, body, res.TLS != nil)
	}
	if n := len(f.rec.Events()); n != 1 {
		t.Errorf("%d events delivered, want 1", n)
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.Addr(),
		&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}) //nolint:gosec // probing the server's minimum
	if err == nil {
		c.Close()
		t.Error("a TLS 1.1 client was accepted")
	}
}
