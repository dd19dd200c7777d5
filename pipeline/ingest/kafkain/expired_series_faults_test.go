package kafkain

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/logrouter/logrouter/pipeline/engine"
)

// TestExpiredSeriesExistsBeforeFirstExpiry: the alert
// LogrouterKafkaRecordsExpired is increase(logrouter_kafka_records_expired_total[15m]) > 0.
// Prometheus' increase() of a series that is born with its first value
// (N records expired at once, the usual one-off catch-up after an outage)
// is 0: the series must exist, at 0, from the moment a partition of the
// topic is consumed (as records_total, lag and committed do), or the first
// expiry of a topic on a pod is never alerted.
func TestExpiredSeriesExistsBeforeFirstExpiry(t *testing.T) {
	broker := faultBroker(t, "logs", 1)
	faultProduce(t, broker, "logs", []byte(`{"seq":"r00"}`))
	sink := newFaultSink()
	cfg := faultConfig(broker, "g-review-expired", "logs")
	s, err := New(cfg, faultEngine(t, engine.Config{}, sink), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer reviewShutdown(s)
	faultWait(t, 15*time.Second, "the record", func() bool { return sink.saw(`"r00"`) })
	if n := testutil.CollectAndCount(s.m.records); n != 1 {
		t.Fatalf("records_total series %d, want 1 (harness check)", n)
	}
	if n := testutil.CollectAndCount(s.m.expired); n != 1 {
		t.Errorf("logrouter_kafka_records_expired_total has %d series for a consumed topic, want 1 at 0: "+
			"the first expiry creates the series at N and increase()[15m] reads 0, so LogrouterKafkaRecordsExpired never fires for it", n)
	}
}
