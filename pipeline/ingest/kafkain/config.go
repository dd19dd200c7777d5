package kafkain

import (
	"fmt"
	"time"

	"github.com/logrouter/logrouter/internal/kafkacfg"
)

// Config is the Kafka input (`inputs.kafka`).
type Config struct {
	// Name labels the input in metrics and event metadata. Default "kafka".
	Name    string   `yaml:"name"`
	Brokers []string `yaml:"brokers"`
	// GroupID is the consumer group: every replica with the same group
	// shares the partitions. Default "logrouter".
	GroupID string  `yaml:"group_id"`
	Topics  []Topic `yaml:"topics"`
	// StartOffset for partitions the group has no commit for: earliest
	// (default) or latest.
	StartOffset string `yaml:"start_offset"`
	// BatchEvents and BatchWait bound a batch of one partition. Defaults 1000
	// and 100ms.
	BatchEvents int           `yaml:"batch_events"`
	BatchWait   time.Duration `yaml:"batch_wait"`
	// MaxInflightBatches bounds batches of one partition waiting for the
	// destinations. Default 4.
	MaxInflightBatches int `yaml:"max_inflight_batches"`
	// MaxMessageBytes: larger records are quarantined (their first bytes).
	// Default 1 MiB.
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// FetchMaxBytes bounds one fetch. Default 16 MiB.
	FetchMaxBytes int `yaml:"fetch_max_bytes"`
	// MaxBatchBytes bounds what one compressed record batch may decompress
	// to (kafka-go decompresses a batch whole, before any record's size is
	// known). A batch past it stops its partition until the input has found
	// the batch's offsets: it skips them and quarantines a note naming them
	// (reason batch_too_large). Default 64 MiB, or four times
	// fetch_max_bytes when that is more. The bound is the process's: the
	// largest of the Kafka inputs'.
	MaxBatchBytes int `yaml:"max_batch_bytes"`
	// CommitInterval spaces offset commits. Default 1s.
	CommitInterval time.Duration `yaml:"commit_interval"`
	// DrainTimeout bounds how long a rebalance or shutdown waits for
	// in-flight batches before committing their contiguous prefix; below
	// RebalanceTimeout. Default 10s, or half of RebalanceTimeout when that
	// is shorter than 20s.
	DrainTimeout      time.Duration `yaml:"drain_timeout"`
	SessionTimeout    time.Duration `yaml:"session_timeout"`    // default 30s
	RebalanceTimeout  time.Duration `yaml:"rebalance_timeout"`  // default 30s
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"` // default 3s
	// ReadyGrace: /readyz reports not ready while no partition is assigned
	// this long after start. Default 30s.
	ReadyGrace time.Duration  `yaml:"ready_grace"`
	TLS        *kafkacfg.TLS  `yaml:"tls"`
	SASL       *kafkacfg.SASL `yaml:"sasl"`
}

// Topic is one consumed topic and how its records are read.
type Topic struct {
	Name string `yaml:"name"`
	// Format of a record's value: json (one object, default), ndjson (one
	// object per line) or raw (each line is a message).
	Format string `yaml:"format"`
	// SourceType applies to its events when they carry no event.dataset.
	SourceType string `yaml:"source_type"`
}

// SetDefaults fills unset fields.
func (c *Config) SetDefaults() {
	if c.Name == "" {
		c.Name = "kafka"
	}
	if c.GroupID == "" {
		c.GroupID = "logrouter"
	}
	if c.StartOffset == "" {
		c.StartOffset = "earliest"
	}
	if c.BatchEvents == 0 {
		c.BatchEvents = 1000
	}
	if c.BatchWait == 0 {
		c.BatchWait = 100 * time.Millisecond
	}
	if c.MaxInflightBatches == 0 {
		c.MaxInflightBatches = 4
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = 1 << 20
	}
	if c.FetchMaxBytes == 0 {
		c.FetchMaxBytes = 16 << 20
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = max(DefaultMaxBatchBytes, 4*c.FetchMaxBytes)
	}
	if c.CommitInterval == 0 {
		c.CommitInterval = time.Second
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = 30 * time.Second
	}
	if c.RebalanceTimeout == 0 {
		c.RebalanceTimeout = 30 * time.Second
	}
	if c.DrainTimeout == 0 {
		// Below rebalance_timeout (see Validate), with room to rejoin.
		c.DrainTimeout = 10 * time.Second
		if c.RebalanceTimeout > 0 {
			c.DrainTimeout = min(c.DrainTimeout, c.RebalanceTimeout/2)
		}
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = 3 * time.Second
	}
	if c.ReadyGrace == 0 {
		c.ReadyGrace = 30 * time.Second
	}
	for i := range c.Topics {
		if c.Topics[i].Format == "" {
			c.Topics[i].Format = "json"
		}
	}
}

