package opensearch

import (
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// OverflowSourceType is the {source_type} of the index name of events whose
// source type came after the max_index_source_types distinct ones the sink
// already names indices after.
const OverflowSourceType = "other"

// overflowWarnEvery is how often a source type over max_index_source_types
// is logged at most.
const overflowWarnEvery = time.Second

// maxWarnedTypes bounds the overflowed source types remembered so that each
// is logged once; past it, they are logged (rate-limited) without
// remembering.
const maxWarnedTypes = 1024

// namer decides the index of each event for one sink: the index template,
// the clamp of the date in the name and the cap on distinct source types.
type namer struct {
	t *indexTemplate
	// maxAge and maxFuture (nanoseconds) bound how far an event's time may
	// be before or after its ingest time and still give the date of its
	// index name.
	maxAge, maxFuture int64
	// types caps the distinct source types in names; nil without
	// {source_type} in the template.
	types *sourceTypes
}

// newNamer returns the namer of cfg (with defaults applied) for template t.
// gauge (may be nil) is set to the number of source types with their own
// name.
func newNamer(cfg Config, t *indexTemplate, log *slog.Logger, gauge prometheus.Gauge) *namer {
	n := &namer{t: t, maxAge: int64(cfg.IndexDateMaxAge), maxFuture: int64(cfg.IndexDateMaxFuture)}
	if t.hasSource {
		n.types = &sourceTypes{limit: cfg.MaxIndexSourceTypes, admitted: map[string]struct{}{},
			warned: map[string]struct{}{}, log: log, gauge: gauge}
		if gauge != nil {
			gauge.Set(0)
		}
	}
	return n
}

// indexTime returns the time whose date goes into the index name of an
// event of time ns ingested at ref (both unix nanoseconds): ns itself, or
// ref when ns is more than maxAge before or maxFuture after ref (then
// clamped is true).
func (n *namer) indexTime(ns, ref int64) (t int64, clamped bool) {
	lo, hi := ref-n.maxAge, ref+n.maxFuture
	if lo > ref { // overflow
		lo = math.MinInt64
	}
	if hi < ref {
		hi = math.MaxInt64
	}
	if ns < lo || ns > hi {
		return ref, true
	}
	return ns, false
}

// sourceTypes is the set of (sanitized) source types a sink names indices
// after: the first limit distinct ones it sees, for the process's lifetime.
type sourceTypes struct {
	limit int
	log   *slog.Logger
	gauge prometheus.Gauge

	mu       sync.RWMutex
	admitted map[string]struct{} // at most limit
	warned   map[string]struct{} // overflowed types already logged, at most maxWarnedTypes

	lastWarn  atomic.Int64 // unix nanoseconds of the last overflow log line
	notLogged atomic.Int64
}

// admit reports whether the sanitized source type name gets its own index
// name: it has one already, or fewer than limit have. It allocates only the
// first time it sees a name (the string kept in the set).
func (s *sourceTypes) admit(name []byte) bool {
	s.mu.RLock()
	_, ok := s.admitted[string(name)]
	if !ok && len(s.admitted) >= s.limit {
		if _, w := s.warned[string(name)]; w {
			s.mu.RUnlock()
			return false
		}
	}
	s.mu.RUnlock()
	if ok {
		return true
	}
	s.mu.Lock()
	if _, ok := s.admitted[string(name)]; ok {
		s.mu.Unlock()
		return true
	}
	if len(s.admitted) < s.limit {
		s.admitted[string(name)] = struct{}{}
		k := len(s.admitted)
		s.mu.Unlock()
		if s.gauge != nil {
			s.gauge.Set(float64(k))
		}
		return true
	}
	if _, w := s.warned[string(name)]; w {
		s.mu.Unlock()
		return false
	}
	if len(s.warned) < maxWarnedTypes {
		s.warned[string(name)] = struct{}{}
	}
	s.mu.Unlock()
	s.warn(name)
	return false
}

// warn logs a source type newly over the cap, at most every
// overflowWarnEvery; the others are counted in the next line.
func (s *sourceTypes) warn(name []byte) {
	now := time.Now().UnixNano()
	last := s.lastWarn.Load()
	if now-last < int64(overflowWarnEvery) || !s.lastWarn.CompareAndSwap(last, now) {
		s.notLogged.Add(1)
		return
	}
	s.log.Warn(`OpenSearch index names: a new source type is over "max_index_source_types"; its events go to the index named with "`+OverflowSourceType+`" instead (counted in logrouter_opensearch_index_source_type_overflow_events_total). Raise max_index_source_types if this source type is legitimate; many of them mean a sender is inventing source types`,
		"source_type", string(name), "max_index_source_types", s.limit,
		"overflowed_types_not_logged", s.notLogged.Swap(0))
}
