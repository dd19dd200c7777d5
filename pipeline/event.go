package pipeline

import (
	"fmt"
	"sync"
	"unsafe"
)

// Priority is the routing class a rule gives an event.
type Priority uint8

// Priorities, most urgent first. PriorityNone means "not classified yet".
const (
	PriorityNone Priority = iota
	P1
	P2
	P3
)

// NumPriorities is the size of an array indexed by Priority.
const NumPriorities = 4

// Priorities lists the real priorities in drain order.
var Priorities = [...]Priority{P1, P2, P3}

func (p Priority) String() string {
	switch p {
	case P1:
		return "P1"
	case P2:
		return "P2"
	case P3:
		return "P3"
	}
	return "none"
}

// ParsePriority parses "P1", "P2" or "P3" (case-insensitive).
func ParsePriority(s string) (Priority, error) {
	switch s {
	case "P1", "p1":
		return P1, nil
	case "P2", "p2":
		return P2, nil
	case "P3", "p3":
		return P3, nil
	}
	return PriorityNone, fmt.Errorf("invalid priority %q: use P1, P2 or P3", s)
}

// Event is one normalized record.
//
// Raw is a canonical JSON object written once by the normalizer into the owning
// Batch's arena; it is read-only and valid until the batch is released.
type Event struct {
	Raw []byte
	// Time is the event's own time in unix nanoseconds UTC, or the ingest time
	// when the event carried none.
	Time int64
	// Ingest is when logrouter received the event, unix nanoseconds UTC. It
	// travels with the event through durable queues, where batches coalesce.
	Ingest int64
	// Hash identifies the event's content independent of key order and
	// whitespace, and of ingest metadata. It is a stable document id, so
	// redelivery is idempotent downstream, and the Kafka message key.
	Hash uint64
	// Key is the deduplication key: Hash, or a hash of the configured
	// dedup.key_fields.
	Key uint64
	// SourceType names the kind of source (for example "crowdstrike.falcon");
	// it is interned by the normalizer, so it allocates nothing per event.
	SourceType string
	// Priority is set by routing.
	Priority Priority
	// Replayed marks an event sent again from the quarantine to the
	// destination that refused it, as it was written (POST
	// /admin/replay/written): if that destination refuses it again, its new
	// quarantine record says input "replay", so that replay does not loop.
	// It travels through durable queues; it fills what was padding.
	Replayed bool
	// Rule is the rule that matched: its index in the rule set that
	// classified the event, or the engine's id of it (route.Router.RuleIDs);
	// -1 when the default priority applied.
	Rule int32

	off uint32 // offset of Raw in the arena, to rebase Raw when the arena grows
	// DedupRepeats is set by the engine's deduplication: the copies of this
	// event dropped as repeats within its own batch (dedup.count_field
	// counts them). It fills what was padding: Event did not grow.
	DedupRepeats uint32
}

// Meta describes where a batch came from. It is shared by all its events.
type Meta struct {
	// Input is the configured input name (for example "http").
	Input string
	// Protocol is the wire format: "hec", "hec_raw", "bulk", "ndjson", ...
	Protocol string
	// Peer is the remote address of the sender.
	Peer string
	// Token is the name of the authentication token used, never its value.
	Token string
	// IngestTime is when the batch was received, unix nanoseconds UTC.
	IngestTime int64
}

// Batch is the unit of transport and acknowledgement.
//
// Sources fill a batch through a Builder (see package normalize), hand it to the
// engine, wait for Ack to fire and then Release it. Stages after the source only
// read it.
type Batch struct {
	Events []Event
	Ack    *Ack
	Meta   Meta

	arena  []byte
	parent *Batch // non-nil for views made by Split

	// reserved is what an Admitter reserved for this view (Admit), taken
	// by its Write or given back by Unadmit.
	reserved int64

	// dedupCounts are the repeats deduplication removed from this batch
	// (see AddDedupCount).
	dedupCounts []DedupCount
	// removed are the repeats deduplication removed from Events and the
	// engine has not counted yet (see AddRemoved).
	removed []Removed
}

