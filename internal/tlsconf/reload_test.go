package tlsconf

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
)

// TestKeyPairReloads: a renewed pair (new files at the same paths) is
// served after the next check; files that do not load keep the last good
// pair.
func TestKeyPairReloads(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	c1, k1, _ := testutil.SelfSigned(t, t.TempDir())
	c2, k2, _ := testutil.SelfSigned(t, t.TempDir())
	cp := func(src, dst string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cp(c1, cert)
	cp(k1, key)
	kp, err := LoadKeyPair(cert, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	kp.every = 0 // check at every handshake
	first, _ := kp.GetCertificate(nil)
	cp(c2, cert)
	cp(k2, key)
	second, _ := kp.GetCertificate(nil)
	if bytes.Equal(first.Certificate[0], second.Certificate[0]) {
		t.Fatal("the renewed pair is not served")
	}
	if err := os.WriteFile(cert, []byte("half written"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	third, _ := kp.GetClientCertificate(nil)
	if !bytes.Equal(third.Certificate[0], second.Certificate[0]) {
		t.Fatal("a pair that does not load replaced the last good one")
	}
}

// TestCAPoolReloads: a server verifying client certificates against a
// CAPool accepts clients of the bundle as it is at the handshake: after the
// file is replaced, the old CA's clients are refused and the new one's
// accepted; a file that does not load keeps the last good bundle.
func TestCAPoolReloads(t *testing.T) {
	srvCert, srvKey, srvPEM := testutil.SelfSigned(t, t.TempDir())
	certA, keyA, pemA := testutil.SelfSigned(t, t.TempDir())
	certB, keyB, pemB := testutil.SelfSigned(t, t.TempDir())
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, pemA, 0o600); err != nil {
		t.Fatal(err)
	}
	kp, err := LoadKeyPair(srvCert, srvKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := LoadCAPool(caFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	ca.every = 0 // check at every handshake
	srv := kp.Server()
	ca.VerifyClients(srv, tls.RequireAndVerifyClientCert)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(srvPEM)
	handshake := func(certFile, keyFile string) error {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		errc := make(chan error, 1)
		go func() {
			s := tls.Server(a, srv)
			errc <- s.Handshake()
			s.Close()
		}()
		c := tls.Client(b, &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{pair}})
		cerr := c.Handshake()
		if cerr == nil {
			// TLS 1.3: the server's verdict on the client certificate
			// arrives with the first read.
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			_, cerr = c.Read(make([]byte, 1))
			if errors.Is(cerr, io.EOF) {
				cerr = nil
			}
		}
		c.Close()
		if serr := <-errc; serr != nil {
			return serr
		}
		return cerr
	}
	if err := handshake(certA, keyA); err != nil {
		t.Fatalf("client of CA A refused with A in the bundle: %v", err)
	}
	if err := os.WriteFile(caFile, pemB, 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // another modification time
	if err := handshake(certA, keyA); err == nil {
		t.Fatal("client of CA A accepted after the bundle was replaced by B")
	}
	if err := handshake(certB, keyB); err != nil {
		t.Fatalf("client of CA B refused after the bundle became B: %v", err)
	}
	if err := os.WriteFile(caFile, []byte("half written"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if err := handshake(certB, keyB); err != nil {
		t.Fatalf("a bundle that does not load replaced the last good one: %v", err)
	}
}
