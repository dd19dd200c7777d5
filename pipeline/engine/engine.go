// Package engine runs the spine: it hands pooled normalize/classify workers to
// sources, splits each finished batch into one lane per destination, writes
// the lanes concurrently and fires the batch's Ack when every lane is done.
package engine

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/internal/jsonscan"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/dedup"
	"github.com/logrouter/logrouter/pipeline/route"
)

// Config bounds the engine.
type Config struct {
	// MaxInflightBatches bounds batches being delivered at once (memory
	// bound); Emit blocks when it is reached. Default 256.
	MaxInflightBatches int `yaml:"max_inflight_batches"`
	// WriteTimeout bounds one sink Write. Default 30s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.MaxInflightBatches < 0 {
		return fmt.Errorf("engine.max_inflight_batches: must be positive")
	}
	if c.WriteTimeout < 0 {
		return fmt.Errorf("engine.write_timeout: must be positive")
	}
	return nil
}

// Engine is safe for concurrent use by many sources.
type Engine struct {
	router     *route.Router // the first: its Table is every generation's
	gen        atomic.Pointer[generation]
	sinks      []pipeline.Sink
	quarantine pipeline.Quarantine
	m          *Metrics
	log        *slog.Logger
	cfg        Config

	jobs    sync.Pool
	sem     chan struct{}
	wg      sync.WaitGroup
	closed  atomic.Bool
	closeMu sync.RWMutex // Close sets closed under it; emit checks it and joins wg under it
	base    context.Context
	cancel  context.CancelFunc

	dedup      [pipeline.NumPriorities]*dedup.Set // all the same Set for scope global; nil when off for that priority
	dedupSets  []*dedup.Set                       // the distinct sets of dedup
	dedupSetOf [pipeline.NumPriorities]int8       // index in dedupSets of each priority's set, -1 for none
	dedupOn    bool
	dedupAll   bool                          // every priority is deduplicated (distinctRepeats has nothing to do)
	dedupCtr   map[string]prometheus.Counter // by source type (bounded)
	dedupMu    sync.Mutex
	reachAt    atomic.Int64 // when the dedup reach gauge was last set (unix ns)
	// countPath is dedup.count_field when it is on, else nil.
	countPath jsonscan.Path
	now       func() time.Time
	// rules holds the counters of every rule name ever loaded, index =
	// Event.Rule + 1 (0: the default priority); it only grows (Reload).
	rules atomic.Pointer[[]ruleCounters]
	// ruleErrLogged is when a rule's failure was last logged (unix ns).
	ruleErrLogged atomic.Int64
	rulesMu       sync.Mutex // Reload's
	ruleIDs       map[string]int32
	prioCtr       [pipeline.NumPriorities]prometheus.Counter
	prioBytes     [pipeline.NumPriorities]prometheus.Counter
	destOK        []prometheus.Counter
	destFail      []prometheus.Counter
	admit         []pipeline.Admitter // nil where the sink cannot refuse up front
	full          []pipeline.FullReporter
	holder        []pipeline.Holder // nil where the sink cannot take a batch on hold
	unrouted      bool              // some priority goes to no destination
	unroutedCtr   prometheus.Counter
	destB         []prometheus.Counter
	destLat       []prometheus.Observer
}

// generation is a rule set in use: its router and the workers built from it.
type generation struct {
	router  *route.Router
	workers sync.Pool
}

// ruleCounters are one rule's matches and bytes.
type ruleCounters struct{ events, bytes prometheus.Counter }

