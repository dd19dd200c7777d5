package pipeline

import "context"

// Sink is a destination. The engine calls Write once per destination lane per
// batch, possibly from many goroutines at once.
//
// Write accepts b durably or returns an error: nil means the destination
// confirmed every event, or that they are fsynced in the sink's own on-disk
// queue. Write must not retain b or any Event.Raw after it returns (copy what
// must outlive the call). ctx bounds the call. Wrap errors that no retry can
// fix with Permanent.
//
// Close flushes, fsyncs and releases resources. It is idempotent and bounded
// by ctx; after Close, Write returns ErrClosed.
type Sink interface {
	Name() string
	Write(ctx context.Context, b *Batch) error
	Close(ctx context.Context) error
}

// Rejected is one input record that could not become an event, or one event a
// destination refused permanently. It is what quarantine stores.
type Rejected struct {
	// Raw is the original bytes (an input record) or the normalized event.
	Raw []byte
	// Reason is a short machine-friendly cause, used as a metric label
	// (for example "invalid_json", "too_large", "hec_missing_event").
	Reason string
	// Detail is the human-readable error.
	Detail string
	// Input, Protocol and Peer describe where the record came from.
	Input, Protocol, Peer string
	// Destination is set when a destination refused the event.
	Destination string
	// Time is when it was rejected, unix nanoseconds.
	Time int64
}

// Quarantine keeps rejected records for inspection and replay. Put returns nil
// only once the records are stored (the caller may acknowledge upstream after
// that). It must not retain recs or their bytes.
type Quarantine interface {
	Put(ctx context.Context, recs []Rejected) error
	Close(ctx context.Context) error
}
