// Package route classifies normalized events with a rules.Set and splits
// batches into one lane per destination according to the routing table.
package route

import (
	"fmt"
	"sort"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog/parse"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/rules"
)

// Table maps priorities to destination ids. A destination's id is its index
// in Destinations.
type Table struct {
	Destinations []string
	byPriority   [pipeline.NumPriorities][]int
}

// NewTable builds a table. byPriority names the destinations of each
// priority; all names destinations that receive every event (the archive).
// Every name must be in dests.
func NewTable(dests []string, byPriority map[pipeline.Priority][]string, all []string) (*Table, error) {
	t := &Table{Destinations: dests}
	id := make(map[string]int, len(dests))
	for i, d := range dests {
		id[d] = i
	}
	add := func(p pipeline.Priority, name string) error {
		i, ok := id[name]
		if !ok {
			return fmt.Errorf("unknown destination %q: define it under destinations", name)
		}
		for _, have := range t.byPriority[p] {
			if have == i {
				return nil
			}
		}
		t.byPriority[p] = append(t.byPriority[p], i)
		return nil
	}
	for _, p := range pipeline.Priorities {
		for _, name := range all {
			if err := add(p, name); err != nil {
				return nil, fmt.Errorf("routing.all: %w", err)
			}
		}
		for _, name := range byPriority[p] {
			if err := add(p, name); err != nil {
				return nil, fmt.Errorf("routing.%s: %w", p, err)
			}
		}
		sort.Ints(t.byPriority[p])
	}
	return t, nil
}

// For returns the destination ids for priority p (sorted; do not modify).
func (t *Table) For(p pipeline.Priority) []int { return t.byPriority[p] }

// Names returns the sorted destination names for priority p.
func (t *Table) Names(p pipeline.Priority) []string {
	out := make([]string, 0, len(t.byPriority[p]))
	for _, i := range t.byPriority[p] {
		out = append(out, t.Destinations[i])
	}
	sort.Strings(out)
	return out
}

// Lanes holds one slice of events per destination; reuse it across batches.
type Lanes struct {
	Events [][]pipeline.Event
}

// Split distributes b's events over l, one lane per destination. Events are
// copied by value (Raw still points into b's arena).
func (t *Table) Split(b *pipeline.Batch, l *Lanes) {
	if len(l.Events) != len(t.Destinations) {
		l.Events = make([][]pipeline.Event, len(t.Destinations))
	}
	for i := range l.Events {
		clear(l.Events[i])
		l.Events[i] = l.Events[i][:0]
	}
	for i := range b.Events {
		ev := &b.Events[i]
		for _, d := range t.byPriority[ev.Priority] {
			l.Events[d] = append(l.Events[d], *ev)
		}
	}
}

// Router holds what classification needs; it is immutable and shared.
type Router struct {
	Norm  *normalize.Compiled
	Rules *rules.Set
	Table *Table
	// KeyFields, when set, make Event.Key a hash of these fields' values
	// (dedup.key_fields) instead of the content hash.
	KeyFields []string
	// Syslog is how the syslog input parses and labels messages, for rule
	// test cases given as syslog lines (RunTests); nil: the defaults.
	Syslog *SyslogInput
	// RuleIDs, when set, is what Worker.Add writes as Event.Rule for each
	// rule index (the engine numbers rules by name across reloads, so
	// that a batch classified by the rules before a reload counts for the
	// right rule); nil: the index itself.
	RuleIDs []int32
}

// SyslogInput is what the syslog input applies to a message before
// normalization (its parser options, default and per-app source types).
type SyslogInput struct {
	Parse      parse.Options
	SourceType string            // inputs.syslog.source_type
	AppTypes   map[string]string // inputs.syslog.app_source_types
}

// Worker normalizes and classifies events for one goroutine at a time.
type Worker struct {
	r      *Router
	n      *normalize.Normalizer
	paths  []normalize.Path
	keys   []normalize.Path
	keyBuf []byte
	vals   []normalize.Value
	seen   []uint32
	epoch  uint32
}

// NewWorker returns a Worker; keep one per goroutine (pool them).
func (r *Router) NewWorker() *Worker {
	nf := len(r.Rules.Fields)
	w := &Worker{r: r, n: r.Norm.New(), vals: make([]normalize.Value, nf), seen: make([]uint32, nf)}
	for _, f := range r.Rules.Fields {
		w.paths = append(w.paths, normalize.CompilePath(f))
	}
	for _, f := range r.KeyFields {
		w.keys = append(w.keys, normalize.CompilePath(f))
	}
	return w
}

// Router returns the router w classifies with.
func (w *Worker) Router() *Router { return w.r }

// Field implements rules.Env: it looks a field up on first use per event.
func (w *Worker) Field(id int) *normalize.Value {
	if w.seen[id] != w.epoch {
		w.seen[id] = w.epoch
		w.n.LookupInto(&w.paths[id], &w.vals[id])
	}
	return &w.vals[id]
}

// RootFilter is the event's root key filter (see normalize.RootFilter): the
// rule index skips the fields it shows missing without looking them up.
func (w *Worker) RootFilter() *[4]uint64 { return w.n.RootFilter() }

