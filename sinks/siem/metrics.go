package siem

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/pipeline"
)

// Metrics are the SIEM destinations' series, shared by every destination
// (each series has a destination label). Create them once with NewMetrics
// and give them to each New with WithMetrics.
type Metrics struct {
	// Requests counts HEC requests and syslog batch writes by outcome:
	// ok, partial (400 naming an invalid event), rejected (permanent),
	// busy (429/503), server_error (other 5xx), auth (401/403),
	// client_error (other retryable 4xx), too_large (413), network
	// (connection error or timeout), dial_error (syslog connect).
	Requests *prometheus.CounterVec // {destination, outcome}
	// Events counts events by outcome: delivered, retryable (returned for
	// the queue to retry), permanent (returned for quarantine).
	Events *prometheus.CounterVec // {destination, outcome}
	// AckTimeouts counts HEC requests whose ackId was not confirmed within
	// ack.timeout.
	AckTimeouts *prometheus.CounterVec // {destination}
	// Resent counts events sent again although the SIEM may already have
	// them: the possible duplicates. reason is ack_timeout (HEC),
	// broken_connection (a syslog batch partly written when the connection
	// broke) or replay (syslog batches written shortly before a break).
	Resent *prometheus.CounterVec // {destination, reason}
	// Reconnects counts syslog connections replaced after a failure.
	Reconnects *prometheus.CounterVec // {destination}
	// EventAge is now - Event.Ingest when an event is delivered, in
	// seconds: the ingest-to-SIEM latency.
	EventAge *prometheus.HistogramVec // {destination, priority}
	// RequestSeconds is the duration of HEC requests and syslog batch
	// writes.
	RequestSeconds *prometheus.HistogramVec // {destination}
}

// AgeBuckets are the EventAge histogram buckets (seconds).
var AgeBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, .75, 1, 2.5, 5, 10, 30, 60, 300}

// NewMetrics creates the series and registers them on r (nil: not
// registered, for tests and benchmarks).
func NewMetrics(r prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_siem_requests_total",
			Help: "SIEM requests (HEC) and batch writes (syslog) by outcome."}, []string{"destination", "outcome"}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_siem_events_total",
			Help: "Events written to a SIEM destination by outcome (delivered, retryable, permanent)."}, []string{"destination", "outcome"}),
		AckTimeouts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_siem_ack_timeouts_total",
			Help: "HEC requests whose indexer acknowledgement did not arrive within ack.timeout (their events are resent)."}, []string{"destination"}),
		Resent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_siem_resent_events_total",
			Help: "Events sent again although the SIEM may already have them (possible duplicates), by reason."}, []string{"destination", "reason"}),
		Reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_siem_reconnects_total",
			Help: "Syslog connections replaced after a failure."}, []string{"destination"}),
		EventAge: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "logrouter_siem_event_age_seconds",
			Help:    "Age of events when the SIEM accepted them (now - ingest time): ingest-to-SIEM latency.",
			Buckets: AgeBuckets}, []string{"destination", "priority"}),
		RequestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "logrouter_siem_request_seconds",
			Help:    "Duration of HEC requests and syslog batch writes.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"destination"}),
	}
	if r != nil {
		for _, c := range []prometheus.Collector{m.Requests, m.Events, m.AckTimeouts, m.Resent, m.Reconnects, m.EventAge, m.RequestSeconds} {
			r.MustRegister(c)
		}
	}
	return m
}

// Request outcomes (the outcome label of Requests).
const (
	outOK = iota
	outPartial
	outRejected
	outBusy
	outServerError
	outAuth
	outClientError
	outTooLarge
	outNetwork
	outDialError
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"ok", "partial", "rejected", "busy", "server_error", "auth", "client_error", "too_large", "network", "dial_error"}

// destMetrics are one destination's series, resolved once.
type destMetrics struct {
	requests                                                       [numOutcomes]prometheus.Counter
	delivered, retryable, permanent                                prometheus.Counter
	ackTimeouts                                                    prometheus.Counter
	resentAck, resentBroken, resentRepl, resentBusy, resentInvalid prometheus.Counter
	reconnects                                                     prometheus.Counter
	age                                                            [pipeline.NumPriorities]prometheus.Observer
	reqSeconds                                                     prometheus.Observer
}

func (m *Metrics) forDestination(name string) *destMetrics {
	d := &destMetrics{
		delivered:     m.Events.WithLabelValues(name, "delivered"),
		retryable:     m.Events.WithLabelValues(name, "retryable"),
		permanent:     m.Events.WithLabelValues(name, "permanent"),
		ackTimeouts:   m.AckTimeouts.WithLabelValues(name),
		resentAck:     m.Resent.WithLabelValues(name, "ack_timeout"),
		resentBroken:  m.Resent.WithLabelValues(name, "broken_connection"),
		resentRepl:    m.Resent.WithLabelValues(name, "replay"),
		resentBusy:    m.Resent.WithLabelValues(name, "busy_partial"),
		resentInvalid: m.Resent.WithLabelValues(name, "invalid_partial"),
		reconnects:    m.Reconnects.WithLabelValues(name),
		reqSeconds:    m.RequestSeconds.WithLabelValues(name),
	}
	for i := range d.requests {
		d.requests[i] = m.Requests.WithLabelValues(name, outcomeNames[i])
	}
	for p := range d.age {
		d.age[p] = m.EventAge.WithLabelValues(name, pipeline.Priority(p).String())
	}
	return d
}

// observeAges records the age of events delivered at now (unix ns).
func (d *destMetrics) observeAges(evs []pipeline.Event, now int64) {
	for i := range evs {
		ev := &evs[i]
		if ev.Ingest <= 0 || ev.Replayed {
			continue // a replay keeps its first ingest time: its age says nothing of the pipeline's
		}
		age := float64(now-ev.Ingest) / 1e9
		if age < 0 {
			age = 0
		}
		p := ev.Priority
		if int(p) >= len(d.age) {
			p = pipeline.PriorityNone
		}
		d.age[p].Observe(age)
	}
}
