package kafka

import (
	"errors"

	kafkago "github.com/segmentio/kafka-go"
)

// classify tells whether err, a produce failure reported by kafka-go for a
// message (or for a whole WriteMessages call), is permanent, and returns the
// Kafka error code in it (0 when it carries none).
//
// The rule: an error is permanent only when the message itself is at fault,
// so that sending the same bytes again can never succeed. Everything the
// cluster or an operator can fix (leadership changes, under-replication,
// missing topics, ACLs, authentication, broker limits on whole batches,
// unreachable brokers, timeouts) is retryable: the durable queue keeps the
// events and retries with backoff until the cause is fixed, instead of
// quarantining good data. See the package documentation for the table.
func classify(err error) (permanent bool, code int16) {
	var kerr kafkago.Error
	if !errors.As(err, &kerr) {
		return false, 0 // network, TLS, timeouts, context: retryable
	}
	switch kerr {
	case kafkago.MessageSizeTooLarge, // after halving: this message alone is too big for the topic
		kafkago.InvalidMessage, // CORRUPT_MESSAGE: CRC or format check failed for this message
		kafkago.InvalidMessageSize,
		kafkago.InvalidRecord, // the broker's record validation refused it
		kafkago.InvalidTopic:  // the rendered topic name is not a valid one
		// Not INVALID_TIMESTAMP: a record's timestamp is its send time
		// (never the event's), so the broker refuses it only when this
		// router's clock and the broker's differ by more than
		// message.timestamp.before/after.max.ms, which fixing the clock
		// ends: retried, or an edge with a bad clock quarantined its
		// whole stream.
		return true, int16(kerr)
	}
	return false, int16(kerr)
}
