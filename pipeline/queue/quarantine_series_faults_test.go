package queue

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// seriesScrape reads one series from g as a Prometheus scrape would: its
// value, and whether the series exists at all.
func seriesScrape(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// seriesIncrease is what PromQL increase() sees over scrapes: only the
// samples of scrapes where the series existed (Prometheus never assumes a
// missing series was 0), last minus first; no result with fewer than two.
func seriesIncrease(samples []float64, present []bool) (float64, bool) {
	var got []float64
	for i := range samples {
		if present[i] {
			got = append(got, samples[i])
		}
	}
	if len(got) < 2 {
		return 0, false
	}
	return got[len(got)-1] - got[0], true
}

// Fault: logrouter_queue_quarantined_events_total{destination,reason=
// "destination_rejected"} is created only when the first events are
// quarantined (queue.go quarantine: WithLabelValues at the first Put),
// with the value of that whole batch. The alert written for it,
// LogrouterEventsQuarantinedByDestination, is
// increase(logrouter_queue_quarantined_events_total[15m]) > 0; PromQL
// never treats an absent series as 0, so the first batch a destination
// refuses (the series jumping from nothing to N) is no increase at all.
//
// Sequence: a destination queue runs (scraped); the destination refuses a
// batch permanently (an OpenSearch mapping conflict, a HEC 400); its
// events go to quarantine.dir/<destination>; Prometheus scrapes twice
// more.
//
// Expected: alerts.yaml, LogrouterEventsQuarantinedByDestination: "The
// destination refused them permanently (an OpenSearch mapping conflict, a
// HEC 400...); they are in quarantine.dir/<destination>. Fix the cause,
// then `router quarantine replay`." The series must exist (at 0) from the
// queue's start, as the queue already does for its dropped{reason=
// "queue_full"} series, so that the first refusal is an increase.
//
// Actual: before the refusal the series does not exist; after it, it
// reads 3 on every scrape: increase() is 0 and the alert never fires for a
// one-off refusal (only a second refusal within 15 minutes of the process's
// life shows). The same holds after every restart.
//
// Severity: medium (events sit in quarantine, undelivered to their
// destination, and the on-call is never told).
func TestFirstDestinationQuarantineIsAnIncrease(t *testing.T) {
	e := newEnv(t, wal.OS, Config{})
	defer e.close()
	name := "logrouter_queue_quarantined_events_total"
	lbl := map[string]string{"destination": "dest", "reason": "destination_rejected"}
	var samples []float64
	var present []bool
	scrape := func() {
		v, ok := seriesScrape(t, e.reg, name, lbl)
		samples, present = append(samples, v), append(present, ok)
	}
	scrape() // the queue runs, nothing refused yet
	e.sink.setFail(func(*pipeline.Batch) error { return pipeline.Permanentf("mapper_parsing_exception") })
	if _, err := e.write(pipeline.P2, pipeline.P2, pipeline.P2); err != nil {
		t.Fatal(err)
	}
	e.waitIdle()
	if n := len(e.dlq.Records()); n != 3 {
		t.Fatalf("premise: %d records quarantined, want 3", n)
	}
	scrape()
	scrape()
	inc, ok := seriesIncrease(samples, present)
	if !ok || inc <= 0 {
		t.Errorf("3 events quarantined by the destination; scrapes of %s%v: values %v, series present %v: "+
			"increase() = %v (result: %v), so LogrouterEventsQuarantinedByDestination (increase(...[15m]) > 0) never fires; "+
			"the series must exist at 0 from the queue's start", name, lbl, samples, present, inc, ok)
	}
}
