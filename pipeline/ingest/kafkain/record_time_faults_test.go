package kafkain

// A review (18b): a Kafka record's own timestamp is not used when
// the event carries no time of its own.

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logrouter/logrouter/pipeline/engine"
)

// TestKafkaRecordTimestampIsEventTime
//
// Sequence: a producer writes a record to a raw-lines topic (format raw: a
// plain-text line with no time of its own, such as a syslog forwarder's
// message without a header, or an application's log line) with the Kafka
// record timestamp 2023-06-01T12:00:00Z (CreateTime: when the producer
// produced it, ~an outage's backlog ago). logrouter reads it now.
//
// What is wrong: partition.add never reads m.Time (kafka.Message.Time, the
// record's timestamp). The event's @timestamp is the batch's ingest time
// (when the record was read), so a backlog replayed after a consumer outage,
// or a topic re-read from the start, is filed under the hour it was read:
// the daily index, the archive's time partition and every SIEM time window
// see it at the wrong time.
//
// Expected: with no time in the event, @timestamp is the record's
// timestamp (2023-06-01T12:00:00.000Z); event.ingested stays the read time.
// docs/schema.md: @timestamp is "the event's own time ... from the envelope
// (HEC `time`) ... the ingest time if none parses": the Kafka record
// timestamp is the Kafka envelope's time, the HEC `time` of this input.
// Filebeat's kafka input sets the event's @timestamp from the record
// timestamp (elastic/beats filebeat/input/kafka/input.go,
// composeEventMetadata: "timestamp = msg.Timestamp" for Kafka >= 0.10,
// published as beat.Event{Timestamp: message.Ts}).
func TestKafkaRecordTimestampIsEventTime(t *testing.T) {
	broker := faultBroker(t, "lines18b", 1)
	sink := newFaultSink()
	e := faultEngine(t, engine.Config{}, sink)
	cfg := faultConfig(broker, "g-review18b", "lines18b")
	cfg.Topics[0].Format = "raw"
	s, err := New(cfg, e, faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer reviewShutdown(s)

	recTime := time.Date(2023, 6, 1, 12, 0, 0, 0, time.UTC)
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: "lines18b", RequiredAcks: kafka.RequireAll,
		BatchTimeout: time.Millisecond, Transport: tr,
		Balancer: kafka.BalancerFunc(func(kafka.Message, ...int) int { return 0 })}
	if err := w.WriteMessages(context.Background(),
		kafka.Message{Value: []byte("review18b backlog line marker-18b-rec"), Time: recTime}); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()

	faultWait(t, 15*time.Second, "the record delivered", func() bool { return sink.saw("marker-18b-rec") })
	raw := reviewRawOf(sink, "marker-18b-rec")
	var ev struct {
		Timestamp string `json:"@timestamp"`
	}
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	ts, err := time.Parse(time.RFC3339Nano, ev.Timestamp)
	if err != nil {
		t.Fatalf("@timestamp %q: %v (%s)", ev.Timestamp, err, raw)
	}
	if !ts.Equal(recTime) {
		t.Errorf("@timestamp = %s, want the Kafka record's timestamp %s (the event has no time of its own; "+
			"the record timestamp is ignored and the read time used)\n%s", ev.Timestamp, recTime.Format(time.RFC3339Nano), raw)
	}
}

// TestRejectKeepsTheRecordTimestamp: a record the input quarantines keeps
// its timestamp (Rejected.RecordTime, the quarantine line's record_time),
// so that a replay makes the event the input would have made: the record's
// time standing in for an event without its own, never over the event's
// (a review, 18c; the replay side: internal/app TestReplayRecordTime).
func TestRejectKeepsTheRecordTimestamp(t *testing.T) {
	recTime := time.Date(2023, 6, 1, 12, 0, 0, 0, time.UTC)
	p := &partition{s: &Source{cfg: Config{Name: "kafka"}}, ts: topicState{format: "json", defST: []byte("app.json")}}
	m := &kafka.Message{Topic: "backlog", Partition: 0, Offset: 42, Time: recTime, Value: []byte("{not json")}
	p.reject(m, m.Value, "invalid_json", errors.New("x"))
	if len(p.rej) != 1 {
		t.Fatalf("rejected %d records, want 1", len(p.rej))
	}
	if got := p.rej[0].RecordTime; got != recTime.UnixNano() {
		t.Errorf("Rejected.RecordTime = %d, want the record timestamp %d", got, recTime.UnixNano())
	}
	if p.rej[0].DefaultTime != 0 {
		t.Errorf("Rejected.DefaultTime = %d: that one wins over the event's own time on a replay", p.rej[0].DefaultTime)
	}
	p.rej = nil
	p.reject(&kafka.Message{Topic: "backlog", Value: []byte("x")}, []byte("x"), "invalid_json", errors.New("x"))
	if got := p.rej[0].RecordTime; got != 0 {
		t.Errorf("a record without a timestamp: RecordTime %d, want 0", got)
	}
}
