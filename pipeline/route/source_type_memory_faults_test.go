package route_test

// Fault test from a review of the router's memory bounds; it failed before the
// fix (Expected: what holds now; Actual: what it did).

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/testutil/testengine"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

func liveHeapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestWorkerInternKeepsLongSourceTypes
//
// Fault: Normalizer.intern (normalize.go) keeps up to maxInterned (4096)
// distinct source types per Normalizer as map keys, of any length. The
// source type is the sender's (a HEC envelope's "sourcetype", an edge
// event's event.dataset on the gateway's Kafka input), bounded only by
// max_event_bytes / max_message_bytes (1 MiB). Workers that sources keep
// for a long time hold it all that time: a Kafka partition keeps its
// worker for as long as it is assigned (kafkain source.go), a syslog
// connection for its life (syslog server.go newStream). So one worker can
// pin 4096 x 1 MiB = 4 GiB, and a gateway has one per partition.
//
// Sequence: one worker (as a partition or a connection holds it) adds 100
// events, each with a distinct 256 KiB source type, once as a HEC
// envelope's sourcetype (EventMeta.SourceType) and once as the event.dataset
// of an edge-normalized event (EventMeta.Normalized, the gateway's Kafka
// path); each batch is released, the worker kept.
//
// Expected: a worker's memory does not grow with the source types it has
// seen beyond a bounded table (the docs bound the router's memory by
// configuration: batch sizes, max_in_flight, the dedup budget; the
// engine's per-source-type counter cache and the OpenSearch sink cut
// source types to a bounded length). Allowed: 8 MiB for 200 events.
//
// Actual: ~50 MiB stays live in the worker (every source type whole).
//
// Severity: medium: any sender that can set a source type makes
// long-lived workers pin memory until restart, toward an OOM kill.
func TestWorkerInternKeepsLongSourceTypes(t *testing.T) {
	w := testengine.Router(t, "", normalize.DefaultConfig(), "archive").NewWorker()
	const n, stLen = 100, 256 << 10
	add := func(obj string, m *normalize.EventMeta, want int) {
		b := pipeline.NewBatch()
		b.Meta.Input = "test"
		if err := w.Add(b, fastjson.MustParse(obj), nil, m); err != nil {
			t.Fatal(err)
		}
		if len(b.Events) != 1 || len(b.Events[0].SourceType) != want {
			t.Fatalf("%d events, source type %d bytes", len(b.Events), len(b.Events[0].SourceType))
		}
		b.Release()
	}
	add(`{"message":"warm"}`, &normalize.EventMeta{Time: 1, SourceType: []byte("warm")}, 4)
	before := liveHeapAfterGC()
	for i := 0; i < n; i++ {
		st := fmt.Sprintf("h%03d", i) + strings.Repeat("s", stLen)
		add(`{"message":"x"}`, &normalize.EventMeta{Time: 1, SourceType: []byte(st)}, normalize.MaxSourceTypeBytes)
		st = fmt.Sprintf("k%03d", i) + strings.Repeat("s", stLen)
		add(`{"@timestamp":"2026-01-01T00:00:00Z","message":"x","event":{"dataset":"`+st+`"}}`, &normalize.EventMeta{Normalized: true, KeepOwnLogrouter: true}, normalize.MaxSourceTypeBytes)
	}
	after := liveHeapAfterGC()
	runtime.KeepAlive(w)
	grown := int64(after) - int64(before)
	t.Logf("live heap grew by %d KiB while the worker saw %d distinct %d-byte source types", grown>>10, 2*n, stLen)
	if grown > 8<<20 {
		t.Errorf("one worker keeps %d MiB of source types it has seen (Normalizer.intern: 4096 of any length)", grown>>20)
	}
}
