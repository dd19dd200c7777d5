package kafkain

import (
	"context"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestCompressedRecordBatchPastMaxBatchBytesSkipped: kafka-go decompresses
// a whole compressed record batch in memory before a record's size is
// known, so a producer to a consumed topic could send a few KiB of zstd
// that expand to gigabytes: every replica owning the partition was
// OOM-killed and read the same batch again after its restart (a review
// measured a 16 MiB record cost ~88 MiB). Now decompression stops at
// max_batch_bytes, and the input skips the batch's offsets, quarantining a
// note naming them: the records around it are delivered, the commit passes
// it, and the heap never holds the expanded batch.
func TestCompressedRecordBatchPastMaxBatchBytesSkipped(t *testing.T) {
	topic := "bomb"
	broker := faultBroker(t, topic, 1)
	faultProduce(t, broker, topic, []byte(`{"message":"first"}`))
	// 64 records of 1 MiB of '0' in one zstd batch of a few KiB: 64 MiB
	// decompressed (a real bomb is gigabytes: the same code path).
	produceBomb(t, broker, topic, 64)
	faultProduce(t, broker, topic, []byte(`{"message":"last"}`))

	s, sink, q := bombSource(t, broker, "g-bomb", topic, "")
	// A low GC target keeps HeapAlloc near the live heap: what is held,
	// not garbage waiting for a collection.
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
		}
	}()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Shutdown(context.Background()) }()
	faultWait(t, 90*time.Second, "the record after the oversized batch", func() bool { return sink.saw(`"last"`) })
	close(stop)
	<-sampled
	if !sink.saw(`"first"`) {
		t.Error("the record before the oversized batch was not delivered")
	}
	var notes []string
	for _, r := range q.Records() {
		if r.Reason == "batch_too_large" {
			notes = append(notes, string(r.Raw))
		}
	}
	if len(notes) != 1 || !strings.Contains(notes[0], `"first_offset":1,"last_offset":64`) {
		t.Errorf("quarantine notes for the skipped batch: %q, want one naming offsets 1-64", notes)
	}
	faultWait(t, 10*time.Second, "the commit past the batch", func() bool { return faultCommitted(t, broker, "g-bomb", topic) == 66 })
	// Unbounded, the batch alone is 64 MiB in kafka-go's buffer (grown by
	// doubling) plus its 64 values copied out: 128 MiB and more. Bounded:
	// ~20 MiB here, ~60 under -race.
	if grew := int64(peak.Load()) - int64(base.HeapAlloc); grew > 100<<20 {
		t.Errorf("the heap grew by %d MiB reading a batch that decompresses to 64 MiB with max_batch_bytes 8 MiB", grew>>20)
	}
}
