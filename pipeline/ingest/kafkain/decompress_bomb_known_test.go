package kafkain

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logrouter/logrouter/pipeline/engine"
)

// TestReviewSecCompressedRecordBatchDecompressedUnbounded: the broker
// bounds a fetch by its compressed size (fetch_max_bytes) and the input
// bounds a record (max_message_bytes) only once kafka-go has returned it;
// kafka-go decompresses a whole compressed record batch into one
// bytes.Buffer with no limit (message_reader.go: r.decompressed.ReadFrom),
// then copies the record's value out. So a producer to a consumed topic (an
// edge instance's credentials are enough) sends a batch of a few KiB whose
// zstd data expands to gigabytes: every gateway replica that owns the
// partition allocates it before max_message_bytes is checked, is OOM-killed,
// and, since nothing was committed, reads the same batch again after the
// restart: a crash loop that stops the partition for good.
//
// Measured small: one record of 16 MiB of '0' (zstd: ~1.8 KiB on the wire)
// with max_message_bytes 64 KiB and fetch_max_bytes 1 MiB, against a small
// record consumed the same way. Expected: what a record costs bounded near
// max_message_bytes + fetch_max_bytes (a decompressing reader cut at the
// bound); observed: ~88 MiB, five times the decompressed size.
func TestCompressedRecordBatchDecompressedUnbounded(t *testing.T) {
	t.Skip("known limitation, not fixed: kafka-go decompresses a whole record batch into memory (message_reader.go) before a record's size is known; bounding it needs a bounded codec and a way to skip the batch, which kafka-go's Reader does not offer (see the closing note)")
	const maxMsg, fetchMax = 64 << 10, 1 << 20
	// consume produces values (zstd, one batch each) to a new topic, then
	// starts a consumer and returns what the process allocated from its
	// start until the last value reached the destination.
	consume := func(topic string, values ...[]byte) uint64 {
		broker := faultBroker(t, topic, 1)
		for _, v := range values {
			tr := &kafka.Transport{}
			w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: topic, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond,
				BatchBytes: 64 << 20, Compression: kafka.Zstd, Transport: tr,
				Balancer: kafka.BalancerFunc(func(kafka.Message, ...int) int { return 0 })}
			if err := w.WriteMessages(context.Background(), kafka.Message{Value: v}); err != nil {
				t.Fatal(err)
			}
			_ = w.Close()
			tr.CloseIdleConnections()
		}
		cfg := faultConfig(broker, "g-"+topic, topic)
		cfg.MaxMessageBytes = maxMsg
		cfg.FetchMaxBytes = fetchMax
		sink := newFaultSink()
		s, err := New(cfg, faultEngine(t, engine.Config{}, sink), faultLog)
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		faultWait(t, 20*time.Second, "the last record", func() bool { return sink.saw(`"last"`) })
		runtime.ReadMemStats(&after)
		_ = s.Shutdown(context.Background())
		return after.TotalAlloc - before.TotalAlloc
	}
	const bombBytes = 16 << 20
	bomb := append(append([]byte(`{"message":"`), bytes.Repeat([]byte{'0'}, bombBytes)...), `"}`...)
	var enc bytes.Buffer
	zw := kafka.Zstd.Codec().NewWriter(&enc)
	_, _ = zw.Write(bomb)
	_ = zw.Close()
	last := []byte(`{"marker":"last"}`)
	control := consume("control", []byte(`{"message":"small"}`), last)
	withBomb := consume("bomb", bomb, last)
	bomb = nil
	cost := int64(withBomb) - int64(control)
	t.Logf("record of %d MiB, %d bytes zstd: consuming allocated %d MiB; a small record instead: %d MiB", bombBytes>>20, enc.Len(), withBomb>>20, control>>20)
	if bound := int64(maxMsg + fetchMax + 4<<20); cost > bound {
		t.Errorf("one zstd record batch of ~%d bytes (a %d MiB record; max_message_bytes %d, fetch_max_bytes %d) cost the consumer ~%d MiB more than a small record: the batch is decompressed whole, with no bound, before max_message_bytes is checked (kafka-go message_reader.go r.decompressed.ReadFrom; pipeline/ingest/kafkain/source.go bounds neither the decompressed batch nor the record before it is allocated)",
			enc.Len(), bombBytes>>20, maxMsg, fetchMax, cost>>20)
	}
}
