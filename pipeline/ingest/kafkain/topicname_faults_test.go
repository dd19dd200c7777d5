package kafkain

import "testing"

// TestKafkaInvalidTopicNameAccepted: inputs.kafka.topics[].name is
// not checked against Kafka's topic name rules (only A-Z, a-z, 0-9, '.',
// '_' and '-', at most 249 bytes), which the kafka destination's "topic"
// is checked against. A pattern written as in Logstash's topics_pattern or
// Filebeat ("logs-*"), or a name with a space or a slash, passes `router
// check` and start; such a topic can never exist, so the input logs
// "listed topics do not exist" every 30 s and never consumes it, and with
// only that topic listed the gateway never gets a partition. Expected:
// Validate refuses a name Kafka cannot have, as the destination does.
func TestKafkaInvalidTopicNameAccepted(t *testing.T) {
	for _, name := range []string{"logs-*", "logs.*", "firewall logs", "tenant/a"} {
		c := Config{Brokers: []string{"127.0.0.1:9092"}, Topics: []Topic{{Name: name}}}
		c.SetDefaults()
		if err := c.Validate("inputs.kafka"); err == nil {
			t.Errorf("topics[0].name %q, which no Kafka topic can have, is accepted", name)
		}
	}
}
