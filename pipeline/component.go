package pipeline

import (
	"context"
	"fmt"
)

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
	// DefaultSourceType and DefaultIndex are what the input would have
	// given a record that names none (an HTTP token's source type and
	// index, a Firehose stream's common attributes), so that a replay
	// maps and routes the record as it would have been. Input records only.
	DefaultSourceType, DefaultIndex string
	// SourceType, DefaultHost, DefaultSource and DefaultTime are the other
	// metadata a request gave every record of it (the HEC endpoints'
	// ?sourcetype=&host=&source=&time=): a replay applies them as the
	// input did. SourceType is the record's source type as the input set
	// it (HEC's sourcetype: it overrides an event.dataset of the event's
	// own, which DefaultSourceType does not); DefaultTime is unix ns.
	// Input records only.
	SourceType, DefaultHost, DefaultSource string
	DefaultTime                            int64
	// RecordTime, unix ns, is the time the input gave the record to stand
	// in for an event without one of its own (a Kafka record's
	// timestamp); unlike DefaultTime it never wins over the event's own.
	// A replay applies it again. Input records only.
	RecordTime int64
	// Destination is set when a destination refused the event.
	Destination string
	// Status is the destination's status for the event (an HTTP status for
	// HTTP destinations), 0 when not applicable.
	Status int
	// Time is when it was rejected, unix nanoseconds.
	Time int64
	// Event is set when a destination refused a normalized event: what was
	// written with Raw, so that replay can send the event as it was (the
	// same hash, hence the same OpenSearch _id; the same time, source type
	// and priority) rather than normalize it again. Nil for input records.
	Event *RejectedEvent
}

// RejectedEvent is the metadata of a refused event (see Rejected.Event).
type RejectedEvent struct {
	Hash uint64
	// Key is the event's dedup key when it is not Hash (dedup.key_fields;
	// the Kafka destination's message key), else 0.
	Key          uint64
	Time, Ingest int64 // unix ns
	SourceType   string
	Priority     Priority
}

// Quarantine keeps rejected records for inspection and replay. Put returns nil
// only once the records are stored (the caller may acknowledge upstream after
// that). It must not retain recs or their bytes.
type Quarantine interface {
	Put(ctx context.Context, recs []Rejected) error
	Close(ctx context.Context) error
}

// ItemError is the failure of one event of a batch given to Sink.Write.
// Whether a retry can fix it is IsPermanent(Err).
type ItemError struct {
	// Index is the event's index in the batch's Events.
	Index int
	// Status is the destination's status for the item (e.g. 400, 429).
	Status int
	Err    error
}

// BatchError is what Sink.Write returns when only some events of a batch
// failed (an OpenSearch bulk answer with per-item errors). Every event not
// listed was delivered. Retryable items are retried alone; permanent ones
// go to the destination's quarantine.
type BatchError struct {
	Items []ItemError
}

func (e *BatchError) Error() string {
	perm := 0
	for _, it := range e.Items {
		if IsPermanent(it.Err) {
			perm++
		}
	}
	first := ""
	if len(e.Items) > 0 {
		first = ": first: " + e.Items[0].Err.Error()
	}
	return fmt.Sprintf("%d events failed (%d permanently)%s", len(e.Items), perm, first)
}

// Admitter is implemented by sinks that can refuse a batch before anything is
// written (a full queue). The engine asks every lane first and refuses the
// whole batch if one says no, so that a retry does not duplicate events in
// the destinations that would have accepted it.
//
// Admission is a reservation: the room Admit found is held for b (recorded
// with b.SetReserved) until the sink's Write(b) takes it, or Unadmit(b)
// gives it back when another lane refused the batch. A check alone let two
// batches admitted at once both pass, and the second Write then failed
// after the other destinations had taken it (a duplicate on retry).
type Admitter interface {
	// Admit returns ErrOverloaded (wrapped, naming the setting to change)
	// when b cannot be accepted now. It must be cheap and must not block.
	Admit(b *Batch) error
	// Unadmit gives back what Admit reserved for b, which will not be
	// written.
	Unadmit(b *Batch)
}

// FullReporter is implemented by sinks that refuse batches when full (a
// durable queue): Full reports whether the sink refused one for want of
// room in the last few seconds, which HEC's health endpoint reports as
// Splunk does ("queues are full") so that a load balancer can send
// elsewhere. It must be cheap and must not block.
type FullReporter interface {
	Full() bool
}

// Holder is implemented by sinks that can take a batch on hold (a durable
// queue). WriteHeld does what Write does (b is durable once it returns nil)
// but the sink delivers none of b until the Hold it returns is committed;
// Abort withdraws b as if WriteHeld had refused it. The engine writes on
// hold to every lane that is a Holder and commits only once every lane took
// the batch, so that a batch one destination refused, which its sender
// resends whole, was delivered by none of the others (no duplicates from a
// disk error in one queue).
//
// Exactly one of Commit and Abort must be called, and promptly: the sink may
// deliver nothing written after b until then.
type Holder interface {
	WriteHeld(ctx context.Context, b *Batch) (Hold, error)
}

// Hold is a batch a Holder took on hold (see Holder). Neither method may be
// called after the other, nor twice.
type Hold interface {
	Commit()
	Abort()
}
