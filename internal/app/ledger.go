package app

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Ledger is the conservation ledger: where every event went.
//
// Per input:       received = accepted + refused + quarantined
// Per destination: routed   = accepted + refused (engine)
//
//	queue accepted + recovered = delivered + quarantined + dropped + lost + queued
//
// Refused events were not acknowledged: their senders retry them, so they
// are neither delivered nor dropped, except where the protocol cannot tell
// the sender (syslog over UDP) or the router gave up on them (the shutdown
// deadline): those are also in Dropped. InMotion is the queue equation's
// difference, non-zero only while a delivery is being booked.
type Ledger struct {
	Inputs       []InputLedger       `json:"inputs"`
	Reduction    Reduction           `json:"reduction"`
	Priorities   []PriorityLedger    `json:"priorities"`
	Destinations []DestinationLedger `json:"destinations"`
	// Dropped are records dropped before any destination queue took them
	// (logrouter_dropped_events_total), by stage and reason.
	Dropped []DropLedger `json:"dropped,omitempty"`
}

// DropLedger is one stage and reason of records dropped without delivery.
type DropLedger struct {
	Stage  string  `json:"stage"`
	Reason string  `json:"reason"`
	Events float64 `json:"events"`
}

// Reduction says what normalization and deduplication saved. Bytes in are
// as received (decompressed); normalized bytes include the metadata
// logrouter adds; dedup saved is the normalized bytes of dropped repeats,
// saved at every destination they would have gone to.
type Reduction struct {
	InputBytes      float64            `json:"input_bytes"`
	NormalizedBytes float64            `json:"normalized_bytes"`
	DedupSavedBytes float64            `json:"dedup_saved_bytes"`
	Destinations    map[string]float64 `json:"destination_bytes"`
}

// InputLedger is one input's row.
type InputLedger struct {
	Input       string  `json:"input"`
	Received    float64 `json:"received"`
	Accepted    float64 `json:"accepted"`
	Refused     float64 `json:"refused"`
	Quarantined float64 `json:"quarantined"`
	// Deduplicated events are part of Accepted: acknowledged, not delivered
	// again.
	Deduplicated float64 `json:"deduplicated"`
	Bytes        float64 `json:"bytes"`
}

// PriorityLedger is one route's row.
type PriorityLedger struct {
	Priority string  `json:"priority"`
	Events   float64 `json:"events"`
	Bytes    float64 `json:"bytes"`
}

// DestinationLedger is one destination's row.
type DestinationLedger struct {
	Destination string  `json:"destination"`
	Routed      float64 `json:"routed"`
	Refused     float64 `json:"refused"`
	Accepted    float64 `json:"accepted"`
	Recovered   float64 `json:"recovered"`
	Delivered   float64 `json:"delivered"`
	Quarantined float64 `json:"quarantined"`
	Dropped     float64 `json:"dropped"`
	Lost        float64 `json:"lost"`
	Queued      float64 `json:"queued"`
	InMotion    float64 `json:"in_motion"`
	Balanced    bool    `json:"balanced"`
	Queue       bool    `json:"queue"`
}

// BuildLedger reads the ledger from the registry.
func BuildLedger(g prometheus.Gatherer) (*Ledger, error) {
	mfs, err := g.Gather()
	if err != nil {
		return nil, err
	}
	// sum[name][label value] over the other labels
	sum := func(name, label string, filter map[string]string) map[string]float64 {
		out := map[string]float64{}
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, m := range mf.GetMetric() {
				key, ok := "", true
				for _, lp := range m.GetLabel() {
					if lp.GetName() == label {
						key = lp.GetValue()
					}
					if want, f := filter[lp.GetName()]; f && want != lp.GetValue() {
						ok = false
					}
				}
				if ok {
					out[key] += value(m)
				}
			}
		}
		return out
	}
	l := &Ledger{}
	evs := sum("logrouter_input_events_total", "input", nil)
	refused := sum("logrouter_input_refused_events_total", "input", nil)
	quar := sum("logrouter_quarantined_events_total", "input", nil)
	bytes := sum("logrouter_input_bytes_total", "input", nil)
	dd := sum("logrouter_input_deduplicated_events_total", "input", nil)
	for _, in := range keys(evs, quar, bytes) {
		l.Inputs = append(l.Inputs, InputLedger{Input: in, Received: evs[in] + quar[in], Accepted: evs[in] - refused[in],
			Refused: refused[in], Quarantined: quar[in], Deduplicated: dd[in], Bytes: bytes[in]})
	}
	for _, mf := range mfs {
		if mf.GetName() != "logrouter_dropped_events_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var d DropLedger
			for _, lp := range m.GetLabel() {
				switch lp.GetName() {
				case "stage":
					d.Stage = lp.GetValue()
				case "reason":
					d.Reason = lp.GetValue()
				}
			}
			if d.Events = value(m); d.Events > 0 {
				l.Dropped = append(l.Dropped, d)
			}
		}
	}
	sort.Slice(l.Dropped, func(i, j int) bool {
		a, b := l.Dropped[i], l.Dropped[j]
		return a.Stage < b.Stage || a.Stage == b.Stage && a.Reason < b.Reason
	})
	for _, v := range bytes {
		l.Reduction.InputBytes += v
	}
	for _, v := range sum("logrouter_input_normalized_bytes_total", "input", nil) {
		l.Reduction.NormalizedBytes += v
	}
	l.Reduction.DedupSavedBytes = sum("logrouter_dedup_suppressed_bytes_total", "", nil)[""]
	l.Reduction.Destinations = sum("logrouter_destination_bytes_total", "destination", nil)
	pe := sum("logrouter_priority_events_total", "priority", nil)
	pb := sum("logrouter_priority_bytes_total", "priority", nil)
	for _, p := range keys(pe) {
		l.Priorities = append(l.Priorities, PriorityLedger{Priority: p, Events: pe[p], Bytes: pb[p]})
	}
	acc := sum("logrouter_destination_events_total", "destination", map[string]string{"outcome": "accepted"})
	ref := sum("logrouter_destination_events_total", "destination", map[string]string{"outcome": "refused"})
	qa := sum("logrouter_queue_accepted_events_total", "destination", nil)
	rec := sum("logrouter_queue_recovered_events_total", "destination", nil)
	del := sum("logrouter_queue_delivered_events_total", "destination", nil)
	qq := sum("logrouter_queue_quarantined_events_total", "destination", nil)
	drop := sum("logrouter_queue_dropped_events_total", "destination", nil)
	lost := sum("logrouter_queue_lost_events_total", "destination", nil)
	queued := sum("logrouter_queue_events", "destination", nil)
	hasQ := sum("logrouter_queue_bytes", "destination", nil)
	for _, d := range keys(acc, ref, qa, rec) {
		_, withQueue := hasQ[d]
		row := DestinationLedger{Destination: d, Routed: acc[d] + ref[d], Refused: ref[d], Accepted: acc[d], Queue: withQueue}
		if withQueue {
			row.Accepted = qa[d]
			row.Recovered, row.Delivered, row.Quarantined = rec[d], del[d], qq[d]
			row.Dropped, row.Lost, row.Queued = drop[d], lost[d], queued[d]
			row.InMotion = row.Accepted + row.Recovered - (row.Delivered + row.Quarantined + row.Dropped + row.Lost + row.Queued)
			row.Balanced = row.InMotion == 0
		} else {
			row.Delivered = acc[d]
			row.Balanced = true
		}
		l.Destinations = append(l.Destinations, row)
	}
	return l, nil
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return 0
}

func keys(ms ...map[string]float64) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}
