package kafkain

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline/engine"
)

// TestOversizedBatchOfManyRecordsSkipped guards batchEnd's probe budget:
// a check added to the end search (since removed: each probe decompresses
// up to max_batch_bytes, so a check of every offset cost a producer's
// bomb tens of times that) needed more probes than the budget for any
// batch of over 64 records, and the partition never got past it.
//
// Sequence: partition 0 holds {"first"} at offset 0, one zstd batch of 100
// records of 128 KiB (12.5 MiB decompressed, max_batch_bytes 8 MiB) at
// offsets 1..100, {"last"} at 101.
//
// Expected: the batch is skipped with one batch_too_large note for offsets
// 1-100 and {"last"} is delivered.
func TestOversizedBatchOfManyRecordsSkipped(t *testing.T) {
	topic := "bombmany"
	broker := faultBroker(t, topic, 1)
	faultProduce(t, broker, topic, []byte(`{"message":"first"}`)) // 0
	reviewProduceBatch(t, broker, topic, 100, 128<<10)            // 1..100
	faultProduce(t, broker, topic, []byte(`{"message":"last"}`))  // 101

	cfg := faultConfig(broker, "g-bombmany", topic)
	cfg.MaxMessageBytes = 2 << 20
	cfg.FetchMaxBytes = 2 << 20
	cfg.MaxBatchBytes = 8 << 20
	sink := newFaultSink()
	q := &testutil.MemQuarantine{}
	rec := newLogRecorder()
	s, err := New(cfg, faultEngineQ(t, engine.Config{}, sink, q), slog.New(rec))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer reviewShutdown(s)
	faultWait(t, 15*time.Second, "the record before the batch", func() bool { return sink.saw(`"first"`) })
	deadline := time.Now().Add(90 * time.Second) // ~20 s without -race, much more with it on 2 cores
	for !sink.saw(`"last"`) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !sink.saw(`"last"`) {
		var notes []string
		for _, r := range q.Records() {
			notes = append(notes, r.Reason+": "+r.Detail)
		}
		x, y, err := s.batchEnd(context.Background(), topic, 0, 1)
		t.Errorf("a single compressed batch of 100 records past max_batch_bytes was never skipped: the record after it was not delivered in 90 s "+
			"(committed offset %d; skipOversized kept retrying: %v; batchEnd(1) = %d, %d, %v; quarantine notes: %q)",
			faultCommitted(t, broker, "g-bombmany", topic),
			rec.saw("cannot find the offsets of the batch past max_batch_bytes"), x, y, err, notes)
	}
}

// reviewProduceBatch writes n records of size bytes each in one zstd batch
// to partition 0.
func reviewProduceBatch(t *testing.T, broker, topic string, n, size int) {
	t.Helper()
	val := []byte(`{"message":"` + strings.Repeat("0", size) + `"}`)
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