// New wires an engine. sinks[i] is the destination with id i in
// router.Table.Destinations.
func New(cfg Config, router *route.Router, sinks []pipeline.Sink, q pipeline.Quarantine, m *Metrics, log *slog.Logger) (*Engine, error) {
	if len(sinks) != len(router.Table.Destinations) {
		return nil, fmt.Errorf("engine: %d sinks for %d destinations", len(sinks), len(router.Table.Destinations))
	}
	if cfg.MaxInflightBatches == 0 {
		cfg.MaxInflightBatches = 256
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	e := &Engine{router: router, sinks: sinks, quarantine: q, m: m, log: log, cfg: cfg,
		sem: make(chan struct{}, cfg.MaxInflightBatches)}
	e.base, e.cancel = context.WithCancel(context.Background())
	e.now = time.Now
	e.jobs.New = func() any {
		return &job{e: e, views: make([]pipeline.Batch, len(sinks)), holds: make([]pipeline.Hold, len(sinks))}
	}
	rc := []ruleCounters{{m.RuleMatches.WithLabelValues("default"), m.RuleBytes.WithLabelValues("default")}}
	e.rules.Store(&rc)
	e.ruleIDs = map[string]int32{}
	e.install(router)
	for _, p := range pipeline.Priorities {
		e.prioCtr[p] = m.PriorityEvts.WithLabelValues(p.String())
		e.prioBytes[p] = m.PriorityBytes.WithLabelValues(p.String())
	}
	for _, p := range pipeline.Priorities {
		if len(router.Table.For(p)) == 0 {
			e.unrouted = true
			log.Warn("routing: events of this priority go to no destination; they are acknowledged and dropped, counted as logrouter_dropped_events_total{stage=\"route\",reason=\"no_destination\"}: add a route for it or an \"all\" destination",
				"priority", p.String())
		}
	}
	e.unroutedCtr = m.Dropped.WithLabelValues("route", "no_destination")
	for i, d := range router.Table.Destinations {
		a, _ := sinks[i].(pipeline.Admitter)
		e.admit = append(e.admit, a)
		if f, ok := sinks[i].(pipeline.FullReporter); ok {
			e.full = append(e.full, f)
		}
		h, _ := sinks[i].(pipeline.Holder)
		e.holder = append(e.holder, h)
		e.destOK = append(e.destOK, m.DestEvents.WithLabelValues(d, "accepted"))
		e.destFail = append(e.destFail, m.DestEvents.WithLabelValues(d, "refused"))
		e.destB = append(e.destB, m.DestBytes.WithLabelValues(d))
		e.destLat = append(e.destLat, m.DestLatency.WithLabelValues(d))
	}
	return e, nil
}

// QueuesFull reports whether a destination's queue refused a batch for
// want of room in the last few seconds (pipeline.FullReporter): the
// router is refusing input now (HEC's health endpoint answers 503).
func (e *Engine) QueuesFull() bool {
	for _, f := range e.full {
		if f.Full() {
			return true
		}
	}
	return false
}

// EnableDedup turns deduplication on (call before the first Emit).
func (e *Engine) EnableDedup(cfg dedup.Config) {
	if !cfg.Enabled {
		return
	}
	newSet := dedup.New
	if cfg.CountField != "" {
		newSet = dedup.NewCounting
		e.countPath = jsonscan.NewPath(strings.Split(cfg.CountField, ".")...)
	}
	covered := 0
	for _, p := range pipeline.Priorities {
		if cfg.Covers(p) {
			covered++
		}
	}
	var shared *dedup.Set
	for _, p := range pipeline.Priorities {
		switch {
		case !cfg.Covers(p):
			// nil: neither dropped nor remembered
		case cfg.Scope == "priority":
			e.dedup[p] = newSet(cfg.Window, cfg.MaxBytes/int64(covered))
		default:
			if shared == nil {
				shared = newSet(cfg.Window, cfg.MaxBytes)
			}
			e.dedup[p] = shared
		}
	}
	e.dedup[pipeline.PriorityNone] = e.dedup[pipeline.P3]
	for p, s := range e.dedup {
		e.dedupSetOf[p] = -1
		if s == nil {
			continue
		}
		if !slices.Contains(e.dedupSets, s) {
			e.dedupSets = append(e.dedupSets, s)
		}
		e.dedupSetOf[p] = int8(slices.Index(e.dedupSets, s))
	}
	e.dedupOn = true
	e.dedupAll = e.dedup[pipeline.P1] != nil && e.dedup[pipeline.P2] != nil && e.dedup[pipeline.P3] != nil && e.dedup[pipeline.PriorityNone] != nil
	e.dedupCtr = map[string]prometheus.Counter{}
}

// removeDuplicates drops events accepted before within the dedup window
// from b (in place) and counts them; they count as accepted: the sender is
// acknowledged and the first copy was delivered. Keys are recorded only when
// a batch is accepted (rememberKeys), so a refused batch that its sender
// sends again is not dropped as a duplicate of itself.
func (e *Engine) rememberKeys(b *pipeline.Batch) {
	if !e.dedupOn {
		return
	}
	now := e.now()
	ks := batchKeys.Get().(*keySet)
	for _, s := range e.dedupSets {
		ks.keys, ks.repeats = ks.keys[:0], ks.repeats[:0]
		for i := range b.Events {
			if e.dedup[b.Events[i].Priority] == s {
				ks.keys = append(ks.keys, b.Events[i].Key)
				// With count_field the kept copy carries its batch's
				// repeats itself (removeDuplicates): none to carry on.
				var r uint32
				if e.countPath == nil {
					r = b.Events[i].DedupRepeats
				}
				ks.repeats = append(ks.repeats, r)
			}
		}
		s.AddMany(ks.keys, now, ks.repeats)
	}
	batchKeys.Put(ks)
	// The repeats removeDuplicates dropped, now that they are dropped for
	// good (Batch.AddDedupCount).
	for _, d := range b.DedupCounts() {
		e.dedupSets[d.Set].AddRepeats(d.Key, now, d.N)
	}
	// The reach gauge, at most once a second (it locks every shard).
	if last := e.reachAt.Load(); now.UnixNano()-last >= int64(time.Second) && e.reachAt.CompareAndSwap(last, now.UnixNano()) {
		// With scope priority, the least of the sets that hold keys.
		var reach time.Duration
		var last *dedup.Set
		for _, p := range pipeline.Priorities {
			s := e.dedup[p]
			if s == nil || s == last {
				continue // not deduplicated, or scope global: one set
			}
			last = s
			if r := s.Reach(now); r > 0 && (reach == 0 || r < reach) {
				reach = r
			}
		}
		e.m.DedupReach.Set(reach.Seconds())
	}
}

func (e *Engine) removeDuplicates(b *pipeline.Batch) {
	if !e.dedupOn || len(b.Events) == 0 {
		return
	}
	now := e.now()
	kept := b.Events[:0]
	dups := 0
	var lastST string
	run, runBytes := 0, 0
	flush := func() {
		if run > 0 {
			b.AddRemoved(lastST, run, runBytes)
			run, runBytes = 0, 0
		}
	}
	inBatch := batchKeys.Get().(*keySet)
	defer batchKeys.Put(inBatch)
	inBatch.reset(len(b.Events))
	inBatch.lookup(e, b, now)
	for i, ev := range b.Events {
		if e.dedup[ev.Priority] == nil { // a priority not deduplicated
			kept = append(kept, ev)
			continue
		}
		dup, dropped := inBatch.dup[i], inBatch.dropped[i]
		if !dup {
			first, isNew := inBatch.add(ev.Key, e.dedupSetOf[ev.Priority], int32(len(kept)))
			if isNew {
				// DedupRepeats stays: a batch refused and emitted again
				// (syslog, Kafka) lost its repeats in the first pass but
				// still carries their count.
				kept = append(kept, ev)
				if e.countPath != nil {
					inBatch.carried[len(kept)-1] = dropped
				}
				continue
			}
			// A repeat within the batch: Lookup never saw it, so the set
			// learns it with the first copy (rememberKeys).
			kept[first].DedupRepeats++
		} else {
			// A duplicate of a key the set holds (from an accepted batch):
			// counted into the set's count when the batch is accepted
			// (rememberKeys), with the repeats it carries from an earlier
			// pass of its batch (refused, emitted again), or count_field
			// would report fewer copies than the engine counted as dropped.
			b.AddDedupCount(e.dedupSetOf[ev.Priority], ev.Key, 1+ev.DedupRepeats)
		}
		dups++
		if ev.SourceType != lastST {
			flush()
			lastST = ev.SourceType
		}
		run++
		runBytes += len(ev.Raw)
	}
	flush()
	if e.countPath != nil {
		// A kept copy carries, with the count of earlier windows, the
		// repeats dropped from its own batch: known now, they are written
		// now. Left to the next copy after the window, a one-off burst
		// (ten identical failed logins in one request, then none) never
		// delivered its count. rememberKeys then leaves them out of the
		// set's count, or the next copy would report them again; an event
		// that is dropped instead (its batch refused, emitted again, and
		// a repeat by then) hands them to the set (AddDedupCount above).
		// A batch emitted again has the field its first pass wrote set to
		// this pass's count where that is larger (appendCount): the kept
		// copy may since carry a window's repeats as well.
		for j := range kept {
			if n := inBatch.carried[j] + kept[j].DedupRepeats; n > 0 {
				b.Rewrite(j, func(arena, old []byte) []byte { return e.appendCount(arena, old, n) })
			}
		}
	}
	if dups == 0 {
		return
	}
	clear(b.Events[len(kept):])
	b.Events = kept
}

// countRemoved counts the repeats deduplication removed from b (AddRemoved)
// as deduplicated, once b is accepted.
func (e *Engine) countRemoved(b *pipeline.Batch) {
	n := b.RemovedEvents()
	if n == 0 {
		return
	}
	e.m.InputDedup.WithLabelValues(b.Meta.Input).Add(float64(n))
	for _, r := range b.TakeRemoved() {
		e.dedupCounter(r.SourceType).Add(float64(r.Events))
		e.m.DedupBytes.Add(float64(r.Bytes))
	}
}

// distinctRepeats gives each further copy of an event in b that is kept
// (its priority not deduplicated) a Hash of its own: the first copy's
// mixed with the copy's number in the batch. Hash is the OpenSearch _id:
// five identical lines in one syslog flush or request (an ASA under a
// password spray, second-resolution timestamps) were one document, the
// other four answered 409 and counted delivered, while the SIEM and the
// archive had five. The numbering depends only on the batch, so a sender's
// resend of a refused request gets the same ids again. Key, the dedup and
// Kafka partition key, stays the content's.
func (e *Engine) distinctRepeats(b *pipeline.Batch) {
	if len(b.Events) < 2 || e.dedupAll {
		return
	}
	ks := batchKeys.Get().(*keySet)
	defer batchKeys.Put(ks)
	ks.reset(len(b.Events))
	for i := range b.Events {
		ev := &b.Events[i]
		if e.dedupOn && e.dedup[ev.Priority] != nil {
			continue // deduplicated: no repeat is left
		}
		first, isNew := ks.add(ev.Hash, 0, int32(i))
		if isNew {
			continue
		}
		ks.carried[first]++
		ev.Hash = repeatHash(ev.Hash, ks.carried[first])
	}
}

// repeatHash is the Hash of the k-th further copy of an event with hash h
// in one batch (splitmix64 of h and k).
func repeatHash(h uint64, k uint32) uint64 {
	z := h + uint64(k)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// appendCount appends old with the dedup count field set to n (see
// jsonscan.Path.AppendWith): inside the event's own objects where the path
// begins with them, so "dedup":{"id":1} becomes "dedup":{"id":1,"count":n}
// rather than getting a second "dedup" member.
//
// An event that already carries the field (a refused batch that its source
// emits again: the first attempt rewrote it, and the set still holds the
// count because the batch's keys were not recorded) has it raised to n,
// never lowered: this pass's n counts what the first did and what the set
// took since (a window's repeats dropped from later batches). The field's
// path must not occur in events (dedup.Config.CountField), so it can only
// be ours.
func (e *Engine) appendCount(dst, old []byte, n uint32) []byte {
	return e.countPath.AppendWith(dst, old, uint64(n))
}

// keySet finds repeats within one batch (the dedup set only learns a key
// once its batch is accepted). Pooled; open addressing over (key, dedup
// set) pairs, sized for the batch: with scope global every priority shares
// one set, so a P2 and a P3 copy of a key are repeats, as they are across
// batches.
type keySet struct {
	slots []uint64
	set   []int8  // the dedup set (index in Engine.dedupSets) of the key
	first []int32 // the index of the key's first copy among the kept events

	// The dedup sets' answers for the batch's events (lookup), and
	// scratch for one set's keys.
	dup     []bool
	dropped []uint32
	carried []uint32 // count_field: the set's count for each kept event, by kept index
	keys    []uint64
	repeats []uint32
	idx     []int32
	sdup    []bool
	sdrop   []uint32
}

// lookup sets k.dup[i] and k.dropped[i] to event i's answer from its
// priority's set (false and 0 where none), asking each set once for all its
// events (dedup.Set.LookupMany).
func (k *keySet) lookup(e *Engine, b *pipeline.Batch, now time.Time) {
	n := len(b.Events)
	k.dup, k.dropped = grow(k.dup, n), grow(k.dropped, n)
	clear(k.dup)
	clear(k.dropped)
	for _, s := range e.dedupSets {
		k.keys, k.idx = k.keys[:0], k.idx[:0]
		for i := range b.Events {
			if e.dedup[b.Events[i].Priority] == s {
				k.keys = append(k.keys, b.Events[i].Key)
				k.idx = append(k.idx, int32(i))
			}
		}
		k.sdup, k.sdrop = grow(k.sdup, len(k.keys)), grow(k.sdrop, len(k.keys))
		s.PeekMany(k.keys, now, k.sdup, k.sdrop)
		for j, i := range k.idx {
			k.dup[i], k.dropped[i] = k.sdup[j], k.sdrop[j]
		}
	}
}

// grow returns s with length n, reusing its array when it is large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

var batchKeys = sync.Pool{New: func() any { return new(keySet) }}

func (k *keySet) reset(n int) {
	size := 16
	for size < 2*n {
		size *= 2
	}
	if cap(k.slots) < size {
		k.slots, k.set, k.first = make([]uint64, size), make([]int8, size), make([]int32, size)
	}
	k.slots, k.set, k.first = k.slots[:size], k.set[:size], k.first[:size]
	clear(k.slots)
	k.carried = grow(k.carried, n)
	clear(k.carried)
}

// add reports whether (h, set) was new, recording idx as its first copy's;
// for a repeat it returns the first copy's idx. Key 0 is stored as 1.
func (k *keySet) add(h uint64, set int8, idx int32) (first int32, isNew bool) {
	if h == 0 {
		h = 1
	}
	mask := uint64(len(k.slots) - 1)
	for i := (h * 0x9e3779b97f4a7c15 >> 32) & mask; ; i = (i + 1) & mask {
		switch k.slots[i] {
		case 0:
			k.slots[i], k.set[i], k.first[i] = h, set, idx
			return idx, true
		case h:
			if k.set[i] == set {
				return k.first[i], false
			}
		}
	}
}

func (e *Engine) dedupCounter(st string) prometheus.Counter {
	if len(st) > maxLabelBytes {
		// The cache is keyed by the label, not the source type: 1000 source
		// types of up to max_event_bytes each were a gigabyte kept for the
		// life of the engine.
		st = boundLabel(st)
	}
	e.dedupMu.Lock()
	defer e.dedupMu.Unlock()
	c, ok := e.dedupCtr[st]
	if !ok {
		// Source types come from senders (HEC sourcetype, _bulk _index):
		// past 1000 of them, neither the label set nor this cache grows.
		if len(e.dedupCtr) >= maxDedupSourceTypes {
			return e.m.DedupSource.WithLabelValues("other")
		}
		c = e.m.DedupSource.WithLabelValues(boundLabel(st))
		e.dedupCtr[st] = c
	}
	return c
}

// boundLabel cuts a sender's value used as a metric label to
// maxLabelBytes, keeping distinct values apart with a hash of the whole.
// The result is valid UTF-8 (Prometheus refuses, with a panic, a label
// value that is not).
func boundLabel(s string) string {
	if len(s) <= maxLabelBytes && utf8.ValidString(s) {
		return s
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	// A rune cut in two, or any other invalid byte, becomes U+FFFD.
	cut := strings.ToValidUTF8(s[:min(len(s), maxLabelBytes-9)], "\uFFFD")
	return fmt.Sprintf("%s~%08x", cut, h.Sum32())
}

// maxLabelBytes bounds a label value taken from events (a source type
// may be as long as max_event_bytes).
const maxLabelBytes = 128

// maxDedupSourceTypes bounds the source types counted apart in
// logrouter_dedup_suppressed_events_total; the rest count as "other".
const maxDedupSourceTypes = 1000

// Router returns the engine's router (the rules of the last Reload).
func (e *Engine) Router() *route.Router { return e.gen.Load().router }

// Reload makes r's normalization and rules classify every batch built from
// now on (route.Router.Norm, Rules; r.Table must route to the same
// destinations: the engine keeps its own, and refuses an r whose differs).
// Batches being built with a worker of the rules before finish with them;
// sources move to the new rules at their next batch (Refresh). Rule match
// counters continue by rule name.
func (e *Engine) Reload(r *route.Router) error {
	if r.Table != nil && !slices.Equal(r.Table.Destinations, e.router.Table.Destinations) {
		return fmt.Errorf("engine: reload routes to %v, not the running %v: destinations change only with a restart", r.Table.Destinations, e.router.Table.Destinations)
	}
	nr := *r
	nr.Table = e.router.Table
	e.install(&nr)
	return nil
}

// install numbers r's rules (by name, across reloads) and makes r the
// current generation. r is owned by the engine from now on.
func (e *Engine) install(r *route.Router) {
	e.rulesMu.Lock()
	defer e.rulesMu.Unlock()
	rc := *e.rules.Load()
	grown := false
	ids := make([]int32, len(r.Rules.Rules))
	for i, rule := range r.Rules.Rules {
		id, ok := e.ruleIDs[rule.Name]
		if !ok {
			if !grown {
				rc = slices.Clone(rc) // readers may hold the old slice
				grown = true
			}
			id = int32(len(rc) - 1)
			e.ruleIDs[rule.Name] = id
			rc = append(rc, ruleCounters{e.m.RuleMatches.WithLabelValues(rule.Name), e.m.RuleBytes.WithLabelValues(rule.Name)})
		}
		ids[i] = id
	}
	if grown {
		e.rules.Store(&rc)
	}
	r.RuleIDs = ids
	errs := make([]prometheus.Counter, len(r.Rules.Rules))
	for i, rule := range r.Rules.Rules {
		errs[i] = e.m.RuleErrors.WithLabelValues(rule.Name)
	}
	set := r.Rules
	set.OnError = func(i int, err error) {
		errs[i].Inc()
		// At most one line every 10 s: a rule failing on every event
		// would otherwise log at the event rate.
		now := time.Now().UnixNano()
		if last := e.ruleErrLogged.Load(); now-last >= int64(10*time.Second) && e.ruleErrLogged.CompareAndSwap(last, now) {
			e.log.Warn("a rule failed on an event and counted as not matching (the event may have gone to a lower priority); fix the rule, e.g. guard a field that may be missing: field != nil and lower(field) == ...",
				"rule", set.Rules[i].Name, "err", err, "metric", "logrouter_rule_errors_total")
		}
	}
	g := &generation{router: r}
	g.workers.New = func() any { return r.NewWorker() }
	e.gen.Store(g) // after the counters: a worker of g never writes an id they lack
}

// Metrics returns the engine's metrics.
func (e *Engine) Metrics() *Metrics { return e.m }

// Worker returns a pooled worker for normalizing and classifying events into
// a batch. Return it with PutWorker before the goroutine parses anything that
// outlives the batch.
func (e *Engine) Worker() *route.Worker { return e.gen.Load().workers.Get().(*route.Worker) }

// PutWorker returns w to the pool (a worker of rules replaced since is
// dropped).
func (e *Engine) PutWorker(w *route.Worker) {
	if g := e.gen.Load(); w.Router() == g.router {
		g.workers.Put(w)
	}
}

// Refresh returns w, or a worker of the current rules in its place if they
// were reloaded since w was taken. Sources that keep a worker across
// batches (a syslog connection, a Kafka partition) call it between batches,
// never while a batch is being built with w.
func (e *Engine) Refresh(w *route.Worker) *route.Worker {
	if w.Router() == e.gen.Load().router {
		return w
	}
	return e.Worker()
}

// Quarantine stores rejected records and counts them by input and reason. It
// returns nil once they are stored.
func (e *Engine) Quarantine(ctx context.Context, recs []pipeline.Rejected) error {
	if len(recs) == 0 {
		return nil
	}
	if err := e.quarantine.Put(ctx, recs); err != nil {
		// Not a drop yet: the caller answers with an error so the sender retries.
		e.log.Error("quarantine write failed", "records", len(recs), "err", err)
		return fmt.Errorf("quarantine: %w", err)
	}
	for i := range recs {
		e.m.Quarantined.WithLabelValues(recs[i].Input, recs[i].Reason).Inc()
	}
	return nil
}

// Refuse counts n records of input that were received and refused before
// any reached Emit: an HTTP request answered with an error because its
// rejected records could not be quarantined (the sender resends them all).
// They count as received and refused, as the events of a batch whose Ack
// failed, so that the ledger and logrouter_input_refused_events_total show
// the refusal.
func (e *Engine) Refuse(input string, n int) {
	if n > 0 {
		e.m.InputEvents.WithLabelValues(input).Add(float64(n))
		e.m.InputRefused.WithLabelValues(input).Add(float64(n))
	}
}

// ErrShuttingDown is returned by Emit after Close started.
var ErrShuttingDown = errors.New("logrouter is shutting down")

// errNoCapacity: Emit's context ended while it waited for delivery
// capacity.
var errNoCapacity = errors.New("waiting for delivery capacity")

// NotCounted reports whether err, a batch's Ack error, says Emit turned
// the batch away before it counted it as input (the engine closing, no
// delivery capacity in time). A source that then gives the batch up
// (syslog at its shutdown deadline, UDP) counts it with Refuse, so that
// the input's ledger row has what it received.
func NotCounted(err error) bool {
	return errors.Is(err, ErrShuttingDown) || errors.Is(err, errNoCapacity)
}

type job struct {
	e     *Engine
	b     *pipeline.Batch
	lanes route.Lanes
	views []pipeline.Batch
	holds []pipeline.Hold // per lane written on hold (pipeline.Holder), until finish
	start time.Time
}

// Emit delivers b: it counts the batch, drops duplicates (when dedup is on;
// they are removed from b.Events in place), splits it per destination and writes
// every non-empty lane concurrently. It returns once the writes are started
// (it blocks while max_inflight_batches are in flight). Whatever happens,
// b.Ack fires exactly once, after every lane finished, with the first error;
// the caller keeps ownership of b and may Release it after that.
func (e *Engine) Emit(ctx context.Context, b *pipeline.Batch) error {
	return e.emit(ctx, b, -1)
}

// EmitTo is Emit for one destination only, whatever the events' priorities
// (quarantine replay into the destination that refused them).
func (e *Engine) EmitTo(ctx context.Context, b *pipeline.Batch, destination string) error {
	for i, d := range e.router.Table.Destinations {
		if d == destination {
			return e.emit(ctx, b, i)
		}
	}
	err := fmt.Errorf("unknown destination %q (configured: %v)", destination, e.router.Table.Destinations)
	b.Ack.Done(err)
	return err
}

func (e *Engine) emit(ctx context.Context, b *pipeline.Batch, only int) error {
	// Read once: after the Ack fires the source may release b. The wrapper
	// counts events the sender will have to resend, or the repeats
	// deduplication removed as deduplicated once b is accepted.
	//
	// Input and refused count the batch whole: its events and the repeats
	// an earlier pass removed from it (a batch its source emits again:
	// syslog, Kafka; b.RemovedEvents). Repeats count as deduplicated only
	// when the batch is accepted: a refused one was not acknowledged, its
	// repeats included, and its sender resends them (HTTP sends a new copy
	// of the request; syslog and Kafka emit this batch again, which carries
	// them). So input - refused = deduplicated + delivered, and a repeat is
	// deduplicated once however often its batch was refused.
	//
	// A batch turned away before it is counted (the engine closing, no
	// delivery capacity in time) counts neither as input nor as refused.
	ack := b.Ack
	kept := len(b.Events) + b.RemovedEvents()
	if e.closed.Load() {
		ack.Done(ErrShuttingDown)
		return ErrShuttingDown
	}
	// A free slot is taken even when ctx has ended: an input's last
	// batches at its shutdown deadline (messages already read, which a
	// syslog sender will not send again) go on while the engine is open.
	// (A select would pick between a free slot and a done ctx at random.)
	select {
	case e.sem <- struct{}{}:
	default:
		select {
		case e.sem <- struct{}{}:
		case <-ctx.Done():
			err := fmt.Errorf("%w: %w", errNoCapacity, ctx.Err())
			ack.Done(err)
			return err
		}
	}
	// Close may have begun while this Emit waited for a slot: check again,
	// under the lock Close takes to set closed, so that every batch that
	// goes on is in wg before Close waits for it.
	e.closeMu.RLock()
	if e.closed.Load() {
		e.closeMu.RUnlock()
		<-e.sem
		ack.Done(ErrShuttingDown)
		return ErrShuttingDown
	}
	e.wg.Add(1)
	e.closeMu.RUnlock()
	e.m.InflightBatch.Inc()
	e.count(b)
	if kept > 0 {
		refused := e.m.InputRefused.WithLabelValues(b.Meta.Input)
		inner := ack
		ack = pipeline.NewAck(func(err error) {
			if err != nil {
				refused.Add(float64(kept))
			} else {
				e.countRemoved(b)
			}
			inner.Done(err)
		})
	}
	if only < 0 {
		e.removeDuplicates(b)
		e.distinctRepeats(b)
	}

	j := e.jobs.Get().(*job)
	j.b = b
	j.start = time.Now()
	if only < 0 {
		e.router.Table.Split(b, &j.lanes)
	} else {
		if len(j.lanes.Events) != len(e.sinks) {
			j.lanes.Events = make([][]pipeline.Event, len(e.sinks))
		}
		for i := range j.lanes.Events {
			j.lanes.Events[i] = j.lanes.Events[i][:0]
		}
		j.lanes.Events[only] = append(j.lanes.Events[only], b.Events...)
	}
	lanes := 0
	for _, l := range j.lanes.Events {
		if len(l) > 0 {
			lanes++
		}
	}
	// Unrouted events are dropped, and counted, only once the batch is
	// accepted: a refused batch is sent again, whole.
	unrouted := only < 0 && e.unrouted
	if lanes == 0 {
		e.rememberKeys(b)
		if unrouted {
			e.countUnrouted(b)
		}
		e.recycle(j)
		ack.Done(nil)
		e.release()
		return nil
	}
	// Ask every lane that can refuse before any writes, so that a full queue
	// refuses the whole batch instead of duplicating it elsewhere on retry.
	for d, evs := range j.lanes.Events {
		if len(evs) == 0 || e.admit[d] == nil {
			continue
		}
		if err := e.admit[d].Admit(b.View(&j.views[d], evs)); err != nil {
			for d2 := 0; d2 < d; d2++ { // give back what the lanes before reserved
				if len(j.lanes.Events[d2]) > 0 && e.admit[d2] != nil {
					e.admit[d2].Unadmit(&j.views[d2])
				}
			}
			for d2, evs2 := range j.lanes.Events {
				e.destFail[d2].Add(float64(len(evs2)))
			}
			e.recycle(j)
			ack.Done(err)
			e.release()
			return err
		}
	}
	// One reference per lane plus one for this loop, which reads j.lanes
	// until it has started every lane: whoever drops the last one recycles
	// the job (a lane that finished before the loop did must not hand j to
	// another Emit while the loop still reads it), then acknowledges.
	// On hold only when every lane can hold: a lane without a queue
	// delivers at once (its events cannot be withdrawn anyway), and may
	// take as long as its destination does, which a hold would make the
	// queued destinations wait for (their forwarders stop at a held record).
	hold := true
	for d, evs := range j.lanes.Events {
		if len(evs) > 0 && e.holder[d] == nil {
			hold = false
			break
		}
	}
	pending := new(atomic.Int32)
	pending.Store(int32(lanes) + 1)
	var mu sync.Mutex
	var firstErr error
	finish := func() {
		if pending.Add(-1) != 0 {
			return
		}
		// Lanes written on hold deliver the batch only if every lane took
		// it: a refused batch comes again, whole, and must not have been
		// delivered anywhere.
		for d, h := range j.holds {
			if h == nil {
				continue
			}
			n := len(j.lanes.Events[d])
			if firstErr == nil {
				h.Commit()
				e.destOK[d].Add(float64(n))
				e.destB[d].Add(float64(j.views[d].Bytes()))
			} else {
				h.Abort()
				e.destFail[d].Add(float64(n))
			}
			j.holds[d] = nil
		}
		if firstErr == nil {
			e.rememberKeys(b)
			if unrouted {
				e.countUnrouted(b)
			}
		}
		e.recycle(j)
		ack.Done(firstErr)
		e.release() // after the Ack, so Close returns only once every Ack fired
	}
	for d, evs := range j.lanes.Events {
		if len(evs) == 0 {
			continue
		}
		go func(d int, evs []pipeline.Event, hold bool) { // hold as an argument: captured, it would escape
			var err error
			j.holds[d], err = e.write(d, b.View(&j.views[d], evs), hold)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
			finish()
		}(d, evs, hold)
	}
	finish()
	return nil
}

// countUnrouted counts the events of b whose priority goes to no
// destination: they are acknowledged and dropped (New logs a warning).
func (e *Engine) countUnrouted(b *pipeline.Batch) {
	n := 0
	for i := range b.Events {
		if len(e.router.Table.For(b.Events[i].Priority)) == 0 {
			n++
		}
	}
	if n > 0 {
		e.unroutedCtr.Add(float64(n))
	}
}

// recycle returns a job to the pool once no lane uses it.
func (e *Engine) recycle(j *job) {
	j.b = nil
	for i := range j.views {
		j.views[i] = pipeline.Batch{}
	}
	e.jobs.Put(j)
}

// release frees the batch's in-flight slot.
func (e *Engine) release() {
	e.m.InflightBatch.Dec()
	<-e.sem
	e.wg.Done()
}

// write writes lane d, on hold when hold is set (every lane of the batch is
// a pipeline.Holder): the returned Hold, which the batch's last lane
// commits or aborts, counting it then.
func (e *Engine) write(d int, v *pipeline.Batch, hold bool) (pipeline.Hold, error) {
	ctx, cancel := context.WithTimeout(e.base, e.cfg.WriteTimeout)
	defer cancel()
	start := time.Now()
	var h pipeline.Hold
	var err error
	if hold {
		h, err = e.holder[d].WriteHeld(ctx, v)
	} else {
		err = e.sinks[d].Write(ctx, v)
	}
	e.destLat[d].Observe(time.Since(start).Seconds())
	if err != nil {
		e.destFail[d].Add(float64(len(v.Events)))
		e.log.Warn("destination write failed", "destination", e.sinks[d].Name(),
			"events", len(v.Events), "permanent", pipeline.IsPermanent(err), "err", err)
		return nil, fmt.Errorf("destination %s: %w", e.sinks[d].Name(), err)
	}
	if h == nil {
		e.destOK[d].Add(float64(len(v.Events)))
		e.destB[d].Add(float64(v.Bytes()))
	}
	return h, nil
}

// count updates per-input, per-rule and per-priority counters for a batch.
func (e *Engine) count(b *pipeline.Batch) {
	if len(b.Events) == 0 {
		return
	}
	// The repeats an earlier pass removed are this pass's input too (see
	// emit): its refusal counts them refused.
	e.m.InputEvents.WithLabelValues(b.Meta.Input).Add(float64(len(b.Events) + b.RemovedEvents()))
	e.m.InputNormBytes.WithLabelValues(b.Meta.Input).Add(float64(b.Bytes() + b.RemovedBytes()))
	var prio, prioB [pipeline.NumPriorities]int
	// Most batches hit few rules: count runs of the same rule. Events
	// replayed as written were classified when they came in: they count
	// for their priority, not again for a rule (their Rule is -1, which
	// would read as "no rule matched").
	rc := *e.rules.Load()
	run, runB, runRule := 0, 0, b.Events[0].Rule
	for i := range b.Events {
		ev := &b.Events[i]
		prio[ev.Priority]++
		prioB[ev.Priority] += len(ev.Raw)
		if ev.Replayed {
			continue
		}
		if ev.Rule != runRule {
			rc[runRule+1].events.Add(float64(run))
			rc[runRule+1].bytes.Add(float64(runB))
			run, runB, runRule = 0, 0, ev.Rule
		}
		run++
		runB += len(ev.Raw)
	}
	rc[runRule+1].events.Add(float64(run))
	rc[runRule+1].bytes.Add(float64(runB))
	for _, p := range pipeline.Priorities {
		if prio[p] > 0 {
			e.prioCtr[p].Add(float64(prio[p]))
			e.prioBytes[p].Add(float64(prioB[p]))
		}
	}
}

// Close stops accepting batches, waits for in-flight ones (bounded by ctx),
// then closes every sink and the quarantine. It is idempotent.
func (e *Engine) Close(ctx context.Context) error {
	e.closeMu.Lock()
	already := e.closed.Swap(true)
	e.closeMu.Unlock()
	if already {
		return nil
	}
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	var errs []error
	select {
	case <-done:
	case <-ctx.Done():
		e.cancel() // abort sink writes still running
		<-done
		errs = append(errs, fmt.Errorf("in-flight batches did not finish before the shutdown deadline: %w", ctx.Err()))
	}
	e.cancel()
	// The destinations drain side by side: one after another, a
	// destination that is down took the whole deadline and the ones
	// after it were cancelled before delivering anything.
	closeErrs := make([]error, len(e.sinks))
	var wg sync.WaitGroup
	for i, s := range e.sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Close(ctx); err != nil {
				closeErrs[i] = fmt.Errorf("close destination %s: %w", s.Name(), err)
			}
		}()
	}
	wg.Wait()
	for _, err := range closeErrs {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if e.quarantine != nil {
		if err := e.quarantine.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close quarantine: %w", err))
		}
	}
	return errors.Join(errs...)
}
