package tlsconf

import (
	"bytes"
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
