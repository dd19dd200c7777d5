package s3

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// TypeArchiveDir is the destination type name of LocalArchive in
// configuration.
const TypeArchiveDir = "archive_dir"

// Defaults for Config.
const (
	DefaultGzipLevel      = 1
	DefaultMaxObjectBytes = 128 << 20
	DefaultMaxObjectAge   = 5 * time.Minute
	DefaultMaxOpenObjects = 256
)

// zstd levels accepted by the "zstd_level" key.
const (
	// ZstdLevelFastest is zstd's fastest level (default): several hundred
	// MB/s of input per core.
	ZstdLevelFastest = "fastest"
	// ZstdLevelDefault is zstd's default level: slower, and on security
	// logs hardly better than fastest (see BenchmarkArchive).
	ZstdLevelDefault = "default"
	// ZstdLevelBetter is zstd's "better compression" level: a clearly
	// better ratio (about 15% smaller objects on security logs) for about
	// twice the CPU of fastest.
	ZstdLevelBetter = "better"
)

// Time sources accepted by the "time_source" key.
const (
	TimeSourceEvent  = "event"
	TimeSourceIngest = "ingest"
)

// Config configures the local directory archive (type "archive_dir").
// Zero values mean the documented defaults.
type Config struct {
	// Dir is the archive root; keys are paths below it. Required. Only one
	// process may write to a directory (recovery renames every *.partial
	// file it finds at start).
	Dir string `yaml:"dir"`
	// Prefix is {prefix}. Default "logs".
	Prefix string `yaml:"prefix"`
	// Node is {node}. Default os.Hostname().
	Node string `yaml:"node"`
	// KeyTemplate is the object key template (see Layout). Default
	// DefaultKeyTemplate.
	KeyTemplate string `yaml:"key_template"`
	// Compression is "zstd" (default) or "gzip".
	Compression string `yaml:"compression"`
	// GzipLevel is the gzip level, 1 (fastest, default) to 9.
	GzipLevel int `yaml:"gzip_level"`
	// ZstdLevel is the zstd level: "fastest" (default), "default" or
	// "better" (smaller objects for about twice the CPU); see
	// BenchmarkArchive.
	ZstdLevel string `yaml:"zstd_level"`
	// MaxObjectBytes rolls an object once its uncompressed size reaches it.
	// Default 128 MiB. One Write's frame is never split, so an object can
	// exceed it by one batch's share.
	MaxObjectBytes int64 `yaml:"max_object_bytes"`
	// MaxObjectAge rolls an object once it is this old (yaml: "5m").
	// Default 5m.
	MaxObjectAge time.Duration `yaml:"max_object_age"`
	// MaxOpenObjects bounds the objects open at once; opening one more
	// rolls the least recently written. Default 256 (an open object costs one file descriptor; frames are written per batch, nothing is buffered).
	MaxOpenObjects int `yaml:"max_open_objects"`
	// TimeSource picks the time that decides {date}/{hour}: "event"
	// (Event.Time, default) or "ingest" (Event.Ingest, else Batch.Meta.IngestTime).
	// With "event", an event dated before 1970 or more than two days after
	// its ingestion is filed under its ingest hour: the generated DDL's
	// partition projection covers 1970-01-01 to NOW+2DAYS, and Athena reads
	// no partition outside it.
	TimeSource string `yaml:"time_source"`
	// Fsync makes every Write fsync the objects it appended to (and the
	// directories of new and renamed files) before returning (default
	// true): a Write's nil lets the queue delete the events, so without it
	// a power loss could lose what the last seconds delivered. false:
	// Write returns after write(2) (a process crash loses nothing).
	Fsync *bool `yaml:"fsync"`
}

// fsync reports whether Writes fsync (Fsync, default true).
func (c Config) fsync() bool { return c.Fsync == nil || *c.Fsync }

// Layout returns the key-layout part of c.
func (c Config) Layout() LayoutConfig {
	return LayoutConfig{Prefix: c.Prefix, Node: c.Node, KeyTemplate: c.KeyTemplate, Compression: c.Compression}
}

// withDefaults returns c with every zero field set to its default (Node is
// left to NewLayout).
func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.Compression == "" {
		c.Compression = CompressionZstd
	}
	if c.GzipLevel == 0 {
		c.GzipLevel = DefaultGzipLevel
	}
	if c.ZstdLevel == "" {
		c.ZstdLevel = ZstdLevelFastest
	}
	if c.MaxObjectBytes == 0 {
		c.MaxObjectBytes = DefaultMaxObjectBytes
	}
	if c.MaxObjectAge == 0 {
		c.MaxObjectAge = DefaultMaxObjectAge
	}
	if c.MaxOpenObjects == 0 {
		c.MaxOpenObjects = DefaultMaxOpenObjects
	}
	if c.TimeSource == "" {
		c.TimeSource = TimeSourceEvent
	}
	return c
}

