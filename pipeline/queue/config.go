package queue

import (
	"fmt"
	"time"
)

// DefaultMaxInFlight is the default of Config.MaxInFlight.
const DefaultMaxInFlight = 4

// Default batch limits of one delivery. An archive compresses each batch's
// share of a partition into one zstd frame, and frames of ~1 MiB compress
// ~35% faster and ~1.7x smaller than frames of ~64 KiB (klauspost zstd
// fastest, the realistic mix), so archive destinations get larger batches
// (SetDefaultsFor(KindArchive)). An archive compresses one
// batch's partitions on every core already, so two deliveries in flight keep
// it busy; memory per destination is about max_in_flight x batch_bytes x 2
// (the decoded batch and its partition buffers).
const (
	DefaultBatchEvents = 2000
	DefaultBatchBytes  = 4 << 20
	ArchiveBatchEvents = 8000
	ArchiveBatchBytes  = 8 << 20
	ArchiveMaxInFlight = 2
	// ArchiveBatchWait and BulkBatchWait are the batch_wait defaults of
	// archive and OpenSearch destinations: their deliveries are not latency
	// critical, and full batches cost less per byte (see Config.BatchWait).
	// SIEM and other destinations deliver at once (P1 latency).
	ArchiveBatchWait = time.Second
	BulkBatchWait    = 200 * time.Millisecond
)

// Config configures a destination's durable queue. The top-level `queue:`
// block gives defaults; `destinations[].queue:` overrides them per destination.
type Config struct {
	// Mode is "disk" (default: segment files, fsync per the policy),
	// "memory" (the same code on an in-memory file system: nothing survives
	// a restart; for benchmarks and for destinations whose loss is
	// acceptable) or "none" (no queue: an acknowledgement means the
	// destination's own Write returned; for tests and comparisons).
	Mode string `yaml:"mode"`
	// Dir is the root; a destination's queue lives in Dir/<destination>.
	// Default ./data/queue.
	Dir string `yaml:"dir"`
	// MaxBytes bounds the bytes waiting in the queue; past it the queue is
	// full (see OnFull). Default 1 GiB.
	MaxBytes int64 `yaml:"max_bytes"`
	// Fsync is "always" (default: an event is acknowledged upstream only
	// after it is fsynced; many writers share one fsync) or "interval" (it is
	// acknowledged after write(2) and fsynced within FsyncInterval: a power
	// loss can lose up to that much acknowledged data, a process crash
	// cannot).
	Fsync string `yaml:"fsync"`
	// FsyncInterval is the interval policy's period. Default 100ms.
	FsyncInterval time.Duration `yaml:"fsync_interval"`
	// SegmentBytes is the size of one segment file. Default 64 MiB on
	// disk, 4 MiB in memory mode: a segment's memory is freed only once
	// every event in it is delivered, and a growing in-memory segment
	// reallocates, so small segments keep memory close to what is queued.
	SegmentBytes int64 `yaml:"segment_bytes"`
	// OnFull is what a full queue does: "block" (default: refuse, so
	// sources are slowed: HTTP 429/503), "drop_p3" (drop incoming P3 events,
	// counted, still refuse P1/P2) or "drop_p2_p3". P1 is never dropped.
	OnFull string `yaml:"on_full"`
	// BatchEvents and BatchBytes bound one delivery to the destination.
	// Defaults 2000 events, 4 MiB; 8000 events, 8 MiB for archive
	// destinations (see ArchiveBatchEvents).
	BatchEvents int   `yaml:"batch_events"`
	BatchBytes  int64 `yaml:"batch_bytes"`
	// BatchWait holds back a partial batch: a log whose unread records do
	// not fill a batch (BatchEvents or BatchBytes) is delivered only once
	// BatchWait has passed since its last delivery started. Under a steady
	// load deliveries are then full batches (fewer, larger requests and
	// archive frames: less CPU per byte); a lone event after a quiet spell
	// still goes at once, and none waits longer than BatchWait. The wait is
	// on disk: acknowledgements upstream do not wait for it. Default 0 (no
	// wait); 1s for archive destinations and 200ms for OpenSearch (see
	// ArchiveBatchWait, BulkBatchWait).
	BatchWait time.Duration `yaml:"batch_wait"`
	// MaxInFlight is how many deliveries (batches) may be on their way to
	// the destination at once. Each has its own batch of up to BatchBytes;
	// the cursor still advances in log order, so after a crash at most
	// this many batches (and those confirmed behind a slow one) are
	// delivered again. Confirmed batches behind a slow one leave MaxBytes
	// at once but their segment files stay until the cursor passes them,
	// so disk use can briefly exceed MaxBytes by that much. 1 delivers
	// strictly one batch after another, in log order. Default 4; 2 for
	// archive destinations (see ArchiveMaxInFlight).
	MaxInFlight int `yaml:"max_in_flight"`
	// RetryInitial and RetryMax bound the jittered exponential backoff
	// between delivery attempts. Defaults 200ms and 30s.
	RetryInitial time.Duration `yaml:"retry_initial"`
	RetryMax     time.Duration `yaml:"retry_max"`
}

