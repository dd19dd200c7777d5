package syslog

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"path/filepath"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
)

// TestSyslogTLSServesRenewedCertificate
//
// Config/sequence: inputs.syslog.tls with cert_file/key_file pointing at a
// mounted Kubernetes TLS secret (as deploy/kubernetes/gateway.yaml does:
// /etc/logrouter/tls/tls.crt, tls.key). cert-manager renews the certificate
// (by default 30 days before expiry) and the kubelet updates the mounted
// files in place; the router keeps running.
//
// What happens: tlsConfig() reads the pair once, at Start, into
// tls.Config.Certificates; every later handshake presents the old
// certificate. Once it expires, every rsyslog/syslog-ng sender fails the
// handshake (counted as handshake failures on the senders' side only) until
// someone restarts the pods. Nothing in docs/configuration.md, the example
// config or the Kubernetes manifest says the files are read only at start
// or that a restart is needed after renewal.
//
// What should happen: a new connection after the files changed is served
// the renewed certificate (tls.Config.GetCertificate re-loading the pair
// when the files' modification time or content changes, keeping the last
// good pair if a half-written update does not parse), or, at the very
// least, the documentation must say the certificate is loaded at start and
// a restart is required after rotation.
//
// Why it matters: an expired listener certificate is a full outage of the
// authenticated syslog path, the one security teams use for devices, with
// no sign on the router (its metrics only see failed handshakes).
func TestSyslogTLSServesRenewedCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, oldPEM := testutil.SelfSigned(t, dir)
	f := startServer(t, Config{
		TLS: &TLSConfig{Address: "127.0.0.1:0", CertFile: certFile, KeyFile: keyFile},
	})
	_, _, addr := f.srv.Addrs()

	served := func() []byte {
		t.Helper()
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // we only read the served certificate
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Raw
	}
	der := func(p []byte) []byte { b, _ := pem.Decode(p); return b.Bytes }

	if !bytes.Equal(served(), der(oldPEM)) {
		t.Fatal("the listener does not serve its configured certificate")
	}

	// Renewal: the same paths now hold a new certificate and key.
	time.Sleep(10 * time.Millisecond) // a later modification time
	c2, k2, newPEM := testutil.SelfSigned(t, dir)
	if c2 != certFile || k2 != keyFile || filepath.Dir(c2) != dir {
		t.Fatal("renewal did not overwrite the configured files")
	}

	deadline := time.Now().Add(5 * time.Second)
	for {
		got := served()
		if bytes.Equal(got, der(newPEM)) {
			return
		}
		if time.Now().After(deadline) {
			if bytes.Equal(got, der(oldPEM)) {
				t.Fatal("after the certificate files were renewed, new TLS connections are still served the old certificate (loaded once at Start; no reload, and the docs do not say a restart is needed)")
			}
			t.Fatal("new TLS connections are served neither the old nor the renewed certificate")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
