package engine

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the engine's Prometheus series. Label values are resolved once
// per batch, never per event.
type Metrics struct {
	Registry *prometheus.Registry

	InputEvents    *prometheus.CounterVec // {input}
	InputBytes     *prometheus.CounterVec // {input}
	InputRefused   *prometheus.CounterVec // {input}
	InputNormBytes *prometheus.CounterVec // {input}
	InputDedup     *prometheus.CounterVec // {input}
	DedupSource    *prometheus.CounterVec // {source_type}
	DedupBytes     prometheus.Counter
	DedupReach     prometheus.Gauge
	Quarantined    *prometheus.CounterVec // {input, reason}
	Dropped        *prometheus.CounterVec // {stage, reason}
	RuleMatches    *prometheus.CounterVec // {rule}
	RuleBytes      *prometheus.CounterVec // {rule}
	RuleErrors     *prometheus.CounterVec // {rule}
	PriorityEvts   *prometheus.CounterVec // {priority}
	PriorityBytes  *prometheus.CounterVec // {priority}
	DestEvents     *prometheus.CounterVec // {destination, outcome}
	DestBytes      *prometheus.CounterVec // {destination}
	DestLatency    *prometheus.HistogramVec
	InflightBatch  prometheus.Gauge
	Requests       *prometheus.CounterVec // {input, protocol, code}
	TokenRequests  *prometheus.CounterVec // {input, token}: the configured tokens' names only
}

// NewMetrics registers the series on a new registry (plus Go and process
// collectors).
func NewMetrics() *Metrics {
	r := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	m := &Metrics{
		Registry: r,
		InputEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logrouter_input_events_total", Help: "Events accepted from an input and normalized."}, []string{"input"}),
		InputBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logrouter_input_bytes_total", Help: "Bytes received by an input (after decompression)."}, []string{"input"}),
		InputRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logrouter_input_refused_events_total", Help: "Events of an input that were not acknowledged (the sender was told to retry; not a drop)."}, []string{"input"}),
		InputNormBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logrouter_input_normalized_bytes_total", Help: "Bytes of an input's events after normalization (compare with logrouter_input_bytes_total: what renames, drops and empty-value removal saved)."}, []string{"input"}),
		InputDedup: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logrouter_input_deduplicated_events_total", Help: "Events of an input dropped as duplicates (accepted, not delivered again)."}, []string{"input"}),
		DedupSource: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logrouter_dedup_suppressed_events_total", Help: "Duplicate events suppressed, by source type."}, []string{"source_type"}),
		DedupBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "logrouter_dedup_suppressed_bytes_total", Help: "Normalized bytes of suppressed duplicates (what deduplication saved every destination)."}),
		DedupReach: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "logrouter_dedup_reach_seconds", Help: "How far back deduplication remembers (the age of the oldest keys it holds, up to dedup.window). Steadily below dedup.window, the memory budget is the limit: raise dedup.max_bytes."}),
		Quarantined: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logrouter_quarantined_events_total", Help: "Records rejected and written to quarantine, by reason."}, []string{"input", "reason"}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logrouter_dropped_events_total", Help: "Records dropped without delivery, by stage and reason."}, []string{"stage", "reason"}),
		RuleMatches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logrouter_rule_matches_total", Help: "Events classified by each rule (\"default\" when none matched)."}, []string{"rule"}),
		RuleBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logrouter_rule_bytes_total", Help: "Normalized bytes of the events each rule classified."}, []string{"rule"}),
		RuleErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logrouter_rule_errors_total", Help: "Events a rule failed on (evaluated on expr's VM with an error: lower() of a missing field, a type mismatch); the rule counted as not matching, so the event may have gone to a lower priority."}, []string{"rule"}),
		PriorityEvts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logrouter_priority_events_total", Help: "Events per priority."}, []string{"priority"}),
		PriorityBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logrouter_priority_bytes_total", Help: "Normalized bytes per priority."}, []string{"priority"}),
		DestEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logrouter_destination_events_total", Help: "Events routed to a destination, by outcome: accepted (its queue took them) or refused (the source was told to retry)."}, []string{"destination", "outcome"}),
		DestBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logrouter_destination_bytes_total", Help: "Normalized event bytes delivered to a destination."}, []string{"destination"}),
		DestLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "logrouter_destination_write_seconds", Help: "Time a destination took to accept a batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10)}, []string{"destination"}),
		InflightBatch: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "logrouter_inflight_batches", Help: "Batches being delivered right now."}),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logrouter_http_requests_total", Help: "HTTP ingest requests by protocol and status code."}, []string{"input", "protocol", "code"}),
		TokenRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logrouter_http_token_requests_total", Help: "HTTP requests authenticated with each configured token, by its name (what each sender sends)."}, []string{"input", "token"}),
	}
	f(m.InputEvents)
	f(m.InputBytes)
	f(m.InputRefused)
	f(m.InputNormBytes)
	f(m.InputDedup)
	f(m.DedupSource)
	f(m.DedupBytes)
	f(m.DedupReach)
	f(m.Quarantined)
	f(m.Dropped)
	f(m.RuleMatches)
	f(m.RuleBytes)
	f(m.RuleErrors)
	f(m.PriorityEvts)
	f(m.PriorityBytes)
	f(m.DestEvents)
	f(m.DestBytes)
	f(m.DestLatency)
	f(m.InflightBatch)
	f(m.Requests)
	f(m.TokenRequests)
	return m
}
