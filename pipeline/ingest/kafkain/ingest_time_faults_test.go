package kafkain

// Fault tests from a review of the edge -> Kafka -> gateway path. Each one
// fails against the code as found; the comment says what happens, what should
// happen and why it matters.

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline/engine"
)

// reviewRawOf returns the Raw of the event the sink saw that contains marker.
func reviewRawOf(s *faultSink, marker string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for raw := range s.seen {
		if strings.Contains(raw, marker) {
			return raw
		}
	}
	return ""
}

// TestReviewIngestTimeIsRecordArrivalNotLastFlush
//
// Sequence: a Kafka input consumes a topic of raw lines (format raw: a
// third-party producer, no time in the line). One record arrives and is
// delivered; the partition then stays quiet for 3 s; a second record
// arrives.
//
// What happens: partition.newBatch stamps Meta.IngestTime with time.Now()
// when the batch is created, which is right after the previous flush, not
// when its first record arrives (the syslog input had the same bug and was
// fixed in stream.add: "a quiet device's next message would be stamped when
// the last batch left"). The second event's event.ingested is therefore the
// time of the first flush, 3 s before it was read, and since the line has no
// time of its own, its @timestamp (which falls back to the ingest time) is
// 3 s too early as well. On a partition quiet for an hour, both are an hour
// off.
//
// What should happen: the batch's ingest time is when its first record was
// read (as syslog does), so event.ingested and the fallback @timestamp are
// never earlier than the record's arrival.
//
// Why it matters: @timestamp is what every SIEM search, alert window and the
// archive's time partitioning use; an event stamped an hour before it
// happened falls outside the alert windows that should catch it, and
// event.ingested (ingest lag monitoring) reports negative or absurd lag.
func TestIngestTimeIsRecordArrivalNotLastFlush(t *testing.T) {
	broker := faultBroker(t, "lines", 1)
	sink := newFaultSink()
	e := faultEngine(t, engine.Config{}, sink)
	cfg := faultConfig(broker, "g-ingest", "lines")
	cfg.Topics[0].Format = "raw"
	s, err := New(cfg, e, faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer reviewShutdown(s)

	faultProduce(t, broker, "lines", []byte("review first line marker-one"))
	faultWait(t, 15*time.Second, "the first record delivered", func() bool { return sink.saw("marker-one") })

	time.Sleep(3 * time.Second) // the partition is quiet
	before := time.Now()
	faultProduce(t, broker, "lines", []byte("review second line marker-two"))
	faultWait(t, 15*time.Second, "the second record delivered", func() bool { return sink.saw("marker-two") })

	raw := reviewRawOf(sink, "marker-two")
	var ev struct {
		Timestamp string `json:"@timestamp"`
		Event     struct {
			Ingested string `json:"ingested"`
		} `json:"event"`
	}
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	slack := 50 * time.Millisecond
	for name, v := range map[string]string{"event.ingested": ev.Event.Ingested, "@timestamp": ev.Timestamp} {
		ts, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			t.Fatalf("%s %q: %v (%s)", name, v, err, raw)
		}
		if ts.Before(before.Add(-slack)) {
			t.Errorf("%s = %s, %s before the record was produced (%s): the batch was stamped at the previous flush, not when its first record arrived\n%s",
				name, v, before.Sub(ts).Round(time.Millisecond), before.UTC().Format(time.RFC3339Nano), raw)
		}
	}
}