// Removed is a run of repeats of one source type that deduplication
// removed from a batch: Events of them, Bytes long in all.
type Removed struct {
	SourceType    string
	Events, Bytes int
}

// AddRemoved records that deduplication removed n events of source type
// st, bytes long in all, from b.Events. The engine counts them as
// deduplicated when b is accepted and as refused with it when it is not
// (TakeRemoved): a refused batch was not acknowledged, its repeats
// included. A batch its source emits again (syslog, Kafka) carries them
// to the next pass, which counts them as its input again.
func (b *Batch) AddRemoved(st string, n, bytes int) {
	if k := len(b.removed) - 1; k >= 0 && b.removed[k].SourceType == st {
		b.removed[k].Events += n
		b.removed[k].Bytes += bytes
	} else {
		b.removed = append(b.removed, Removed{SourceType: st, Events: n, Bytes: bytes})
	}
}

// RemovedEvents is how many repeats AddRemoved recorded that are not
// taken yet: events of b's input that are no longer in b.Events.
// (A run per source type: a few entries.)
func (b *Batch) RemovedEvents() int {
	n := 0
	for _, r := range b.removed {
		n += r.Events
	}
	return n
}

// RemovedBytes is the length of the repeats RemovedEvents counts.
func (b *Batch) RemovedBytes() int {
	n := 0
	for _, r := range b.removed {
		n += r.Bytes
	}
	return n
}

// TakeRemoved returns what AddRemoved recorded and forgets it. The slice
// is valid until the next AddRemoved.
func (b *Batch) TakeRemoved() []Removed {
	r := b.removed
	b.removed = b.removed[:0]
	return r
}

// DedupCount is a repeat count deduplication owes a key of its set Set.
type DedupCount struct {
	Key uint64
	Set int8
	N   uint32
}

// AddDedupCount records that deduplication removed n copies of key from b
// (set names the engine's dedup set). The engine counts them into the set
// only when b is accepted (DedupCounts): a batch refused and sent again as
// a new batch (HTTP) must not count its repeats twice, while one its
// source emits again (syslog, Kafka) keeps them, as its repeats left its
// events for good.
func (b *Batch) AddDedupCount(set int8, key uint64, n uint32) {
	b.dedupCounts = append(b.dedupCounts, DedupCount{Key: key, Set: set, N: n})
}

// DedupCounts returns the counts AddDedupCount recorded and forgets them.
// The slice is valid until the next AddDedupCount.
func (b *Batch) DedupCounts() []DedupCount {
	d := b.dedupCounts
	b.dedupCounts = b.dedupCounts[:0]
	return d
}

// Reserved returns what an Admitter reserved for b (see Admitter).
func (b *Batch) Reserved() int64 { return b.reserved }

// SetReserved records what an Admitter reserved for b (see Admitter).
func (b *Batch) SetReserved(n int64) { b.reserved = n }

const maxPooledArena = 64 << 20

var batchPool = sync.Pool{New: func() any { return new(Batch) }}

// NewBatch returns an empty batch from a pool. Release it after its Ack fired.
func NewBatch() *Batch {
	return batchPool.Get().(*Batch)
}

// Release returns b to the pool. The caller guarantees that the Ack fired (or
// was never handed out) and that no stage still reads b or any view of it.
// Releasing a view is a no-op.
func (b *Batch) Release() {
	if b == nil || b.parent != nil {
		return
	}
	clear(b.Events) // drop references to interned strings
	b.Events = b.Events[:0]
	b.Ack = nil
	b.Meta = Meta{}
	b.dedupCounts = b.dedupCounts[:0]
	clear(b.removed)
	b.removed = b.removed[:0]
	if cap(b.arena) > maxPooledArena {
		b.arena = nil
	}
	b.arena = b.arena[:0]
	batchPool.Put(b)
}