// Validate checks the configuration; prefix is its YAML path.
func (c *Config) Validate(prefix string) error {
	if len(c.Brokers) == 0 {
		return fmt.Errorf("%s.brokers: at least one broker address is required", prefix)
	}
	for i, b := range c.Brokers {
		if err := kafkacfg.CheckBroker(b); err != nil {
			return fmt.Errorf("%s.brokers[%d]: %w", prefix, i, err)
		}
	}
	if len(c.Topics) == 0 {
		return fmt.Errorf("%s.topics: at least one topic is required", prefix)
	}
	seen := map[string]bool{}
	for i, t := range c.Topics {
		switch {
		case t.Name == "":
			return fmt.Errorf("%s.topics[%d].name: required", prefix, i)
		case seen[t.Name]:
			return fmt.Errorf("%s.topics[%d].name: %q listed twice", prefix, i, t.Name)
		case kafkacfg.CheckTopic(t.Name) != nil:
			return fmt.Errorf("%s.topics[%d].name: %w", prefix, i, kafkacfg.CheckTopic(t.Name))
		case t.Format != "json" && t.Format != "ndjson" && t.Format != "raw":
			return fmt.Errorf("%s.topics[%d].format: %q is not json, ndjson or raw", prefix, i, t.Format)
		}
		seen[t.Name] = true
	}
	if c.StartOffset != "earliest" && c.StartOffset != "latest" {
		return fmt.Errorf("%s.start_offset: %q is not earliest or latest", prefix, c.StartOffset)
	}
	if c.BatchEvents < 1 || c.BatchWait <= 0 || c.MaxInflightBatches < 1 || c.MaxMessageBytes < 1 || c.FetchMaxBytes < c.MaxMessageBytes {
		return fmt.Errorf("%s: batch_events, batch_wait, max_inflight_batches and max_message_bytes must be positive and fetch_max_bytes at least max_message_bytes", prefix)
	}
	if c.MaxBatchBytes < c.MaxMessageBytes {
		return fmt.Errorf("%s.max_batch_bytes (%d) must be at least max_message_bytes (%d): a batch holds whole records", prefix, c.MaxBatchBytes, c.MaxMessageBytes)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"commit_interval", c.CommitInterval}, {"drain_timeout", c.DrainTimeout},
		{"session_timeout", c.SessionTimeout}, {"rebalance_timeout", c.RebalanceTimeout},
		{"heartbeat_interval", c.HeartbeatInterval}, {"ready_grace", c.ReadyGrace},
	} {
		if d.v <= 0 {
			return fmt.Errorf("%s.%s: must be a positive duration, got %s: omit it for the default", prefix, d.key, d.v)
		}
	}
	if c.HeartbeatInterval >= c.SessionTimeout {
		// The coordinator expels a member that has not sent a heartbeat
		// within session_timeout: the group would rebalance for ever.
		// (The Java client refuses this too; a third is customary.)
		return fmt.Errorf("%s.heartbeat_interval (%s) must be below session_timeout (%s), a third of it or less: the group coordinator expels members whose heartbeats come later than session_timeout", prefix, c.HeartbeatInterval, c.SessionTimeout)
	}
	if c.DrainTimeout >= c.RebalanceTimeout {
		// A rebalance waits for each member to rejoin within
		// rebalance_timeout, and a member drains before it rejoins: one
		// still draining is expelled, its final commit refused, and the
		// next owner reads its delivered records again.
		return fmt.Errorf("%s.drain_timeout (%s) must be below rebalance_timeout (%s): a member still draining when the rebalance times out is expelled and its commit refused (the next owner reads its records again)", prefix, c.DrainTimeout, c.RebalanceTimeout)
	}
	return kafkacfg.Validate(prefix, c.TLS, c.SASL)
}
