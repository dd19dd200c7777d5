package kafkain

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline/engine"
)

// produceBomb writes n records of 1 MiB in one zstd batch to partition 0.
func produceBomb(t *testing.T, broker, topic string, n int) {
	t.Helper()
	val := []byte(`{"message":"` + strings.Repeat("0", 1<<20) + `"}`)
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: val}
	}
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: topic, RequiredAcks: kafka.RequireAll, BatchTimeout: 50 * time.Millisecond,
		BatchSize: len(msgs), BatchBytes: 128 << 20, Compression: kafka.Zstd, Transport: tr,
		Balancer: kafka.BalancerFunc(func(kafka.Message, ...int) int { return 0 })}
	defer w.Close()
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// bombSource returns a Kafka input (not started) of group on topic whose
// bounds an oversized batch passes: records up to 2 MiB, batches up to 8
// MiB decompressed; startOffset "" is the default. Its sink and quarantine
// come with it.
func bombSource(t *testing.T, broker, group, topic, startOffset string) (*Source, *faultSink, *testutil.MemQuarantine) {
	t.Helper()
	cfg := faultConfig(broker, group, topic)
	cfg.StartOffset = startOffset
	cfg.MaxMessageBytes = 2 << 20
	cfg.FetchMaxBytes = 2 << 20
	cfg.MaxBatchBytes = 8 << 20
	sink := newFaultSink()
	q := &testutil.MemQuarantine{}
	s, err := New(cfg, faultEngineQ(t, engine.Config{}, sink, q), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	return s, sink, q
}

// A group without a commit for the partition (a new gateway deployment, a
// new topic) whose first batch is past max_batch_bytes: consume seeks the
// reader to start_offset's sentinel (kafka.FirstOffset), so r.Offset() is
// -2 when skipOversized runs, and it returns at "x < 0" without skipping:
// the partition never gets past the batch (the record after it is never
// delivered), though the docs promise a skip and a quarantined note.
func TestOversizedFirstBatchWithoutCommit(t *testing.T) {
	topic := "bomb0"
	broker := faultBroker(t, topic, 1)
	produceBomb(t, broker, topic, 16)
	faultProduce(t, broker, topic, []byte(`{"message":"last"}`))

	s, sink, _ := bombSource(t, broker, "g-bomb0", topic, "")
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Shutdown(context.Background()) }()
	faultWait(t, 90*time.Second, "the record after an oversized first batch", func() bool { return sink.saw(`"last"`) })
}
