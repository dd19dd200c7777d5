package opensearch

import (
	"bytes"
	"errors"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/logrouter/logrouter/pipeline"
)

// Splitting a batch into several concurrent requests: a batch larger than
// splitAbove bytes is cut into up to max_concurrent_requests pieces of at
// least minSplitBytes.
const (
	splitAbove    = 1 << 20
	minSplitBytes = 512 << 10
)

// maxPooledBuf bounds the buffers kept in pools.
const maxPooledBuf = 64 << 20

// errEmptyEvent fails an event without bytes: it would break the bulk body.
var errEmptyEvent = pipeline.Permanent(errors.New("opensearch: event has no content (empty Raw): an empty line would break the bulk request"))

// nameEntry caches the action line prefix of one index within a Write.
type nameEntry struct {
	st       string
	prio     pipeline.Priority
	bucket   int64
	other    bool // the source type is over max_index_source_types
	replayed bool // of replayed events, which the cap does not apply to
	off, end int  // prefix bytes in encoder.names
}

// span is a range [lo, hi) of encoded items.
type span struct{ lo, hi int }

// encoder is one Write's bulk body and bookkeeping, pooled so that encoding
// allocates nothing per event (and nothing at all once warm).
type encoder struct {
	// body is the uncompressed NDJSON of every encoded item: for item k,
	// its action line and document are body[offs[k]:offs[k+1]].
	body []byte
	offs []int
	// idx[k] is item k's index in the batch's Events, hash[k] its
	// event's hash (its _id).
	idx  []int32
	hash []uint64
	// skipped are events not encoded (no content), reported permanent.
	skipped []pipeline.ItemError

	cache []nameEntry
	names []byte // action line prefixes: {"create":{"_index":"NAME","_id":"
	last  int    // cache entry of the previous event
	stBuf []byte // a sanitized source type, for the source type cap

	// clamped counts the events whose index date is their ingest time's
	// (their own time is outside the index date window), overflowed those
	// whose source type is over max_index_source_types.
	clamped, overflowed int

	spans []span
}

var encoderPool = sync.Pool{New: func() any { return new(encoder) }}

func getEncoder() *encoder { return encoderPool.Get().(*encoder) }

func putEncoder(e *encoder) {
	if cap(e.body) > maxPooledBuf {
		return
	}
	clear(e.cache) // drop the source type strings
	e.cache = e.cache[:0]
	e.skipped = e.skipped[:0]
	encoderPool.Put(e)
}

const hexDigits = "0123456789abcdef"

// appendID appends the 16 lower-case hex digits of h (big-endian, as
// fmt's %016x).
func appendID(dst []byte, h uint64) []byte {
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = hexDigits[h&0xf]
		h >>= 4
	}
	return append(dst, b[:]...)
}

// DocumentID returns the _id an event with hash h is written with: the 16
// lower-case hex digits of h.
func DocumentID(h uint64) string { return string(appendID(nil, h)) }

// actionSuffix ends an action line after the id.
const actionSuffix = "\"}}\n"

// prefix returns the action line prefix for ev, whose index date comes from
// ns (its time, or its ingest time when clamped), rendering the index name on
// the first event of each distinct (source type, priority, time bucket).
func (e *encoder) prefix(n *namer, op string, ev *pipeline.Event, ns int64) []byte {
	t := n.t
	st, prio, bucket := "", pipeline.PriorityNone, int64(0)
	if t.hasSource {
		st = ev.SourceType
	}
	if t.hasPriority {
		prio = ev.Priority
	}
	if t.gran != 0 {
		bucket = t.bucket(ns)
	}
	if e.last < len(e.cache) {
		if c := &e.cache[e.last]; c.bucket == bucket && c.prio == prio && c.st == st && c.replayed == ev.Replayed {
			if c.other {
				e.overflowed++
			}
			return e.names[c.off:c.end]
		}
	}
	for i := range e.cache {
		if c := &e.cache[i]; c.bucket == bucket && c.prio == prio && c.st == st && c.replayed == ev.Replayed {
			e.last = i
			if c.other {
				e.overflowed++
			}
			return e.names[c.off:c.end]
		}
	}
	// First sight of this source type in the batch: ask the sink's cap
	// (a map lookup; it allocates only for a source type new to the sink).
	// A replayed event (a refusal sent back as it was written, from a
	// record this router sealed) keeps its source type's index without
	// asking: the set of admitted types is rebuilt in arrival order after
	// a restart, and the type it was written under may not be in it yet.
	other, rst := false, ev.SourceType
	if n.types != nil && !ev.Replayed {
		e.stBuf = appendSanitized(e.stBuf[:0], st, t.sourceBudget)
		if !n.types.admit(e.stBuf) {
			other, rst = true, OverflowSourceType
			e.overflowed++
		}
	}
	off := len(e.names)
	e.names = append(e.names, `{"`...)
	e.names = append(e.names, op...)
	e.names = append(e.names, `":{"_index":"`...)
	e.names = t.render(e.names, rst, ev.Priority, ns)
	e.names = append(e.names, `","_id":"`...)
	e.cache = append(e.cache, nameEntry{st: st, prio: prio, bucket: bucket, other: other, replayed: ev.Replayed, off: off, end: len(e.names)})
	e.last = len(e.cache) - 1
	return e.names[off:len(e.names)]
}

