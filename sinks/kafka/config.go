package kafka

import (
	"errors"
	"fmt"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/logrouter/logrouter/internal/kafkacfg"
)

// Type is the destination type name used in configuration.
const Type = "kafka"

// Defaults for Config; SetDefaults applies them.
const (
	DefaultCompression     = "zstd"
	DefaultRequiredAcks    = "all"
	DefaultBatchBytes      = 1 << 20 // kafka-go's own default
	DefaultBatchTimeout    = 10 * time.Millisecond
	DefaultMaxMessageBytes = 1000000 // the broker's default message.max.bytes (1000012) rounded down
	DefaultWriteTimeout    = 30 * time.Second
	// DefaultMissingTopicTimeout is five refreshes of the transport's
	// metadata (every 6s): a topic being created is seen by then.
	DefaultMissingTopicTimeout = 30 * time.Second
)

// Config configures a Kafka destination. Zero values mean the documented
// defaults (see SetDefaults).
type Config struct {
	// Brokers are the bootstrap brokers, "host:port". Required.
	Brokers []string `yaml:"brokers"`
	// Topic is the topic every event is written to: a fixed name, or a
	// template with {priority} (p1, p2, p3) and {source_type} (the event's
	// source type, bytes outside [A-Za-z0-9._-] replaced by '_', at most
	// 200 bytes), for example "logs-{priority}". Required. Topics are never
	// created by logrouter: create them (with the partition count the
	// gateway's consumer group needs) before routing events to them.
	Topic string `yaml:"topic"`
	// Compression is the record batch codec: none, gzip, snappy, lz4 or
	// zstd (default).
	Compression string `yaml:"compression"`
	// RequiredAcks is all (default: every in-sync replica has the message
	// before Write returns), one (the leader has it) or none (Write returns
	// once the request is sent; a broker failure can lose acknowledged
	// events).
	RequiredAcks string `yaml:"required_acks"`
	// BatchBytes is the most uncompressed bytes in one produce request
	// (one partition's records of one Write). Default 1 MiB, or max_message_bytes when
	// compression is none (the broker measures the compressed batch against
	// its message.max.bytes). Must be at least max_message_bytes.
	BatchBytes int64 `yaml:"batch_bytes"`
	// BatchTimeout is accepted for older configurations and has no effect:
	// each Write sends its own requests at once (the queue in front
	// already gathers events into batches), instead of waiting to merge
	// concurrent Writes.
	BatchTimeout time.Duration `yaml:"batch_timeout"`
	// MaxMessageBytes is the largest Kafka record (the event plus key,
	// header and batch overhead) this destination sends; larger events fail
	// permanently (quarantine). Keep it at or below the broker's
	// message.max.bytes and the topics' max.message.bytes. Default 1000000.
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// WriteTimeout bounds one Write: if the broker has not acknowledged
	// every message by then, Write fails with a retryable error and the
	// queue sends the batch again (the gateway deduplicates by key).
	// Default 30s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// MissingTopicTimeout is how long the events of a topic that does not
	// exist are retried (they stay queued, and hold back the queue's other
	// deliveries meanwhile) before they are quarantined as permanent
	// failures with the topic's name, to be replayed once it is created.
	// Default 30s.
	MissingTopicTimeout time.Duration `yaml:"missing_topic_timeout"`
	// TLS enables TLS to the brokers; nil means plaintext.
	TLS *TLSConfig `yaml:"tls"`
	// SASL enables SASL authentication; nil means none.
	SASL *SASLConfig `yaml:"sasl"`
}

// TLSConfig configures TLS to the brokers (shared with the Kafka input).
type TLSConfig = kafkacfg.TLS

// SASLConfig configures SASL authentication to the brokers (shared with the
// Kafka input). Use mechanism plain only together with TLS.
type SASLConfig = kafkacfg.SASL

