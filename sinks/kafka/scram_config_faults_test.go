package kafka

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"strings"
	"testing"
)

// TestSCRAMPasswordValidatedThenPrinted: a kafka destination whose
// SCRAM password SASLprep refuses (here with the trailing newline a
// Kubernetes Secret made from a file carries) passes Config.Validate, which
// only checks that the password is not empty, so `router validate` says OK
// (deploy/kubernetes/edge-daemonset.yaml uses exactly scram-sha-512 with
// "${KAFKA_PASSWORD}"). `router run` then fails in New with
// "kafka <name>: Error SASLprepping password '<the password>': ...": the
// configuration check missed it, and the error puts the broker password in
// the logs. Validate should report sasl.password (a character SCRAM cannot
// use, such as a newline) without the value, and New's error should not
// carry the value either (internal/kafkacfg.Mechanism).
func TestSCRAMPasswordValidatedThenPrinted(t *testing.T) {
	const password = "Kafka-P4ssw0rd-review"
	cfg := Config{Brokers: []string{"127.0.0.1:9092"}, Topic: "edge-logs", TLS: &TLSConfig{},
		SASL: &SASLConfig{Mechanism: "scram-sha-512", Username: "logrouter-edge", Password: password + "\n"}}
	verr := cfg.Validate()
	s, nerr := New("kafka", cfg)
	if s != nil {
		defer s.Close(context.Background())
	}
	if nerr != nil && strings.Contains(nerr.Error(), password) {
		t.Errorf("New's error prints the SASL password: %v", nerr)
	}
	if verr == nil && nerr != nil {
		t.Errorf("Validate accepts the destination (router validate: OK), but New refuses it at start: %v", nerr)
	}
}
