// Package file is the local NDJSON file destination ("type: file"): every event
// routed to it becomes one line, its normalized JSON (Event.Raw) followed by
// '\n', in hourly files
//
//	<dir>/<name>-<YYYYMMDDTHH>.ndjson
//
// where name is the destination's name and the hour is UTC at the time of
// writing. A file is rotated when the hour changes or when it would grow past
// max_file_bytes; rotated files of the same hour are <name>-<hour>.<N>.ndjson
// with N = 1, 2, ... Each process start begins a new file (see RotatingFile).
//
// The package also exports RotatingFile, the hourly rotating appender that the
// quarantine directory reuses.
package file

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// Type is the destination type name used in configuration.
const Type = "file"

// DefaultMaxFileBytes is the default for Config.MaxFileBytes (256 MiB).
const DefaultMaxFileBytes = 256 << 20

// Config configures a file destination.
type Config struct {
	// Dir is the directory the files are written to; created if missing.
	// Required.
	Dir string `yaml:"dir"`
	// MaxFileBytes rotates a file before it would grow past this size.
	// 0 means DefaultMaxFileBytes (256 MiB).
	MaxFileBytes int64 `yaml:"max_file_bytes"`
	// Fsync makes every Write fsync before returning (default true): a
	// Write's nil lets the queue delete the events. false: Write returns
	// once the bytes were handed to the kernel with write(2), and a power
	// loss can lose what the last seconds delivered.
	Fsync *bool `yaml:"fsync"`
}

// Validate reports configuration errors; the messages name the yaml key
// (relative to the block, whose path the caller prefixes) and say how to fix
// it.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Dir) == "" {
		errs = append(errs, errors.New(`"dir" is required: set it to the directory the NDJSON files are written to`))
	}
	if c.MaxFileBytes < 0 {
		errs = append(errs, fmt.Errorf(`"max_file_bytes" must not be negative (got %d): omit it for the default of 256 MiB or give a size in bytes`, c.MaxFileBytes))
	}
	return errors.Join(errs...)
}

// Option changes how New builds a Sink; the zero set of options is the
// production setting.
type Option func(*options)

type options struct {
	now func() time.Time
}

// WithClock replaces time.Now, which decides the hour in the file name (for
// tests).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// Sink is the file destination. It implements pipeline.Sink.
//
// The engine calls Write from many goroutines at once; each Write renders its
// batch into a pooled buffer without holding any lock and then appends it with
// a single write(2) under the sink's one lock, so the lines of one batch are
// contiguous and never interleave with another batch.
type Sink struct {
	name   string
	rf     *RotatingFile
	closed atomic.Bool
}

var _ pipeline.Sink = (*Sink)(nil)

// New validates cfg and returns a Sink writing dir/<name>-<hour>.ndjson. name
// is the destination name from the configuration; characters outside
// [A-Za-z0-9._-] are replaced by '_' in file names. The directory is created
// if missing; no file is created before the first event arrives.
func New(name string, cfg Config, opts ...Option) (*Sink, error) {
	if name == "" {
		return nil, errors.New("file: destination name must not be empty")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if cfg.MaxFileBytes == 0 {
		cfg.MaxFileBytes = DefaultMaxFileBytes
	}
	rf, err := NewRotatingFile(cfg.Dir, SanitizeName(name), cfg.MaxFileBytes, cfg.Fsync == nil || *cfg.Fsync, o.now)
	if err != nil {
		return nil, fmt.Errorf("file: %w", err)
	}
	return &Sink{name: name, rf: rf}, nil
}

// SanitizeName maps a destination name to a safe file-name component: bytes
// outside [A-Za-z0-9._-] become '_', a leading '.' becomes '_', and the result
// is at most 64 bytes ("unknown" when empty).
func SanitizeName(s string) string {
	b := make([]byte, 0, min(len(s), 64))
	for i := 0; i < len(s) && len(b) < 64; i++ {
		c := s[i]
		if !safeByte(rune(c)) || (c == '.' && len(b) == 0) {
			c = '_'
		}
		b = append(b, c)
	}
	if len(b) == 0 {
		return "unknown"
	}
	return string(b)
}

// Name returns the destination name given to New.
func (s *Sink) Name() string { return s.name }

const maxPooledBuf = 16 << 20

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 64<<10)
	return &b
}}

// Write appends every event of b as one line (Event.Raw + '\n').
//
// Nil means all lines were written with a single write(2) (and fsynced when
// fsync is set); an error means none of them are in the file (see
// RotatingFile.Write) and is an IO error worth retrying, or ctx's error when
// the wait for the file lock outlived it. An empty batch is a no-op. Write
// does not retain b or any Event.Raw. After Close it returns
// pipeline.ErrClosed.
func (s *Sink) Write(ctx context.Context, b *pipeline.Batch) error {
	if s.closed.Load() {
		return pipeline.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if b == nil || len(b.Events) == 0 {
		return nil
	}
	bp := bufPool.Get().(*[]byte)
	buf := (*bp)[:0]
	if n := b.Bytes() + len(b.Events); cap(buf) < n {
		buf = make([]byte, 0, n)
	}
	for i := range b.Events {
		buf = append(buf, b.Events[i].Raw...)
		buf = append(buf, '\n')
	}
	err := s.rf.Write(ctx, buf)
	if cap(buf) <= maxPooledBuf {
		*bp = buf[:0]
		bufPool.Put(bp)
	}
	if err != nil {
		if errors.Is(err, pipeline.ErrClosed) || errors.Is(err, ctx.Err()) {
			return err
		}
		return fmt.Errorf("file %s: %w", s.name, err)
	}
	return nil
}

// Close fsyncs and closes the current file. It is idempotent; ctx bounds the
// wait for Writes in flight. After Close, Write returns pipeline.ErrClosed.
func (s *Sink) Close(ctx context.Context) error {
	s.closed.Store(true)
	if err := s.rf.Close(ctx); err != nil {
		return fmt.Errorf("file %s: close: %w", s.name, err)
	}
	return nil
}