// SetDefaults sets every zero field to its default.
func (c *Config) SetDefaults() {
	if c.Compression == "" {
		c.Compression = DefaultCompression
	}
	if c.RequiredAcks == "" {
		c.RequiredAcks = DefaultRequiredAcks
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = DefaultBatchBytes
		if c.Compression == "none" {
			// Uncompressed, the batch is what the broker measures.
			c.BatchBytes = int64(c.MaxMessageBytes)
		}
	}
	if c.BatchTimeout == 0 {
		c.BatchTimeout = DefaultBatchTimeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
}

// Validate reports every configuration error; the messages name the yaml key
// (relative to the destination block, whose path the caller prefixes) and say
// how to fix it. Zero values are validated as their defaults. It does not
// read the TLS files (New does).
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	c.SetDefaults()

	if len(c.Brokers) == 0 {
		add(`"brokers" is required: list the bootstrap brokers as host:port`)
	}
	for i, b := range c.Brokers {
		if err := kafkacfg.CheckBroker(b); err != nil {
			add(`"brokers[%d]" %w`, i, err)
		}
	}
	if _, err := parseTopic(c.Topic); err != nil {
		add("%v", err)
	}
	if _, err := compressionCodec(c.Compression); err != nil {
		add("%v", err)
	}
	if _, err := requiredAcks(c.RequiredAcks); err != nil {
		add("%v", err)
	}
	if c.MaxMessageBytes < 0 {
		add(`"max_message_bytes" must be positive, got %d: omit it for the default of %d`, c.MaxMessageBytes, DefaultMaxMessageBytes)
	} else if c.MaxMessageBytes <= recordOverhead {
		add(`"max_message_bytes" %d leaves no room for an event (a record takes %d bytes besides the event): raise it, or omit it for the default of %d`, c.MaxMessageBytes, recordOverhead, DefaultMaxMessageBytes)
	}
	switch {
	case c.BatchBytes < 0:
		add(`"batch_bytes" must be positive, got %d: omit it for the default of 1 MiB`, c.BatchBytes)
	case c.MaxMessageBytes > 0 && c.BatchBytes < int64(c.MaxMessageBytes):
		add(`"batch_bytes" %d is below "max_message_bytes" %d: an event that fits a message must fit a batch; raise batch_bytes or lower max_message_bytes`, c.BatchBytes, c.MaxMessageBytes)
	case c.Compression == "none" && c.BatchBytes > int64(c.MaxMessageBytes):
		add(`"batch_bytes" %d is above "max_message_bytes" %d with compression none: the broker would refuse full batches; lower batch_bytes (or omit it), or compress`, c.BatchBytes, c.MaxMessageBytes)
	}
	if c.BatchTimeout < 0 {
		add(`"batch_timeout" must be positive, got %s: omit it for the default of 10ms`, c.BatchTimeout)
	}
	if c.MissingTopicTimeout < 0 {
		add(`"missing_topic_timeout" must be positive, got %s: omit it for the default of 30s`, c.MissingTopicTimeout)
	}
	if c.WriteTimeout < 0 {
		add(`"write_timeout" must be positive, got %s: omit it for the default of 30s`, c.WriteTimeout)
	}
	if t := c.TLS; t != nil && (t.CertFile == "") != (t.KeyFile == "") {
		add(`"tls": set both "cert_file" and "key_file" for mutual TLS, or neither`)
	}
	if s := c.SASL; s != nil {
		switch s.Mechanism {
		case "plain", "scram-sha-256", "scram-sha-512":
		case "":
			add(`"sasl.mechanism" is required: plain, scram-sha-256 or scram-sha-512`)
		default:
			add(`"sasl.mechanism" must be plain, scram-sha-256 or scram-sha-512, not %q`, s.Mechanism)
		}
		if s.Username == "" {
			add(`"sasl.username" is required with sasl`)
		}
		if s.Password == "" {
			add(`"sasl.password" is required with sasl: write ${ENV_VAR} and set the variable, rather than the secret itself`)
		}
		if s.Mechanism == "plain" && c.TLS == nil && !s.AllowPlaintext {
			add(`"sasl": mechanism plain sends the password in clear without tls: add a "tls" block, use scram-sha-256/512, or set "sasl.allow_plaintext: true" for a broker on loopback or a trusted network`)
		}
		if s.Username != "" && s.Password != "" && strings.HasPrefix(s.Mechanism, "scram-") {
			if _, err := kafkacfg.Mechanism(s); err != nil {
				add("%w", err) // never the value
			}
		}
	}
	return errors.Join(errs...)
}

func compressionCodec(s string) (kafkago.Compression, error) {
	switch s {
	case "none":
		return 0, nil
	case "gzip":
		return kafkago.Gzip, nil
	case "snappy":
		return kafkago.Snappy, nil
	case "lz4":
		return kafkago.Lz4, nil
	case "", "zstd":
		return kafkago.Zstd, nil
	}
	return 0, fmt.Errorf(`"compression" must be none, gzip, snappy, lz4 or zstd, not %q`, s)
}

func requiredAcks(s string) (kafkago.RequiredAcks, error) {
	switch s {
	case "", "all":
		return kafkago.RequireAll, nil
	case "one":
		return kafkago.RequireOne, nil
	case "none":
		return kafkago.RequireNone, nil
	}
	return 0, fmt.Errorf(`"required_acks" must be all, one or none, not %q`, s)
}
