package engine

// Fault test from a review of the router's memory bounds; it failed before the
// fix (Expected: what holds now; Actual: what it did).

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/dedup"
)

// discardAllSink accepts everything and keeps nothing.
type discardAllSink struct{ name string }

func (s discardAllSink) Name() string                                 { return s.name }
func (s discardAllSink) Write(context.Context, *pipeline.Batch) error { return nil }
func (s discardAllSink) Close(context.Context) error                  { return nil }

func liveHeapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestDedupCounterCacheKeepsWholeSourceTypes
//
// Fault: TestDedupSourceTypeLabelLength (dedup_label_faults_test.go) found
// that a sender's long source type was kept "in the registry and in
// dedupCtr" (~1 GiB at 1000 x 1 MiB). The fix cut the label (boundLabel),
// but dedupCounter still caches the counter under the whole source type:
// e.dedupCtr[st] = c. The map lives as long as the engine, so up to
// maxDedupSourceTypes (1000) source types of up to max_event_bytes (1 MiB,
// the HEC "sourcetype" is taken whole) stay in the heap for good: ~1 GiB.
//
// Sequence: 100 times, an event with a distinct 256 KiB source type is
// emitted twice (the repeat is dropped by dedup and counted per source
// type); every batch is released and the test keeps no reference.
//
// Expected: what the engine keeps per source type is bounded by the label
// it derives (maxLabelBytes, 128 bytes), as the comment on dedupCounter
// promises ("past 1000 of them, neither the label set nor this cache
// grows") and as the earlier fault asked ("series size ... the count bound
// alone does not bound memory"). Allowed here: 4 MiB.
//
// Actual: ~25 MiB stays live (100 x 256 KiB); 1000 x 1 MiB = 1 GiB at the
// bound, never released before a restart.
//
// Severity: medium: an authenticated sender (any HEC token) pins up to
// 1 GiB of heap with 2000 small requests, past the 512 MiB limit the
// sidecar manifests set.
func TestDedupCounterCacheKeepsWholeSourceTypes(t *testing.T) {
	e := newEngine(t, Config{}, discardAllSink{"archive"}, discardAllSink{"siem"}, discardAllSink{"opensearch"})
	defer func() { _ = e.Close(context.Background()) }()
	e.EnableDedup(dedup.Config{Enabled: true, Window: time.Minute, MaxBytes: 1 << 20, Scope: "global"})
	const n, stLen = 100, 256 << 10
	emitOne := func(st string, key uint64) {
		b := pipeline.NewBatch()
		b.Meta.Input = "test"
		b.Commit(append(b.Arena(), `{"m":1}`...), pipeline.Event{Priority: pipeline.P3, Rule: -1, Key: key, SourceType: st})
		done := make(chan error, 1)
		b.Ack = pipeline.NewAck(func(err error) { done <- err })
		_ = e.Emit(context.Background(), b)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	// One short source type first: the counters and pools exist before
	// the measurement starts.
	emitOne("warm", 1)
	emitOne("warm", 1)
	before := liveHeapAfterGC()
	for i := 0; i < n; i++ {
		st := fmt.Sprintf("%03d", i) + strings.Repeat("t", stLen)
		emitOne(st, uint64(1000+i))
		emitOne(st, uint64(1000+i)) // the repeat: dropped, counted under st
	}
	after := liveHeapAfterGC()
	grown := int64(after) - int64(before)
	t.Logf("live heap grew by %d KiB after %d repeated events with distinct %d-byte source types", grown>>10, n, stLen)
	if grown > 4<<20 {
		t.Errorf("the engine keeps %d MiB after the events are gone: dedupCtr is keyed by the whole source type (up to 1000 of any length)", grown>>20)
	}
}
