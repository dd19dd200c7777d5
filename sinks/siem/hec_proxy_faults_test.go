package siem

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// reviewCA is a test certificate authority that signs leaf certificates
// for chosen names.
type reviewCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newReviewCA(t *testing.T) *reviewCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "review CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &reviewCA{cert: c, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf signs a server certificate for exactly the given DNS names or IPs.
func (ca *reviewCA) leaf(t *testing.T, serial int64, dns []string, ips []net.IP) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "review leaf"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: dns, IPAddresses: ips,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestHECThroughHTTPSProxyVerifiesProxyAgainstSplunkName
//
// Config: a splunk_hec destination with url https://localhost:PORT and a
// tls block ({ca_file: the internal CA}, no server_name), reached through an
// HTTPS forward proxy (HTTPS_PROXY=https://proxy..., which NewHEC honours via
// http.ProxyFromEnvironment). The proxy's certificate is issued by the same
// internal CA, for the proxy's own name (here 127.0.0.1).
//
// What happens: the tls block's build() always sets tls.Config.ServerName to
// the HEC URL's host, even when server_name is not configured. net/http uses
// TLSClientConfig for the TLS session to an https:// proxy too, and only
// fills in the proxy's host when ServerName is empty; so the proxy's
// certificate is checked against "localhost" (the Splunk name) and every
// request fails with an x509 name mismatch. Events stay queued forever.
//
// What should happen: without an explicit server_name, ServerName should be
// left empty so net/http verifies each hop against its own host (the proxy
// against the proxy's name, then Splunk through the CONNECT tunnel against
// the URL's host, which net/http sets itself), and the write succeeds.
//
// Why it matters: egress to a SaaS Splunk (Splunk Cloud) through an HTTPS
// proxy is common in security networks; adding a tls block (e.g. for an
// internal CA) silently makes P1 delivery impossible.
func TestHECThroughHTTPSProxyVerifiesProxyAgainstSplunkName(t *testing.T) {
	ca := newReviewCA(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}

	// The "Splunk" HEC endpoint: a certificate for localhost only.
	splunkLn, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{ca.leaf(t, 2, []string{"localhost"}, nil)},
	})
	if err != nil {
		t.Fatal(err)
	}
	splunk := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"text":"Success","code":0}`)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = splunk.Serve(splunkLn) }()
	t.Cleanup(func() { _ = splunk.Close() })
	_, splunkPort, _ := net.SplitHostPort(splunkLn.Addr().String())

	// The HTTPS forward proxy: a certificate for its own address only.
	proxyLn, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{ca.leaf(t, 3, nil, []net.IP{net.ParseIP("127.0.0.1")})},
		NextProtos:   []string{"http/1.1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	connects := make(chan string, 16)
	proxy := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		connects <- r.Host
		_, port, _ := net.SplitHostPort(r.Host)
		up, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", port), 5*time.Second)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		if n := brw.Reader.Buffered(); n > 0 {
			b, _ := brw.Reader.Peek(n)
			_, _ = up.Write(b)
		}
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		_, _ = io.Copy(c, up)
		c.Close()
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = proxy.Serve(proxyLn) }()
	t.Cleanup(func() { _ = proxy.Close() })
	proxyURL := &url.URL{Scheme: "https", Host: proxyLn.Addr().String()}

	h, err := NewHEC("splunk", HECConfig{
		URL: "https://localhost:" + splunkPort, Token: Secret(testToken), DefaultHost: "router-1",
		Timeout: 5 * time.Second, TLS: &TLSConfig{CAFile: caFile},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	// What HTTPS_PROXY=https://127.0.0.1:PORT gives http.ProxyFromEnvironment
	// (which exempts loopback targets, hence set here directly).
	h.tr.Proxy = http.ProxyURL(proxyURL)

	b := makeBatch(idRange(0, 3, "ws"), pipeline.P1)
	defer b.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Write(ctx, b); err != nil {
		t.Fatalf("HEC write through an HTTPS proxy whose certificate (for 127.0.0.1, same CA) is valid: %v", err)
	}
	select {
	case host := <-connects:
		if host != "localhost:"+splunkPort {
			t.Errorf("proxy got CONNECT %s", host)
		}
	default:
		t.Error("the write did not go through the proxy")
	}
}