// Add normalizes one record (obj, or text when obj is nil), classifies it and
// appends it to b. On error nothing is appended and the caller quarantines the
// record with normalize.Reason(err).
func (w *Worker) Add(b *pipeline.Batch, obj *fastjson.Value, text []byte, m *normalize.EventMeta) error {
	if err := w.n.Build(obj, text, &b.Meta, m); err != nil {
		return err
	}
	idx := w.classify()
	key, keyed := w.key()
	arena, ev := w.n.AppendTo(b.Arena())
	ev.Rule = int32(idx)
	if idx >= 0 && w.r.RuleIDs != nil {
		ev.Rule = w.r.RuleIDs[idx]
	}
	ev.Priority = w.r.Rules.Priority(idx)
	ev.Key = ev.Hash
	if keyed {
		ev.Key = key
	}
	b.Commit(arena, ev)
	return nil
}

// AddRecords adds each record of a batch envelope (normalize.Records) as
// Add would, with m's metadata: an envelope's time (m.Time: when a
// forwarder read the batch) is each record's only when it has none of its
// own. A record that is a Google Workspace activity of several events (a
// Reports API page's) is added as AddParts adds an activity's events. A
// record refused is passed to reject (the envelope's other records are
// still added; part is valid during the call only); it reports whether
// all were added.
func (w *Worker) AddRecords(b *pipeline.Batch, recs []*fastjson.Value, m *normalize.EventMeta, reject func(part *fastjson.Value, err error)) bool {
	em := *m
	if em.Time != 0 {
		em.DefaultTime, em.Time = em.Time, 0
	}
	ok := true
	for _, rec := range recs {
		normalize.EachEvent(rec, func(part *fastjson.Value) {
			if err := w.Add(b, part, nil, &em); err != nil {
				reject(part, err)
				ok = false
			}
		})
	}
	return ok
}

// AddParts adds each event that obj holds (normalize.Parts gave parts and
// activity) as Add would: a batch envelope's records (AddRecords), or a
// Google Workspace activity's events, each as obj holding only that event
// (normalize.SetActivityEvent), with m's metadata. A refused event is
// passed to reject (a record; for an activity's event obj, holding only
// it, during the call only). It reports whether all were added; obj is as
// it was when it returns.
func (w *Worker) AddParts(b *pipeline.Batch, obj *fastjson.Value, parts []*fastjson.Value, activity bool, m *normalize.EventMeta, reject func(part *fastjson.Value, err error)) bool {
	if !activity {
		return w.AddRecords(b, parts, m, reject)
	}
	ok := true
	normalize.EachEvent(obj, func(part *fastjson.Value) {
		if err := w.Add(b, part, nil, m); err != nil {
			reject(part, err)
			ok = false
		}
	})
	return ok
}

// AddAll adds obj (or text) as Add does or, when obj is a Google Workspace
// activity of several events (normalize.ActivityEvents), each of its
// events as AddParts does, all or none: when one is refused, those added
// for obj are taken back and its error is returned, for the caller to
// quarantine the record whole (a syslog frame, which a replay parses and
// splits again). A batch envelope is not split: this is for a syslog
// payload, whose event keeps its own logrouter member (the parser's
// parse_status: EventMeta.KeepOwnLogrouter) and has the header's members
// around it, neither of which a record inside the payload may have.
func (w *Worker) AddAll(b *pipeline.Batch, obj *fastjson.Value, text []byte, m *normalize.EventMeta) error {
	if obj == nil {
		return w.Add(b, nil, text, m)
	}
	parts := normalize.ActivityEvents(obj)
	if parts == nil {
		return w.Add(b, obj, text, m)
	}
	before := len(b.Events)
	var first error
	w.AddParts(b, obj, parts, true, m, func(_ *fastjson.Value, err error) {
		if first == nil {
			first = err
		}
	})
	if first != nil {
		b.Truncate(before)
	}
	return first
}

// key hashes the dedup key fields of the event being built: the kind and a
// keyed hash of each normalized value, fixed-width (normalize.FieldKey), so
// that no value can forge another tuple's key, an empty field differs from
// another, and an object's key covers the members renamed into it. An event
// that lacks one of the fields (missing or null) has no key (keyed false):
// it keeps its content hash, since nothing shows it repeats another event
// that lacks it too (every failed login of a source without event.id would
// otherwise be one "duplicate").
func (w *Worker) key() (key uint64, keyed bool) {
	if len(w.keys) == 0 {
		return 0, false
	}
	w.keyBuf = w.keyBuf[:0]
	for i := range w.keys {
		at := len(w.keyBuf)
		w.keyBuf = w.n.FieldKey(w.keyBuf, &w.keys[i])
		if k := normalize.Kind(w.keyBuf[at]); k == normalize.Missing || k == normalize.Null {
			return 0, false
		}
	}
	return w.n.HashBytes(w.keyBuf), true
}

func (w *Worker) classify() int {
	w.epoch++
	if w.epoch == 0 { // wrapped: forget every cached field
		clear(w.seen)
		w.epoch = 1
	}
	return w.r.Rules.Eval(w)
}

// Explain normalizes and classifies one record like Add and returns the
// normalized JSON (appended to dst) with the event.
func (w *Worker) Explain(dst []byte, meta *pipeline.Meta, obj *fastjson.Value, text []byte, m *normalize.EventMeta) ([]byte, pipeline.Event, error) {
	if err := w.n.Build(obj, text, meta, m); err != nil {
		return dst, pipeline.Event{}, err
	}
	idx := w.classify()
	key, keyed := w.key()
	dst, ev := w.n.AppendTo(dst)
	ev.Rule = int32(idx)
	ev.Priority = w.r.Rules.Priority(idx)
	ev.Key = ev.Hash
	if keyed {
		ev.Key = key
	}
	return dst, ev, nil
}
