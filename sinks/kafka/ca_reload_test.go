package kafka

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/tlsconf"
	"github.com/logrouter/logrouter/pipeline"
)

// TestReadsRotatedCA: the CA bundle in tls.ca_file is read again when it
// changes, so brokers whose certificates moved to a new CA are trusted
// once the bundle (a Kubernetes Secret) is updated, without a restart
// (kafka-go's own TLS takes one tls.Config for the transport's life).
func TestReadsRotatedCA(t *testing.T) {
	certFile, keyFile, right := testutil.SelfSigned(t, t.TempDir()) // for 127.0.0.1
	kp, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, kfake.TLS(&tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{kp}}))
	_, _, wrong := testutil.SelfSigned(t, t.TempDir())
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, wrong, 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, c, Config{Topic: "logs", WriteTimeout: 2 * time.Second, TLS: &TLSConfig{CAFile: ca}}, withMetadataTTL(500*time.Millisecond))
	b := mkBatch(ev{raw: `{"a":1}`, hash: 1, prio: pipeline.P1})
	defer b.Release()
	if err := s.Write(context.Background(), b); err == nil || pipeline.IsPermanent(err) {
		t.Fatalf("a CA that did not issue the brokers' certificate: got %v, want a retryable error", err)
	}
	if err := os.WriteFile(ca, right, 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(tlsconf.CheckEvery + 100*time.Millisecond)
	// kafka-go keeps a failed metadata lookup until its next refresh
	// (metadata TTL): the queue in front of the destination retries.
	var err2 error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err2 = s.Write(context.Background(), b); err2 == nil {
			break
		}
	}
	if err2 != nil {
		t.Fatalf("after the CA bundle was updated: %v", err2)
	}
	if n := stored(c, "logs"); n != 1 {
		t.Errorf("%d records stored, want 1", n)
	}
}