// Validate reports every configuration error; the messages name the yaml key
// (relative to the archive_dir block, whose path the caller prefixes) and say
// how to fix it. It does not touch the file system.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(c.Dir) == "" {
		add(`"dir" is required: set it to the directory that receives the archive`)
	}
	c.validateObjects(add)
	return errors.Join(errs...)
}

// maxKeyBytes is S3's limit on the length of an object key.
const maxKeyBytes = 1024

// maxNameBytes bounds one key segment: a directory or file name on the
// local disk (archive_dir, and s3's staging), NAME_MAX on Linux, less
// ".partial" and a "-recovered-N" suffix recovery may add.
const maxNameBytes = 255 - len(".partial") - len("-recovered-99")

// longestKey returns the length of the longest key c's layout renders, and
// of its longest '/'-separated segment: every source type and node at
// their longest (maxSourceTypeLen and maxValueLen bytes), each priority,
// the earliest and latest times and the largest sequence number. 0 when
// the layout is invalid (reported apart).
func (c Config) longestKey() (key, segment int) {
	lc := c.Layout()
	lc.Node = strings.Repeat("n", maxValueLen)
	l, err := NewLayout(lc)
	if err != nil {
		return 0, 0
	}
	st := strings.Repeat("s", maxSourceTypeLen)
	for _, p := range []pipeline.Priority{pipeline.P1, pipeline.P2, pipeline.P3, pipeline.PriorityNone} {
		for _, ns := range []int64{math.MinInt64, math.MaxInt64} {
			k := l.Key(Partition{Priority: p, SourceType: st, Hour: HourOf(ns)}, time.Unix(0, ns), math.MaxUint64)
			key = max(key, len(k))
			for seg := range strings.SplitSeq(k, "/") {
				segment = max(segment, len(seg))
			}
		}
	}
	return key, segment
}

// validateObjects checks the keys that decide object keys and contents, which
// archive_dir and s3 share (same yaml names).
func (c Config) validateObjects(add func(format string, args ...any)) {
	c = c.withDefaults()
	if _, err := compressionExt(c.Compression); err != nil {
		add("%v", err)
	} else {
		lc := c.Layout()
		if lc.Node == "" {
			lc.Node = "node" // skip os.Hostname: the node does not affect validity
		}
		if _, err := NewLayout(lc); err != nil {
			add("%v", err)
		}
	}
	// S3 keys are at most 1024 bytes, and an object whose key is longer
	// could never be uploaded: render the longest key the layout can make.
	n, seg := c.longestKey()
	if n > maxKeyBytes {
		add(`"prefix" and "key_template" make object keys of up to %d bytes (with 200-byte source types, a 64-byte node and the widest dates); S3 allows %d: shorten them, or repeat {source_type} less`, n, maxKeyBytes)
	}
	if seg > maxNameBytes {
		add(`"key_template" makes a directory or file name of up to %d bytes (with 200-byte source types and a 64-byte node); file systems allow 255, less the ".partial" and recovery suffixes (%d): put {source_type} in a segment of its own, as the default source_type={source_type}/`, seg, maxNameBytes)
	}
	if c.GzipLevel < 1 || c.GzipLevel > 9 {
		add(`"gzip_level" must be between 1 (fastest) and 9 (smallest), got %d`, c.GzipLevel)
	}
	switch c.ZstdLevel {
	case ZstdLevelFastest, ZstdLevelDefault, ZstdLevelBetter:
	default:
		add(`"zstd_level" must be %q (default), %q or %q (smaller objects, about twice the CPU), not %q`, ZstdLevelFastest, ZstdLevelDefault, ZstdLevelBetter, c.ZstdLevel)
	}
	if c.MaxObjectBytes < 0 {
		add(`"max_object_bytes" must be positive, got %d: omit it for the default of 128 MiB`, c.MaxObjectBytes)
	}
	if c.MaxObjectAge < 0 {
		add(`"max_object_age" must be positive, got %s: omit it for the default of 5m or give a duration like "5m"`, c.MaxObjectAge)
	}
	if c.MaxOpenObjects < 0 {
		add(`"max_open_objects" must be positive, got %d: omit it for the default of 256`, c.MaxOpenObjects)
	}
	switch c.TimeSource {
	case TimeSourceEvent, TimeSourceIngest:
	default:
		add(`"time_source" must be %q or %q, not %q`, TimeSourceEvent, TimeSourceIngest, c.TimeSource)
	}
}
