package kafka

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/logrouter/logrouter/pipeline"
)

// TestKafkaCompressedBatchOverTopicLimitCollapses: a topic whose
// max.message.bytes is 16 KiB, and the destination configured as the
// package documentation says (max_message_bytes at or below the topic's
// max.message.bytes; batch_bytes left at its default, which Validate
// accepts since it is at least max_message_bytes; compression zstd, the
// default). Every event is 200 bytes: each fits the topic on its own. But
// one partition's request holds up to batch_bytes (1 MiB) of them, which
// compressed is still far above 16 KiB, so the broker refuses the request
// with MESSAGE_TOO_LARGE. The sink then only "isolates" the first 64
// messages (maxIsolated) and reports every other event retryable; the
// queue retries those after its backoff (200 ms doubling to retry_max, 30 s)
// and the next Write again delivers only 64. Observed: one Write of 1000
// valid events stores 64 and fails 936; delivering a backlog takes minutes
// per thousand events while input keeps coming (the queue fills, the edge
// answers 429). Expected: a request refused as too large for its size is
// split into requests that fit, so that every event that fits a record on
// its own is delivered by the Write.
func TestKafkaCompressedBatchOverTopicLimitCollapses(t *testing.T) {
	c := newCluster(t)
	if err := c.CreateTopic("small", 1, map[string]string{"max.message.bytes": "16384"}); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, c, Config{Topic: "small", MaxMessageBytes: 16384})
	const n = 1000
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	evs := make([]ev, n)
	for i := range evs {
		pad := make([]byte, 180)
		for j := range pad {
			pad[j] = alphabet[rng.IntN(len(alphabet))]
		}
		evs[i] = ev{raw: fmt.Sprintf(`{"i":%d,"blob":"%s"}`, i, pad), hash: uint64(i + 1), prio: pipeline.P3}
	}
	b := mkBatch(evs...)
	defer b.Release()
	err := s.Write(context.Background(), b)
	got := stored(c, "small")
	var be *pipeline.BatchError
	failed := 0
	if errors.As(err, &be) {
		failed = len(be.Items)
	}
	t.Logf("Write: err=%v (failed items %d), records stored %d of %d", err != nil, failed, got, n)
	if err != nil || got != n {
		t.Fatalf("one Write of %d events that each fit the topic stored %d and reported %d failed (retried after the queue's backoff, %d more per attempt): "+
			"a request refused as too large for the topic is not split, only %d of its messages are sent alone",
			n, got, failed, maxIsolated, maxIsolated)
	}
}
