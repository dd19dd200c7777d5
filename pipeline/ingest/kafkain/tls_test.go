package kafkain

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/logrouter/logrouter/internal/kafkacfg"
	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/tlsconf"
	"github.com/logrouter/logrouter/pipeline/engine"
)

// TestTLSBrokersReadRotatedCA: a consumer group over TLS (dialled by
// kafkacfg's hook, which reads tls.ca_file again when it changes) joins,
// consumes and commits; with a CA that did not issue the brokers'
// certificate it consumes nothing, and once the bundle is updated it
// does, without a restart.
func TestTLSBrokersReadRotatedCA(t *testing.T) {
	certFile, keyFile, right := testutil.SelfSigned(t, t.TempDir()) // for 127.0.0.1
	kp, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "logs"),
		kfake.TLS(&tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{kp}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	broker := c.ListenAddrs()[0]
	_, _, wrong := testutil.SelfSigned(t, t.TempDir())
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, wrong, 0o600); err != nil {
		t.Fatal(err)
	}

	// Produce over TLS with the right CA.
	tc, err := kafkacfg.TLSClient(&kafkacfg.TLS{CAFile: certFile})
	if err != nil {
		t.Fatal(err)
	}
	tr := kafkacfg.Transport(5*time.Second, "test", tc, nil)
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: "logs", RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, Transport: tr}
	defer w.Close()
	msgs := make([]kafka.Message, 10)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: fmt.Appendf(nil, `{"n":%d}`, i)}
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}

	cfg := faultConfig(broker, "g-tls", "logs")
	cfg.TLS = &kafkacfg.TLS{CAFile: ca}
	sink := newFaultSink()
	s, err := New(cfg, faultEngine(t, engine.Config{}, sink), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	time.Sleep(tlsconf.CheckEvery / 2)
	if n := sink.Events(); n != 0 {
		t.Fatalf("%d events consumed from brokers a CA that did not issue their certificate", n)
	}
	if err := os.WriteFile(ca, right, 0o600); err != nil {
		t.Fatal(err)
	}
	faultWait(t, 30*time.Second, "the 10 records after the CA bundle was updated", func() bool { return sink.Events() == 10 })
	faultWait(t, 10*time.Second, "the commit", func() bool { return faultCommittedTLS(t, broker, tr) == 10 })
}

// faultCommittedTLS is faultCommitted over tr.
func faultCommittedTLS(t *testing.T, broker string, tr *kafka.Transport) int64 {
	t.Helper()
	cl := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 5 * time.Second, Transport: tr}
	off, err := cl.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: "g-tls", Topics: map[string][]int{"logs": {0}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range off.Topics["logs"] {
		return p.CommittedOffset
	}
	return -1
}
