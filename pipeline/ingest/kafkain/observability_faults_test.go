package kafkain

// Fault tests from a review of observability: each failed before the fix of
// the bug it describes (the comments describe the code as it was found).

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/logrouter/logrouter/pipeline/engine"
)

// TestKafkaInputCountsInputBytes: logrouter_input_bytes_total{input}
// ("Bytes received by an input (after decompression)", README.md's list of
// series, and what logrouter_input_normalized_bytes_total's help says to
// compare with) is counted by the HTTP input (readBody) and the syslog
// input (stream.add), but the Kafka input never adds to it: nothing in
// source.go touches eng.Metrics().InputBytes. Its events are counted
// (logrouter_input_events_total, logrouter_input_normalized_bytes_total),
// its bytes are not.
//
// The ledger (internal/app BuildLedger, `router stats`) sums
// logrouter_input_bytes_total into Reduction.InputBytes and
// logrouter_input_normalized_bytes_total into NormalizedBytes: on the
// documented gateway (edge -> Kafka -> gateway, docs/architecture.md) the
// gateway "received 0 bytes -> normalized N bytes (-)", the kafka row of
// the ledger has bytes 0, and on a router with HTTP and Kafka inputs the
// normalization ratio and every "out N bytes (x% of received)" line are
// computed against only part of what came in (ratios above 100%).
//
// Expected: the bytes of every record value the Kafka input takes (what it
// turns into events or quarantines) are added to
// logrouter_input_bytes_total{input="kafka"}, as the other inputs do.
func TestKafkaInputCountsInputBytes(t *testing.T) {
	broker := faultBroker(t, "logs", 1)
	vals := [][]byte{
		[]byte(`{"seq":1,"message":"first record from the edge"}`),
		[]byte(`{"seq":2,"message":"second record from the edge"}`),
		[]byte(`{"seq":3,"message":"third record from the edge"}`),
	}
	want := 0
	for _, v := range vals {
		want += len(v)
	}
	faultProduce(t, broker, "logs", vals...)
	sink := newFaultSink()
	e := faultEngine(t, engine.Config{}, sink)
	s, err := New(faultConfig(broker, "g-review-bytes", "logs"), e, faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer reviewShutdown(s)
	faultWait(t, 20*time.Second, "the records delivered", func() bool { return sink.Events() >= len(vals) })

	m := e.Metrics()
	events := testutil.ToFloat64(m.InputEvents.WithLabelValues(s.cfg.Name))
	norm := testutil.ToFloat64(m.InputNormBytes.WithLabelValues(s.cfg.Name))
	got := testutil.ToFloat64(m.InputBytes.WithLabelValues(s.cfg.Name))
	if events != float64(len(vals)) || norm == 0 {
		t.Fatalf("precondition: input events %v (want %d), normalized bytes %v", events, len(vals), norm)
	}
	if got != float64(want) {
		t.Errorf("logrouter_input_bytes_total{input=%q} = %v after the Kafka input took %d records of %d bytes "+
			"(logrouter_input_events_total %v, logrouter_input_normalized_bytes_total %v): the ledger's reduction "+
			"compares normalized bytes with received bytes that leave Kafka out", s.cfg.Name, got, len(vals), want, events, norm)
	}
}

// TestKafkaLagFreezesWhileBlocked: logrouter_kafka_lag is "Records
// between the last one fetched and the partition's high watermark", but it
// is only set in consume's fetch loop, right after FetchMessage returns
// (p.lag.Set(m.HighWaterMark - m.Offset - 1)). When the partition stops
// fetching, because the destinations refuse its batch (retryFailed sends
// it again with backoff, for as long as the refusal lasts: a SIEM outage
// with its queue full and on_full: block) or because max_inflight_batches
// of it are waiting, the gauge keeps the value of the last fetch while the
// high watermark runs away: the lag reads flat (here, its value before the
// backlog was produced) exactly when the backlog grows. A lag alert never
// fires and an autoscaler on it (the reason TestLagOfRevokedPartitionStays
// deletes stale series) never sees the backlog.
//
// Expected: the gauge follows the partition's high watermark while the
// partition is held (refreshed on a timer, e.g. from the reader's stats or
// a ListOffsets request, not only when a record is fetched).
func TestKafkaLagFreezesWhileBlocked(t *testing.T) {
	broker := faultBroker(t, "logs", 1)
	// Two records: the first is emitted and refused; the second is fetched
	// and waits for the first's in-flight slot (max_inflight_batches 1),
	// so the partition fetches nothing more.
	faultProduce(t, broker, "logs", []byte(`{"seq":0,"message":"first"}`), []byte(`{"seq":1,"message":"second"}`))
	sink := newFaultSink()
	sink.refuse = true // the destinations refuse: the batch is sent again, the partition holds
	cfg := faultConfig(broker, "g-review-lag-frozen", "logs")
	cfg.BatchEvents = 1
	cfg.MaxInflightBatches = 1
	cfg.DrainTimeout = 200 * time.Millisecond
	s, err := New(cfg, faultEngine(t, engine.Config{}, sink), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer reviewShutdown(s)
	select {
	case <-sink.started:
	case <-time.After(20 * time.Second):
		t.Fatal("nothing reached the destination")
	}
	lag := s.m.lag.WithLabelValues(s.cfg.Name, "logs", "0")
	time.Sleep(500 * time.Millisecond) // the second record is fetched: the lag was 0 then
	before := testutil.ToFloat64(lag)
	if before != 0 {
		t.Fatalf("precondition: lag %v once both records were fetched, want 0", before)
	}

	// The backlog builds up while the partition is held.
	const backlog = 200
	vals := make([][]byte, backlog)
	for i := range vals {
		vals[i] = fmt.Appendf(nil, `{"seq":%d,"message":"backlog"}`, i+1)
	}
	faultProduce(t, broker, "logs", vals...)
	var after float64
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if after = testutil.ToFloat64(lag); after >= backlog {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if after < backlog {
		t.Errorf("logrouter_kafka_lag{partition=\"0\"} = %v (was %v before) 3s after %d more records were produced to a partition "+
			"whose consumer is held by refused batches: the lag is frozen at the last fetch while the backlog grows", after, before, backlog)
	}
}
