package queue

// Fault test from a review of the router's memory bounds; it failed before the
// fix (Expected: what holds now; Actual: what it did).

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// liveHeapAfterGC returns the live heap after two collections.
func liveHeapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestDecoderInternKeepsLongSourceTypes
//
// Fault: the queue's forwarder (queue.go run) makes one decoder for the
// life of the queue, and decoder.intern (codec.go) keeps up to 4096
// distinct source types as map keys with no bound on their length. The
// source type is the sender's: a HEC envelope's "sourcetype" (or a _bulk
// _index, or event.dataset) is taken as it is, bounded only by
// max_event_bytes (1 MiB by default). Every source type an event ever
// carried through a destination queue therefore stays in the heap until
// the router restarts, long after the events were delivered: up to 4096 x
// 1 MiB = 4 GiB per destination (every event goes through at least the
// archive's queue).
//
// Sequence: 100 batches, each one event whose source type is a distinct
// 256 KiB string, are written to a disk queue and delivered; the test
// keeps no reference to them.
//
// Expected: once delivered, the queue holds none of it (docs: the router's
// own memory is "bounded by configuration (per destination about
// max_in_flight × batch_bytes × 2, the dedup budget, ...)"; nothing in it
// grows with the source types ever seen). The engine's own per-source-type
// label cache and the OpenSearch sink cut source types to a bounded length
// for the same reason. Allowed here: 8 MiB.
//
// Actual: ~25 MiB (100 x 256 KiB) stays live after delivery and GC; it
// grows with every new long source type up to 4096 of them per queue.
//
// Severity: medium-high: any token holder (or a misconfigured shipper
// whose sourcetype template expands to the message) makes every queue
// pin memory that is never given back, toward an OOM kill of a pod sized
// by the documented bounds (512 MiB sidecar).
func TestDecoderInternKeepsLongSourceTypes(t *testing.T) {
	e := newEnv(t, wal.OS, Config{})
	defer e.close()
	const n, stLen = 100, 256 << 10
	before := liveHeapAfterGC()
	for i := 0; i < n; i++ {
		b := pipeline.NewBatch()
		st := fmt.Sprintf("%03d", i) + strings.Repeat("s", stLen)
		b.Commit(append(b.Arena(), fmt.Sprintf(`{"i":%d}`, i)...), pipeline.Event{Priority: pipeline.P3, Time: 1, Ingest: 1, Hash: uint64(i + 1), SourceType: st, Rule: -1})
		if err := e.q.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	e.waitIdle()
	if got := len(e.sink.delivered()); got != n {
		t.Fatalf("delivered %d of %d", got, n)
	}
	after := liveHeapAfterGC()
	grown := int64(after) - int64(before)
	t.Logf("live heap grew by %d KiB after %d events with distinct %d-byte source types were delivered", grown>>10, n, stLen)
	if grown > 8<<20 {
		t.Errorf("the queue keeps %d MiB of live heap after delivering everything: the decoder interns every source type whole (up to 4096 of them, any length)", grown>>20)
	}
}

// TestMemoryQueueHoldsTwiceMaxBytes
//
// Fault: in mode memory a queue's segments are wal.MemFS files, and
// memFile.Write grows a file's buffer to max(end, 2*cap) (internal/wal
// fs.go). A segment is rolled when the next record would pass
// segment_bytes (4 MiB), so its buffer ends anywhere between 1x and 2x of
// what it holds: with records whose size makes the doubling overshoot
// (here ~4 KiB events, one per write, as a steady trickle of single
// syslog or HEC events makes) every 4 MiB segment sits in an 8 MiB buffer.
// Queue.Size (what max_bytes is checked against) counts the bytes written,
// not the buffers, so a full memory queue holds about twice max_bytes.
//
// Sequence: memory queue, max_bytes 16 MiB, the destination down (every
// delivery fails), max_in_flight 1 and batch_events 1 (so deliveries hold
// almost nothing); single-event writes of ~4 KiB until the queue answers
// full.
//
// Expected: config.go SegmentBytes: "4 MiB in memory mode: a segment's
// memory is freed only once every event in it is delivered, and a growing
// in-memory segment reallocates, so small segments keep memory close to
// what is queued"; docs/performance.md: "Memory mode holds what is queued
// in the heap". Operators size the pod from max_bytes (an OOM kill loses
// every event of a memory queue). Allowed: 1.25 x max_bytes + 2 MiB.
//
// Actual: ~32 MiB of live heap for 16 MiB queued (2x), for every
// destination's queue.
//
// Severity: medium (memory mode: the pod is OOM-killed at about half the
// queued bytes its configuration allows, losing what the queues held).
func TestMemoryQueueHoldsTwiceMaxBytes(t *testing.T) {
	const maxBytes = 16 << 20
	e := newEnv(t, wal.NewVolatileFS(), Config{Mode: "memory", MaxBytes: maxBytes, MaxInFlight: 1, BatchEvents: 1})
	defer func() {
		// A memory queue closed with events in it waits for them until the
		// deadline: they are lost by design here.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_ = e.q.Close(ctx)
	}()
	e.sink.setFail(func(*pipeline.Batch) error { return errors.New("destination down") })
	before := liveHeapAfterGC()
	var err error
	writes := 0
	for ; err == nil && writes < 100000; writes++ {
		b := pipeline.NewBatch()
		raw := fmt.Sprintf(`{"i":%d,"p":"%s"}`, writes, strings.Repeat("x", 4000))
		b.Commit(append(b.Arena(), raw...), pipeline.Event{Priority: pipeline.P3, Time: 1, Ingest: 1, Hash: uint64(writes + 1), SourceType: "st", Rule: -1})
		err = e.q.Write(context.Background(), b)
		b.Release()
	}
	if err == nil {
		t.Fatal("the queue never filled")
	}
	after := liveHeapAfterGC()
	var queued int64
	for _, s := range e.q.subs {
		if s != nil {
			queued += s.log.Size()
		}
	}
	grown := int64(after) - int64(before)
	t.Logf("%d writes until full (%v); %d KiB queued, live heap grew %d KiB", writes, err, queued>>10, grown>>10)
	if limit := int64(maxBytes)*5/4 + 2<<20; grown > limit {
		t.Errorf("a full memory queue of max_bytes %d MiB holds %d MiB of heap (%.2fx what is queued): in-memory segments grow by doubling", maxBytes>>20, grown>>20, float64(grown)/float64(queued))
	}
}
