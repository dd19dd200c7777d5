package kafkacfg

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"strings"
	"testing"
)

// reviewPassword is a SCRAM password as it arrives from a Kubernetes
// Secret made with --from-file from a file that ends in a newline (the
// usual way): SASLprep (RFC 4013) prohibits control characters, so SCRAM
// cannot use it.
const reviewPassword = "Kafka-P4ssw0rd-review\n"

// TestSCRAMErrorPrintsPassword: Mechanism passes the error of
// kafka-go's scram.Mechanism through unchanged, and that error comes from
// xdg-go/scram as "Error SASLprepping password '<the password>': ...". So
// `router run` with inputs.kafka (kafkain.New: "inputs.kafka: Error
// SASLprepping password 'Kafka-P4ssw0rd-review\n'") or a kafka destination
// (kafka.New) prints the broker password to stderr and into the
// orchestrator's logs. Mechanism should wrap the failure in its own message
// naming sasl.password and the cause (a character SASLprep refuses, such as
// a trailing newline from the Secret), without the value.
func TestSCRAMErrorPrintsPassword(t *testing.T) {
	for _, mech := range []string{"scram-sha-256", "scram-sha-512"} {
		_, err := Mechanism(&SASL{Mechanism: mech, Username: "logrouter", Password: reviewPassword})
		if err == nil {
			continue // the password is usable: nothing to print
		}
		if strings.Contains(err.Error(), strings.TrimSpace(reviewPassword)) {
			t.Errorf("%s: the error prints the SASL password: %v", mech, err)
		}
	}
	if _, err := Dialer("logrouter-kafka", &TLS{}, &SASL{Mechanism: "scram-sha-512", Username: "logrouter", Password: reviewPassword}); err != nil &&
		strings.Contains(err.Error(), strings.TrimSpace(reviewPassword)) {
		t.Errorf("Dialer (kafkain.New) error prints the SASL password: %v", err)
	}
}

// TestValidateAcceptsPasswordSCRAMRefuses: Validate checks only that
// the SASL password is not empty, so a SCRAM password that SASLprep refuses
// (a control character: the trailing newline of a Secret made from a file)
// passes it, and `router validate` answers OK for a configuration that
// `router run` cannot start: kafkain.New and kafka.New fail in Mechanism
// (and print the password, see above). Validate should run what Mechanism
// runs (or check SASLprep itself) and report it under sasl.password, so the
// problem is found in CI rather than in a failed rollout.
func TestValidateAcceptsPasswordSCRAMRefuses(t *testing.T) {
	s := &SASL{Mechanism: "scram-sha-512", Username: "logrouter", Password: reviewPassword}
	if err := Validate("inputs.kafka", &TLS{}, s); err != nil {
		return
	}
	if _, err := Mechanism(s); err != nil {
		t.Errorf("Validate accepts the SASL block, but the router cannot build its mechanism at start: %v", err)
	}
}
