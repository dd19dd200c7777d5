package queue

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the per-destination ledger series. For every destination:
//
//	accepted + recovered = delivered + quarantined + dropped + lost + queued
//
// accepted counts events whose Write returned nil (dropped ones included:
// a drop policy accepts and counts them), recovered the events found queued
// on disk at start, lost those destroyed by on-disk corruption (counted
// exactly from record headers). Retries are never counted as drops.
type Metrics struct {
	Accepted    *prometheus.CounterVec // {destination}
	Recovered   *prometheus.CounterVec // {destination}
	Delivered   *prometheus.CounterVec // {destination}
	Quarantined *prometheus.CounterVec // {destination, reason}
	Dropped     *prometheus.CounterVec // {destination, reason}
	Lost        *prometheus.CounterVec // {destination, reason}
	Retries     *prometheus.CounterVec // {destination}
	Queued      *prometheus.GaugeVec   // {destination, priority}
	QueuedBytes *prometheus.GaugeVec   // {destination}
	MaxBytes    *prometheus.GaugeVec   // {destination}
	Degraded    *prometheus.GaugeVec   // {destination}
	InFlight    *prometheus.GaugeVec   // {destination}
}

// NewMetrics registers the queue series on r.
func NewMetrics(r prometheus.Registerer) *Metrics {
	m := &Metrics{
		Accepted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_queue_accepted_events_total",
			Help: "Events a destination's queue accepted (fsynced, or dropped by its on_full policy)."}, []string{"destination"}),
		Recovered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_queue_recovered_events_total",
			Help: "Events found waiting in a destination's queue at start."}, []string{"destination"}),
		Delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_queue_delivered_events_total",
			Help: "Events the destination confirmed."}, []string{"destination"}),
		Quarantined: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_queue_quarantined_events_total",
			Help: "Events the destination refused permanently, written to its quarantine."}, []string{"destination", "reason"}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_queue_dropped_events_total",
			Help: "Events dropped by the queue's on_full policy."}, []string{"destination", "reason"}),
		Lost: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_queue_lost_events_total",
			Help: "Events destroyed by on-disk corruption (exact from record headers)."}, []string{"destination", "reason"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_queue_retries_total",
			Help: "Delivery attempts that failed and will be retried (never a drop)."}, []string{"destination"}),
		Queued: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logrouter_queue_events",
			Help: "Events waiting in a destination's queue."}, []string{"destination", "priority"}),
		QueuedBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logrouter_queue_bytes",
			Help: "Encoded bytes waiting in a destination's queue (compare with logrouter_queue_max_bytes)."}, []string{"destination"}),
		MaxBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logrouter_queue_max_bytes",
			Help: "The destination queue's queue.max_bytes: past it, its on_full policy applies (alert on logrouter_queue_bytes / logrouter_queue_max_bytes)."}, []string{"destination"}),
		Degraded: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logrouter_queue_degraded",
			Help: "1 when recovery found damaged data in the destination's queue."}, []string{"destination"}),
		InFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logrouter_queue_deliveries_in_flight",
			Help: "Deliveries on their way to the destination (at most queue.max_in_flight: always there means the destination is the bottleneck)."}, []string{"destination"}),
	}
	for _, c := range []prometheus.Collector{m.Accepted, m.Recovered, m.Delivered, m.Quarantined, m.Dropped, m.Lost, m.Retries, m.Queued, m.QueuedBytes, m.MaxBytes, m.Degraded, m.InFlight} {
		r.MustRegister(c)
	}
	return m
}
