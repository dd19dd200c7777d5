package syslog

// Fault test from a third review of the syslog input: it failed on the code
// as it was found, because of the fault its comment describes.

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/logrouter/logrouter/internal/testutil"
)

// TestServerCertRefusedNotCountedAsClientCert
//
// What is wrong: the most common TLS onboarding error is a sender that
// does not trust the router's certificate (its CA not installed on the
// sender, a name mismatch): syslog-ng's peer-verify(required-trusted) and
// OpenSSL/Go clients abort the handshake with an alert (unknown_ca,
// bad_certificate). The router sees "remote error: tls: unknown
// certificate authority", and handshakeFailure files every error whose
// text contains "certificate" under reason="certificate", which the
// metric's help defines as "client certificate missing or not verified".
// Here the listener does not even ask for client certificates (no
// client_ca_file), yet logrouter_syslog_tls_handshake_failures_total
// {reason="certificate"} counts the sender's refusal of the router's own
// certificate: the operator is sent to look at client certificates, mTLS
// settings and client_ca_file, none of which is involved.
//
// Expected: reason="certificate" counts only client certificates the
// router refused (crypto/tls's errors for a missing or unverified client
// certificate); a peer's alert about the router's certificate ("remote
// error: ...") is counted under another reason (a reason of its own, or
// at least "protocol", "anything else"), as
// docs/configuration.md's tls.handshake_timeout row and the metric's help
// define the reasons.
func TestServerCertRefusedNotCountedAsClientCert(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := testutil.SelfSigned(t, dir)
	f := faults3Start(t, Config{TLS: &TLSConfig{Address: "127.0.0.1:0", CertFile: cert, KeyFile: key}})
	_, _, addr := f.srv.Addrs()

	// A sender without the router's CA: an empty trust store.
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr,
		&tls.Config{RootCAs: x509.NewCertPool(), ServerName: "localhost"})
	if err == nil {
		c.Close()
		t.Fatal("a client that does not trust the router's certificate completed the handshake")
	}
	reasons := []string{"timeout", "certificate", "peer_alert", "closed", "protocol"}
	val := func(r string) float64 {
		var m dto.Metric
		_ = f.srv.m.handshake.WithLabelValues("syslog", r).Write(&m)
		return m.GetCounter().GetValue()
	}
	total := func() (n float64) {
		for _, r := range reasons {
			n += val(r)
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for total() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if total() != 1 {
		t.Fatalf("handshake failures counted: %v, want 1", total())
	}
	if got := val("peer_alert"); got != 1 {
		t.Errorf("the sender's alert was not counted as peer_alert (%v)", err)
	}
	if got := val("certificate"); got != 0 {
		t.Errorf("the sender's refusal of the ROUTER's certificate (client error: %v) was counted as reason=\"certificate\" "+
			"(\"client certificate missing or not verified\") on a listener that asks for no client certificate", err)
	}
}