// Merge returns c with the non-zero fields of o applied.
func (c Config) Merge(o *Config) Config {
	if o == nil {
		return c
	}
	if o.Mode != "" {
		c.Mode = o.Mode
	}
	if o.Dir != "" {
		c.Dir = o.Dir
	}
	if o.MaxBytes != 0 {
		c.MaxBytes = o.MaxBytes
	}
	if o.Fsync != "" {
		c.Fsync = o.Fsync
	}
	if o.FsyncInterval != 0 {
		c.FsyncInterval = o.FsyncInterval
	}
	if o.SegmentBytes != 0 {
		c.SegmentBytes = o.SegmentBytes
	}
	if o.OnFull != "" {
		c.OnFull = o.OnFull
	}
	if o.BatchEvents != 0 {
		c.BatchEvents = o.BatchEvents
	}
	if o.BatchBytes != 0 {
		c.BatchBytes = o.BatchBytes
	}
	if o.MaxInFlight != 0 {
		c.MaxInFlight = o.MaxInFlight
	}
	if o.BatchWait != 0 {
		c.BatchWait = o.BatchWait
	}
	if o.RetryInitial != 0 {
		c.RetryInitial = o.RetryInitial
	}
	if o.RetryMax != 0 {
		c.RetryMax = o.RetryMax
	}
	return c
}

// Kind is what a destination is, as far as its queue's defaults go.
type Kind int

const (
	// KindDefault: deliver at once (SIEM, Kafka, files).
	KindDefault Kind = iota
	// KindArchive: larger batches, two in flight, ArchiveBatchWait.
	KindArchive
	// KindBulk: BulkBatchWait (OpenSearch).
	KindBulk
)

// SetDefaultsFor fills unset fields with the defaults of a destination of
// kind k, then with the common ones (SetDefaults).
func (c *Config) SetDefaultsFor(k Kind) {
	switch k {
	case KindArchive:
		if c.BatchEvents == 0 {
			c.BatchEvents = ArchiveBatchEvents
		}
		if c.BatchBytes == 0 {
			c.BatchBytes = ArchiveBatchBytes
		}
		if c.MaxInFlight == 0 {
			c.MaxInFlight = ArchiveMaxInFlight
		}
		if c.BatchWait == 0 {
			c.BatchWait = ArchiveBatchWait
		}
	case KindBulk:
		if c.BatchWait == 0 {
			c.BatchWait = BulkBatchWait
		}
	}
	c.SetDefaults()
}

// SetDefaults fills unset fields with the defaults of KindDefault.
func (c *Config) SetDefaults() {
	if c.Mode == "" {
		c.Mode = "disk"
	}
	if c.Dir == "" {
		c.Dir = "./data/queue"
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 1 << 30
	}
	if c.Fsync == "" {
		c.Fsync = "always"
	}
	if c.FsyncInterval == 0 {
		c.FsyncInterval = 100 * time.Millisecond
	}
	if c.SegmentBytes == 0 {
		c.SegmentBytes = 64 << 20
		if c.Mode == "memory" {
			c.SegmentBytes = 4 << 20
		}
	}
	if c.OnFull == "" {
		c.OnFull = "block"
	}
	if c.BatchEvents == 0 {
		c.BatchEvents = DefaultBatchEvents
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = DefaultBatchBytes
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.RetryInitial == 0 {
		c.RetryInitial = 200 * time.Millisecond
	}
	if c.RetryMax == 0 {
		c.RetryMax = 30 * time.Second
	}
}

// Validate checks a configuration after SetDefaults; prefix is its YAML path.
func (c *Config) Validate(prefix string) error {
	switch {
	case c.Mode != "disk" && c.Mode != "memory" && c.Mode != "none":
		return fmt.Errorf("%s.mode: %q is not disk, memory or none", prefix, c.Mode)
	case c.Fsync != "always" && c.Fsync != "interval":
		return fmt.Errorf("%s.fsync: %q is not always or interval", prefix, c.Fsync)
	case c.OnFull != "block" && c.OnFull != "drop_p3" && c.OnFull != "drop_p2_p3":
		return fmt.Errorf("%s.on_full: %q is not block, drop_p3 or drop_p2_p3 (P1 is never dropped)", prefix, c.OnFull)
	case c.MaxBytes < 1<<20:
		return fmt.Errorf("%s.max_bytes: %d is below the 1 MiB minimum", prefix, c.MaxBytes)
	case c.SegmentBytes < 64<<10:
		return fmt.Errorf("%s.segment_bytes: %d is below the 64 KiB minimum", prefix, c.SegmentBytes)
	case c.BatchEvents < 1 || c.BatchBytes < 1:
		return fmt.Errorf("%s: batch_events and batch_bytes must be positive", prefix)
	case c.BatchWait < 0 || c.BatchWait > time.Minute:
		return fmt.Errorf("%s.batch_wait: %s is not between 0 and 1m", prefix, c.BatchWait)
	case c.MaxInFlight < 1 || c.MaxInFlight > 64:
		return fmt.Errorf("%s.max_in_flight: %d is not between 1 and 64: omit it for the default of %d", prefix, c.MaxInFlight, DefaultMaxInFlight)
	case c.RetryInitial <= 0 || c.RetryMax < c.RetryInitial:
		return fmt.Errorf("%s: retry_initial must be positive and retry_max at least retry_initial", prefix)
	case c.FsyncInterval <= 0:
		return fmt.Errorf("%s.fsync_interval: must be positive", prefix)
	}
	return nil
}
