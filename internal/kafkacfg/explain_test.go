package kafkacfg

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"
)

func TestExplain(t *testing.T) {
	s := &SASL{Mechanism: "scram-sha-512", Username: "edge", Password: "pw-not-logged"}
	wrap := func(err error) error {
		return fmt.Errorf("could not successfully authenticate to b:9093 with SASL: %w", err)
	}
	for _, c := range []struct {
		name  string
		err   error
		group string
		want  string // "" : no hint
	}{
		{"wrong password", wrap(kafka.SASLAuthenticationFailed), "g", `refused the credentials of inputs.kafka.sasl (mechanism scram-sha-512, username "edge")`},
		{"mechanism off", wrap(kafka.UnsupportedSASLMechanism), "g", "does not enable SASL mechanism scram-sha-512 (inputs.kafka.sasl.mechanism)"},
		{"group ACL", fmt.Errorf("join: %w", kafka.GroupAuthorizationFailed), "g", `consumer group "g" (inputs.kafka.group_id)`},
		{"group ACL, producer", kafka.GroupAuthorizationFailed, "", ""},
		{"cluster ACL", kafka.ClusterAuthorizationFailed, "", "refused an operation on the cluster"},
		{"unknown CA", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, "", "set inputs.kafka.tls.ca_file"},
		{"wrong name", &tls.CertificateVerificationError{Err: x509.HostnameError{Host: "10.0.0.1", Certificate: &x509.Certificate{}}}, "", "by a name their certificate holds"},
		{"not TLS", fmt.Errorf("dial: %w", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), "", "does not speak TLS"},
		{"a passing fault", io.ErrUnexpectedEOF, "g", ""},
		{"another broker error", kafka.NotCoordinatorForGroup, "g", ""},
		{"nil", nil, "g", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Explain("inputs.kafka", s, c.group, c.err)
			if (got == "") != (c.want == "") || !strings.Contains(got, c.want) {
				t.Errorf("Explain(%v) = %q, want it to hold %q", c.err, got, c.want)
			}
			if strings.Contains(got, s.Password) {
				t.Errorf("the hint quotes the password: %s", got)
			}
		})
	}
}
