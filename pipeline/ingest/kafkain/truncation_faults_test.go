package kafkain

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logrouter/logrouter/pipeline/engine"
)

// TestLogCutUnderRunningPartitionIsReadFromStart
//
// Fault: the fix for a committed offset outside the partition's log
// (TestCommittedOffsetPastLogEndStallsPartition) checks the offset only
// when a partition is assigned (inRange, before SetOffset). The events the
// docs name for it, an unclean leader election (a broker lost, an
// out-of-sync replica elected: the log is cut below what was read) and a
// topic deleted and created again, happen while replicas are consuming,
// and neither makes the group rebalance (a broker failure does not, and
// the partition count stays the same). The running kafka-go Reader then
// finds its position past the log's end and, as at assignment before the
// fix, waits quietly ("will retry later") until the log grows past it:
// every record written meanwhile is not delivered, and once the log
// passes the old position every record below it is skipped without
// being delivered, quarantined, counted or logged by logrouter
// (logrouter_kafka_offset_resets_total stays 0).
//
// Sequence: a partition consumed up to offset 20; the topic is deleted and
// created again at once (the log now ends at 0, the partition count is
// unchanged: no rebalance); 25 records are produced at offsets 0..24.
//
// Expected: like at assignment (docs: start_offset, "also where a
// committed offset outside the partition's log ... starts again"), the
// position past the log's end is reset by start_offset (earliest: 0), logged
// and counted, and the 25 new records are delivered.
//
// Actual: offsets 20..24 of the new log are delivered, offsets 0..19 never
// are (nor quarantined, nor counted); the commit passes them.
func TestLogCutUnderRunningPartitionIsReadFromStart(t *testing.T) {
	broker := faultBroker(t, "logs", 1)
	old := make([][]byte, 20)
	for i := range old {
		old[i] = fmt.Appendf(nil, `{"old":%d}`, i)
	}
	faultProduce(t, broker, "logs", old...)
	sink := newFaultSink()
	cfg := faultConfig(broker, "g-review-trunc", "logs")
	s, err := New(cfg, faultEngine(t, engine.Config{}, sink), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer reviewShutdown(s)
	faultWait(t, 15*time.Second, "the first 20 records delivered", func() bool { return sink.Events() >= 20 })
	gens := reviewCounter(t, s.m.rebalances)

	// The log is cut under the running reader: the topic deleted and
	// created again (an unclean leader election does the same to one
	// partition).
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 5 * time.Second, Transport: tr}
	ctx := context.Background()
	if _, err := cl.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{"logs"}}); err != nil {
		t.Fatal(err)
	}
	if r, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: "logs", NumPartitions: 1, ReplicationFactor: 1}}}); err != nil {
		t.Fatal(err)
	} else if e := r.Errors["logs"]; e != nil {
		t.Fatal(e)
	}
	// A partition that is caught up fetches the cut log before it grows
	// past its position again (a log cut and regrown past it before the
	// next fetch cannot be told apart: see outOfRange).
	faultWait(t, 15*time.Second, "the cut seen", func() bool { return reviewCounter(t, s.m.resets) >= 1 })
	fresh := make([][]byte, 25)
	for i := range fresh {
		fresh[i] = fmt.Appendf(nil, `{"fresh":"f%02d"}`, i)
	}
	faultProduce(t, broker, "logs", fresh...)

	faultWait(t, 15*time.Second, "the last record of the new log", func() bool { return sink.saw(`"f24"`) })
	time.Sleep(300 * time.Millisecond)
	var lost []int
	for i := range fresh {
		if !sink.saw(fmt.Sprintf(`"f%02d"`, i)) {
			lost = append(lost, i)
		}
	}
	if len(lost) > 0 {
		t.Errorf("the log was cut below the partition's position (20 -> 0); of the 25 records written to it after, offsets %v were never delivered "+
			"(committed offset now %d; generations %v -> %v: no rebalance; offset resets counted %v)",
			lost, faultCommitted(t, broker, "g-review-trunc", "logs"), gens, reviewCounter(t, s.m.rebalances), reviewCounter(t, s.m.resets))
	}
}
