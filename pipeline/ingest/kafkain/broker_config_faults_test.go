package kafkain

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"testing"

	"github.com/logrouter/logrouter/sinks/kafka"
)

// TestBrokerWithBadPortAccepted: inputs.kafka.brokers is only
// checked to be non-empty. A broker whose port is out of range
// ("kafka-0.kafka:90920") or not a number (a typo, "9O92") passes Validate
// and `router validate` says OK; `router run` then starts, logs "kafka
// input joining consumer group", and every join fails in the dialer
// ("invalid port" / "unknown port"), retried for ever: the gateway consumes
// nothing and only /readyz (after ready_grace) tells. An empty entry (a
// trailing comma in a list built from an environment variable) is taken by
// kafka-go as ":9092", this host's port 9092, silently. The kafka
// destination, which shares the connection settings (internal/kafkacfg),
// refuses exactly these values (`"brokers[i]" ... has no valid port: write
// it like "kafka-1.example.com:9092"`); Validate should do the same for the
// input, naming inputs.kafka.brokers[i].
func TestBrokerWithBadPortAccepted(t *testing.T) {
	for _, b := range []string{"kafka-0.kafka:90920", "kafka-0.kafka:9O92", ""} {
		// The destination's verdict on the same value.
		sink := kafka.Config{Brokers: []string{b}, Topic: "logs"}
		sinkErr := sink.Validate()

		c := Config{Brokers: []string{b}, Topics: []Topic{{Name: "logs"}}}
		c.SetDefaults()
		if err := c.Validate("inputs.kafka"); err == nil {
			t.Errorf("inputs.kafka.brokers [%q] passes Validate (the kafka destination refuses it: %v); the input then cannot join its group, retrying for ever", b, sinkErr)
		}
	}
}
