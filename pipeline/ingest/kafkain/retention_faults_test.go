package kafkain

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/logrouter/logrouter/pipeline/engine"
)

// TestRetentionPassedCommitReadsRetained: the group's committed offset is
// below the partition's first offset (retention deleted records the group
// had not read: a consumer group behind by more than retention.ms while a
// destination was down). With start_offset latest, the reset went to the
// log's end and skipped every record still retained; and nothing said
// that records had expired unread. Expected: reading goes on from the
// first offset (none retained is skipped, whatever start_offset says), the
// records deleted unread are counted (logrouter_kafka_records_expired_total),
// and this is not an offset reset.
func TestRetentionPassedCommitReadsRetained(t *testing.T) {
	for _, start := range []string{"earliest", "latest"} {
		t.Run(start, func(t *testing.T) {
			broker := faultBroker(t, "logs", 1)
			recs := make([][]byte, 20)
			for i := range recs {
				recs[i] = fmt.Appendf(nil, `{"seq":"r%02d"}`, i)
			}
			faultProduce(t, broker, "logs", recs...)
			group := "g-retention-" + start
			tr := &kafka.Transport{}
			defer tr.CloseIdleConnections()
			cl := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 5 * time.Second, Transport: tr}
			if _, err := cl.OffsetCommit(context.Background(), &kafka.OffsetCommitRequest{GroupID: group, GenerationID: -1,
				Topics: map[string][]kafka.OffsetCommit{"logs": {{Partition: 0, Offset: 5}}}}); err != nil {
				t.Fatal(err)
			}
			deleteRecordsBefore(t, broker, "logs", 15) // retention: offsets 0..14 gone, 5..14 never read

			sink := newFaultSink()
			cfg := faultConfig(broker, group, "logs")
			cfg.StartOffset = start
			s, err := New(cfg, faultEngine(t, engine.Config{}, sink), faultLog)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			defer reviewShutdown(s)
			faultWait(t, 15*time.Second, "the retained records r15..r19", func() bool {
				for i := 15; i < 20; i++ {
					if !sink.saw(fmt.Sprintf(`"r%02d"`, i)) {
						return false
					}
				}
				return true
			})
			if got := reviewCounter(t, s.m.expired.WithLabelValues(s.cfg.Name, "logs")); got != 10 {
				t.Errorf("records expired unread counted %v, want 10 (offsets 5..14)", got)
			}
			if got := reviewCounter(t, s.m.resets); got != 0 {
				t.Errorf("offset resets %v, want 0: retention is not a cut log", got)
			}
			faultWait(t, 10*time.Second, "the commit past the retained records", func() bool {
				return faultCommitted(t, broker, group, "logs") == 20
			})
		})
	}
}

// TestReaderRetentionSkipCounted: retention passing the position while the
// kafka-go Reader runs is handled inside it (it moves to the first offset
// and only logs it); the line it logs is read and the records counted.
func TestReaderRetentionSkipCounted(t *testing.T) {
	// kafka-go v0.4.51 reader.go, as it calls its ErrorLogger.
	const format = "the kafka reader is reading before the first offset for partition %d of %s, skipping from offset %d to %d (%d messages)"
	n, ok := retentionSkip(format, []any{0, "logs", "42", int64(100), int64(58)})
	if !ok || n != 58 {
		t.Fatalf("retentionSkip = %d, %v; want 58, true", n, ok)
	}
	if _, ok := retentionSkip("the kafka reader is reading passed the last offset for partition %d of %s at offset %d", []any{0, "logs", "42"}); ok {
		t.Fatal("another line read as a retention skip")
	}
	s := &Source{cfg: Config{Name: "kafka"}, log: faultLog, m: &metrics{
		expired: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x"}, []string{"input", "topic"})}}
	p := &partition{s: s, topic: "logs", label: "logs/0", expired: s.m.expired.WithLabelValues("kafka", "logs")}
	p.readerError(format, 0, "logs", int64(42), int64(100), int64(58))
	if got := reviewCounter(t, s.m.expired.WithLabelValues("kafka", "logs")); got != 58 {
		t.Fatalf("expired %v, want 58", got)
	}
}

// deleteRecordsBefore deletes partition 0's records below offset, as
// retention (or kafka-delete-records) does.
func deleteRecordsBefore(t *testing.T, broker, topic string, offset int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrDeleteRecordsRequest()
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Partition, rp.Offset = 0, offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 5000
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if rp.ErrorCode != 0 {
				t.Fatalf("delete records: error code %d", rp.ErrorCode)
			}
		}
	}
}