// encode writes the bulk body of every event of b (op is "create" or
// "index") with the index names of nm.
func (e *encoder) encode(nm *namer, op string, b *pipeline.Batch) {
	n := len(b.Events)
	e.body = e.body[:0]
	e.offs = e.offs[:0]
	e.idx = e.idx[:0]
	e.hash = e.hash[:0]
	e.skipped = e.skipped[:0]
	clear(e.cache)
	e.cache = e.cache[:0]
	e.names = e.names[:0]
	e.last = 0
	e.clamped, e.overflowed = 0, 0
	// The reference for the index date window: each event's ingest time,
	// else the batch's, else (an event that lost it) the time of this Write.
	dated, ref := nm.t.gran != 0, int64(0)
	if dated {
		if ref = b.Meta.IngestTime; ref == 0 {
			ref = time.Now().UnixNano()
		}
	}
	// Action lines take about 70 bytes besides the index name.
	if need := b.Bytes() + n*(96+len(op)); cap(e.body) < need {
		e.body = make([]byte, 0, need+need/8)
	}
	if cap(e.offs) < n+1 {
		e.offs = make([]int, 0, n+1)
		e.idx = make([]int32, 0, n)
		e.hash = make([]uint64, 0, n)
	}
	body := e.body
	for i := range b.Events {
		ev := &b.Events[i]
		raw := ev.Raw
		if len(raw) == 0 {
			e.skipped = append(e.skipped, pipeline.ItemError{Index: i, Err: errEmptyEvent})
			continue
		}
		e.offs = append(e.offs, len(body))
		e.idx = append(e.idx, int32(i))
		e.hash = append(e.hash, ev.Hash)
		ns := ev.Time
		if dated {
			r := ev.Ingest
			if r == 0 {
				r = ref
			}
			var clamped bool
			if ns, clamped = nm.indexTime(ns, r); clamped {
				e.clamped++
			}
		}
		body = append(body, e.prefix(nm, op, ev, ns)...)
		body = appendID(body, ev.Hash)
		body = append(body, actionSuffix...)
		if bytes.IndexByte(raw, '\n') < 0 {
			body = append(body, raw...)
		} else {
			// A raw newline can only be whitespace between JSON tokens
			// (inside strings it must be escaped): a space is equivalent
			// and keeps the document on one line.
			start := len(body)
			body = append(body, raw...)
			for j := start; j < len(body); j++ {
				if body[j] == '\n' {
					body[j] = ' '
				}
			}
		}
		body = append(body, '\n')
	}
	e.offs = append(e.offs, len(body))
	e.body = body
}

// items returns the number of encoded items.
func (e *encoder) items() int { return len(e.idx) }

// split cuts the encoded items into the spans sent as separate bulk
// requests: at most bulkBytes each (an item larger than that goes alone),
// and a body larger than splitAbove is cut into up to conc pieces of about
// equal size, at least minSplitBytes each, sent concurrently.
func (e *encoder) split(bulkBytes, conc int) []span {
	e.spans = e.spans[:0]
	n := e.items()
	if n == 0 {
		return e.spans
	}
	total := len(e.body)
	pieces := 1
	if total > splitAbove && conc > 1 {
		pieces = max(1, min(conc, total/minSplitBytes))
	}
	k := 1 // the next cut aims at k*total/pieces
	for lo := 0; lo < n; {
		goal := k * total / pieces
		hi := lo + 1
		for hi < n && e.offs[hi] < goal && e.offs[hi+1]-e.offs[lo] <= bulkBytes {
			hi++
		}
		e.spans = append(e.spans, span{lo, hi})
		for k < pieces && k*total/pieces <= e.offs[hi] {
			k++
		}
		lo = hi
	}
	return e.spans
}

// bodyOf returns the uncompressed bulk body of items [lo, hi).
func (e *encoder) bodyOf(lo, hi int) []byte { return e.body[e.offs[lo]:e.offs[hi]] }

// gzipper compresses bulk bodies into a reusable buffer.
type gzipper struct {
	w     *gzip.Writer
	out   sliceWriter
	level int
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// gzipPools holds a pool of gzippers per level (index level+2: -2 to 9).
var gzipPools [12]sync.Pool

// compress gzips src at level with a pooled gzipper; the result is valid
// until putGzipper.
func compress(src []byte, level int) (*gzipper, []byte) {
	if level == 0 {
		level = 1 // a Config without SetDefaults
	}
	p := &gzipPools[level+2]
	g, _ := p.Get().(*gzipper)
	if g == nil {
		g = &gzipper{level: level}
		g.w, _ = gzip.NewWriterLevel(&g.out, level)
	}
	return g, g.compress(src)
}

// compress gzips src into g's buffer, valid until the next call.
func (g *gzipper) compress(src []byte) []byte {
	if need := len(src)/3 + 1024; cap(g.out.b) < need {
		g.out.b = make([]byte, 0, need)
	}
	g.out.b = g.out.b[:0]
	g.w.Reset(&g.out)
	_, _ = g.w.Write(src) // writes to memory cannot fail
	_ = g.w.Close()
	return g.out.b
}

func putGzipper(g *gzipper) {
	if g == nil || cap(g.out.b) > maxPooledBuf {
		return
	}
	gzipPools[g.level+2].Put(g)
}
