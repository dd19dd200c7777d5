package opensearch

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the OpenSearch destinations' series, labelled by destination.
// Every event given to Write is counted exactly once per Write, in one of
// the four item outcomes:
//
//	events written = indexed + conflict_as_delivered + retried + quarantined
//
// indexed and conflict_as_delivered are the events Write reported delivered
// (the queue's delivered count), retried those it reported retryable (the
// queue writes them again) and quarantined those it reported permanent (the
// queue's quarantined count for this destination).
type Metrics struct {
	// Indexed counts items OpenSearch answered 2xx.
	Indexed *prometheus.CounterVec // {destination}
	// ConflictAsDelivered counts create items answered 409
	// version_conflict_engine_exception: the document was already there
	// (a redelivery), so it counts as delivered.
	ConflictAsDelivered *prometheus.CounterVec // {destination}
	// Retried counts items reported retryable (429, 5xx, request errors).
	Retried *prometheus.CounterVec // {destination}
	// Quarantined counts items reported permanent (400, 404, other 4xx).
	Quarantined *prometheus.CounterVec // {destination}
	// Requests counts bulk requests by outcome: the HTTP status code, or
	// "error" when no response came back.
	Requests *prometheus.CounterVec // {destination, code}
	// RequestBytes counts the bytes of bulk request bodies sent (after
	// compression).
	RequestBytes *prometheus.CounterVec // {destination}
	// Splits counts bulk requests answered 413 and sent again in halves.
	Splits *prometheus.CounterVec // {destination}
	// TemplateReady is 1 once the bootstrap index template exists (0 while
	// bootstrap is retrying; absent when bootstrap is disabled).
	TemplateReady *prometheus.GaugeVec // {destination}
	// IndexDateClamped counts events indexed under their ingest time's
	// date because their own time was more than index_date_max_age before
	// or index_date_max_future after it (once per Write: a retried event
	// counts again).
	IndexDateClamped *prometheus.CounterVec // {destination}
	// IndexSourceTypeOverflow counts events indexed under the "other"
	// source type because theirs came after max_index_source_types others
	// (once per Write).
	IndexSourceTypeOverflow *prometheus.CounterVec // {destination}
	// IndexSourceTypes is the number of distinct source types the
	// destination names indices after (at most max_index_source_types;
	// absent when the index has no {source_type}).
	IndexSourceTypes *prometheus.GaugeVec // {destination}
}

// NewMetrics creates the series and registers them on r (nil: not
// registered, for tests).
func NewMetrics(r prometheus.Registerer) *Metrics {
	m := &Metrics{
		Indexed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_opensearch_indexed_events_total",
			Help: "Events OpenSearch indexed (bulk item status 2xx)."}, []string{"destination"}),
		ConflictAsDelivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_opensearch_conflict_as_delivered_events_total",
			Help: "Events answered 409 version_conflict_engine_exception to a create: already indexed by an earlier attempt, counted as delivered."}, []string{"destination"}),
		Retried: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_opensearch_retried_events_total",
			Help: "Events reported retryable to the queue (429, 5xx, request errors); the queue sends them again."}, []string{"destination"}),
		Quarantined: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_opensearch_quarantined_events_total",
			Help: "Events OpenSearch refused permanently (400, 404, other 4xx); the queue puts them in quarantine."}, []string{"destination"}),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_opensearch_bulk_requests_total",
			Help: "Bulk requests by HTTP status code (\"error\": no response)."}, []string{"destination", "code"}),
		RequestBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_opensearch_bulk_request_bytes_total",
			Help: "Bytes of bulk request bodies sent, after compression."}, []string{"destination"}),
		Splits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_opensearch_bulk_splits_total",
			Help: "Bulk requests answered 413 (too large) and sent again in halves."}, []string{"destination"}),
		TemplateReady: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logrouter_opensearch_template_ready",
			Help: "1 once the bootstrap index template exists, 0 while bootstrap retries."}, []string{"destination"}),
		IndexDateClamped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_opensearch_index_date_clamped_events_total",
			Help: "Events whose index name took their ingest date: their time was outside index_date_max_age/index_date_max_future of it (counted per write attempt: a retried event counts again)."}, []string{"destination"}),
		IndexSourceTypeOverflow: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_opensearch_index_source_type_overflow_events_total",
			Help: "Events whose index name took the source type \"other\": theirs came after max_index_source_types distinct ones (counted per write attempt: a retried event counts again)."}, []string{"destination"}),
		IndexSourceTypes: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logrouter_opensearch_index_source_types",
			Help: "Distinct source types index names are made of (at most max_index_source_types)."}, []string{"destination"}),
	}
	if r != nil {
		for _, c := range []prometheus.Collector{m.Indexed, m.ConflictAsDelivered, m.Retried, m.Quarantined, m.Requests, m.RequestBytes, m.Splits, m.TemplateReady,
			m.IndexDateClamped, m.IndexSourceTypeOverflow, m.IndexSourceTypes} {
			r.MustRegister(c)
		}
	}
	return m
}
