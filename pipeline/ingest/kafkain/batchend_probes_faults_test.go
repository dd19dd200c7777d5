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

// TestOversizedBatchOfManyRecordsSkipped
//
// Fault: 5cc59d9 added a verification pass to batchEnd that probes "every
// offset of the range when it holds at most maxVerify (64), else maxVerify
// spread over it" with step = max(1, n/maxVerify), n = hi-x-1. Integer
// division makes the step too small: for n in 65..127 the step is 1 and
// every one of the n offsets is probed; in general ceil(n/floor(n/64))
// probes are made, i.e. 65..127 for any n that is not a multiple of 64.
// The probes counter was reset to 0 before the pass, and oversized() fails
// with "more than 64 fetches to find the batch's end" on the 65th. So for
// every oversized batch of more than 65 records (bar exact multiples of
// 64) batchEnd returns an error, skipOversized logs "cannot find the
// offsets ...; trying again", sleeps 1 s and starts over: the same error
// for ever. The partition never gets past the batch (no note is
// quarantined, nothing after it is delivered or committed) and each retry
// decompresses max_batch_bytes ~65+ times. Before the commit such a batch
// (one range, the ordinary case: a single producer batch of many records)
// was skipped.
//
// Sequence: partition 0 holds {"first"} at offset 0, one zstd batch of 100
// records of 128 KiB (12.5 MiB decompressed, max_batch_bytes 8 MiB) at
// offsets 1..100, {"last"} at 101. Doubling+bisecting finds [1,101) in ~15
// probes; the verification then has n = 99, step = 1, and wants 99 probes.
//
// Expected: the batch is skipped with one batch_too_large note for offsets
// 1-100 and {"last"} is delivered.
//
// Actual: {"last"} is never delivered; the log repeats "cannot find the
// offsets of the batch past max_batch_bytes" (err: more than 64 fetches).
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
	deadline := time.Now().Add(30 * time.Second)
	for !sink.saw(`"last"`) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !sink.saw(`"last"`) {
		var notes []string
		for _, r := range q.Records() {
			notes = append(notes, r.Reason+": "+r.Detail)
		}
		x, y, err := s.batchEnd(context.Background(), topic, 0, 1)
		t.Errorf("a single compressed batch of 100 records past max_batch_bytes was never skipped: the record after it was not delivered in 30 s "+
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