// Reset empties b for reuse by its owner, keeping its capacity.
func (b *Batch) Reset() {
	clear(b.Events)
	b.Events = b.Events[:0]
	b.arena = b.arena[:0]
	b.dedupCounts = b.dedupCounts[:0]
	clear(b.removed)
	b.removed = b.removed[:0]
}

// Shrink lets go of b's buffers where they hold more than max bytes, for
// an owner that keeps an empty batch between uses (a syslog connection):
// after one burst it would otherwise hold the burst's capacity for as long
// as it lives (Reset keeps capacity, and a batch from the pool comes back
// at the size its last user grew it to). b must be empty.
func (b *Batch) Shrink(max int) {
	if cap(b.arena) > max {
		b.arena = nil
	}
	if cap(b.Events)*int(unsafe.Sizeof(Event{})) > max {
		b.Events = nil
	}
}

// Truncate drops the events from index n on and their arena bytes: a
// builder that added several events for one record takes them back when
// the record is refused whole. For root batches only, before the batch is
// handed on.
func (b *Batch) Truncate(n int) {
	if n >= len(b.Events) {
		return
	}
	b.arena = b.arena[:b.Events[n].off]
	clear(b.Events[n:])
	b.Events = b.Events[:n]
}

// Len returns the number of events.
func (b *Batch) Len() int { return len(b.Events) }

// Bytes returns the total size of the events' Raw bytes.
func (b *Batch) Bytes() int {
	n := 0
	for i := range b.Events {
		n += len(b.Events[i].Raw)
	}
	return n
}

// Grow makes room for n more arena bytes, so that a builder that knows the input
// size appends without reallocating.
func (b *Batch) Grow(n int) {
	if cap(b.arena)-len(b.arena) < n {
		b.rebase(append(make([]byte, 0, len(b.arena)+n), b.arena...))
	}
}

// Arena returns the arena for appending exactly one event's bytes, to be
// followed by Commit with the grown slice. Bytes between len(Arena()) and the
// new length become the event's Raw. A builder that finds the event invalid
// halfway simply does not Commit: the next Arena starts from the last commit.
func (b *Batch) Arena() []byte { return b.arena }

// Commit appends ev with Raw set to the bytes written to arena since the last
// Arena call. arena must be the slice returned by Arena, grown by append.
func (b *Batch) Commit(arena []byte, ev Event) {
	start := len(b.arena)
	if unsafe.SliceData(arena) != unsafe.SliceData(b.arena) {
		b.rebase(arena) // append moved the arena: repoint earlier events
	}
	b.arena = arena
	ev.off = uint32(start)
	ev.Raw = arena[start:len(arena):len(arena)]
	b.Events = append(b.Events, ev)
}

// Rewrite replaces event i's bytes with those fn appends to the arena; fn
// gets the arena and the event's current Raw and returns the grown arena.
// The old bytes stay in the arena unused. For root batches only (not views),
// before the batch is handed on.
func (b *Batch) Rewrite(i int, fn func(arena, old []byte) []byte) {
	start := len(b.arena)
	arena := fn(b.arena, b.Events[i].Raw)
	if unsafe.SliceData(arena) != unsafe.SliceData(b.arena) {
		b.rebase(arena)
	}
	b.arena = arena
	ev := &b.Events[i]
	ev.off = uint32(start)
	ev.Raw = arena[start:len(arena):len(arena)]
}

// rebase moves the arena to a new backing array and repoints every Raw.
func (b *Batch) rebase(arena []byte) {
	for i := range b.Events {
		ev := &b.Events[i]
		n := len(ev.Raw)
		ev.Raw = arena[ev.off : int(ev.off)+n : int(ev.off)+n]
	}
	b.arena = arena[:len(b.arena)]
}

// View returns a batch that shares b's arena, Meta and Ack and holds events.
// Views are what routing hands to sinks; Release on a view does nothing.
func (b *Batch) View(v *Batch, events []Event) *Batch {
	root := b
	if b.parent != nil {
		root = b.parent
	}
	v.Events = events
	v.Ack = b.Ack
	v.Meta = b.Meta
	v.parent = root
	return v
}
