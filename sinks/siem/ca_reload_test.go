package siem

import (
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/tlsconf"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/siem/hecfake"
)

// rotateCA writes to caFile a CA that did not issue the server's
// certificate, for the test to check that the destination refuses the
// server, and returns a func that writes the right one (as a rotated
// Secret would) and waits until a new connection reads it.
func rotateCA(t *testing.T, caFile string, right []byte) func() {
	t.Helper()
	_, _, wrong := testutil.SelfSigned(t, t.TempDir())
	if err := os.WriteFile(caFile, wrong, 0o600); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.WriteFile(caFile, right, 0o600); err != nil {
			t.Fatal(err)
		}
		time.Sleep(tlsconf.CheckEvery + 100*time.Millisecond)
	}
}

// TestHECReadsRotatedCA: the CA bundle in tls.ca_file is read again when
// it changes, so a SIEM whose certificate moved to a new CA is trusted
// once the bundle (a Kubernetes Secret) is updated, without a restart;
// before, the events waited in the queue until the pod was restarted.
func TestHECReadsRotatedCA(t *testing.T) {
	fake := newFake(t, hecfake.Config{TLS: true})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	rotate := rotateCA(t, ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fake.Certificate().Raw}))
	h := newTestHEC(t, fake, func(c *HECConfig) { c.TLS = &TLSConfig{CAFile: ca} })
	b := makeBatch(idRange(0, 3, "ws"), pipeline.P1)
	defer b.Release()
	if err := h.Write(context.Background(), b); err == nil || pipeline.IsPermanent(err) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a CA that did not issue the server's certificate: %v", err)
	}
	rotate()
	if err := h.Write(context.Background(), b); err != nil {
		t.Fatalf("after the CA bundle was updated: %v", err)
	}
}

// TestSyslogReadsRotatedCA: as TestHECReadsRotatedCA, over syslog TLS.
func TestSyslogReadsRotatedCA(t *testing.T) {
	dir, srvConf := testPKI(t)
	rcv := newReceiver(t, true, srvConf)
	right, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	rotate := rotateCA(t, ca, right)
	s := newTestSyslog(t, SyslogConfig{Address: rcv.addr, ReconnectBackoffMin: time.Millisecond,
		TLS: &TLSConfig{CAFile: ca, CertFile: filepath.Join(dir, "client.pem"), KeyFile: filepath.Join(dir, "client.key")}})
	b := makeBatch(idRange(0, 5, "ws"), pipeline.P1)
	defer b.Release()
	if err := s.Write(context.Background(), b); err == nil || pipeline.IsPermanent(err) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a CA that did not issue the receiver's certificate: %v", err)
	}
	rotate()
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatalf("after the CA bundle was updated: %v", err)
	}
	waitFor(t, "5 messages", 10*time.Second, func() bool { return len(rcv.messages()) >= 5 })
}
