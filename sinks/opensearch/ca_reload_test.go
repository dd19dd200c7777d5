package opensearch

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/tlsconf"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
)

// TestReadsRotatedCA: the CA bundle in tls.ca_file is read again when it
// changes, so a cluster whose certificate moved to a new CA is trusted
// once the bundle (a Kubernetes Secret) is updated, without a restart.
func TestReadsRotatedCA(t *testing.T) {
	srv := osfake.New(osfake.WithTLS())
	t.Cleanup(srv.Close)
	_, _, wrong := testutil.SelfSigned(t, t.TempDir())
	ca := t.TempDir() + "/ca.pem"
	if err := os.WriteFile(ca, wrong, 0o600); err != nil {
		t.Fatal(err)
	}
	b := makeBatch(t, 12, 10, time.Second)
	defer b.Release()
	e := newEnvOn(t, srv, Config{TLS: &TLSConfig{CAFile: ca}})
	if err := e.sink.Write(context.Background(), b); err == nil || pipeline.IsPermanent(err) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a CA that did not issue the server's certificate: Write = %v", err)
	}
	if err := os.WriteFile(ca, srv.CertificatePEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(tlsconf.CheckEvery + 100*time.Millisecond)
	if err := e.sink.Write(context.Background(), b); err != nil {
		t.Fatalf("after the CA bundle was updated: %v", err)
	}
	if len(srv.Docs()) != 10 {
		t.Fatalf("%d docs", len(srv.Docs()))
	}
}
