package kafka

import (
	"context"
	"fmt"
	"strings"
	"testing"

	kafkago "github.com/segmentio/kafka-go"
)

// TestWrongCredentialsAreExplained: a wrong SASL password failed every
// Write with kafka-go's "[58] SASL Authentication Failed" (what its
// Transport returns when a broker answers SaslAuthenticate with that
// code), which the queue logs and retries without saying which setting to
// check. The error names the destination's sasl block, its mechanism and
// user now, and stays retryable (the events wait in the queue until the
// credentials are fixed). (kfake closes the connection instead of
// answering, which kafka-go's Transport reports as an unexpected EOF: the
// error is built here as a real broker's would be.)
func TestWrongCredentialsAreExplained(t *testing.T) {
	s, err := New("central", Config{Brokers: []string{"127.0.0.1:1"}, Topic: "logs",
		SASL: &SASLConfig{Mechanism: "scram-sha-512", Username: "logrouter-edge", Password: "wrong-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close(context.Background()) }()
	err = s.callError(context.Background(), fmt.Errorf("looking up topics: %w", kafkago.SASLAuthenticationFailed))
	t.Logf("error: %v", err)
	if want := `refused the credentials of destination central.sasl (mechanism scram-sha-512, username "logrouter-edge")`; !strings.Contains(err.Error(), want) {
		t.Errorf("the error does not say what to check (%q): %v", want, err)
	}
	if isPermanentErr(err) {
		t.Errorf("a credentials failure became permanent (the queue would quarantine the events): %v", err)
	}
	if strings.Contains(err.Error(), "wrong-pw") {
		t.Errorf("the error holds the password: %v", err)
	}
	if plain := s.callError(context.Background(), fmt.Errorf("looking up topics: %w", kafkago.LeaderNotAvailable)); strings.Contains(plain.Error(), "credentials") {
		t.Errorf("a passing fault explained as a credentials one: %v", plain)
	}
}
