package engine

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"strings"
	"testing"
	"time"

	tu "github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/dedup"
)

// TestDedupSourceTypeLabelLength: input: a sender repeats an event
// whose source type (HEC "sourcetype", bulk "_index", event.dataset: chosen
// by the sender, and bounded only by max_event_bytes, 1 MiB by default) is
// 256 KiB long. What happens: dedupCounter bounds how MANY source types get
// their own series (1000), but not how long each is: the whole value becomes
// a label of logrouter_dedup_suppressed_events_total, kept for the life of
// the process in the registry and in dedupCtr. 1000 such values keep ~1 GiB
// (at 1 MiB each) and every /metrics scrape renders all of it, which
// Prometheus then refuses or chokes on (label values past its limits); the
// metrics of the whole router become unusable. What should happen: label
// values derived from source types are cut (e.g. to the 255 bytes the
// OpenSearch sink keeps, with a hash suffix to keep them apart), or the
// source type is bounded at ingest. Why it matters: series count and series
// size are both cardinality; the count bound alone does not bound memory or
// the exposition's size.
func TestDedupSourceTypeLabelLength(t *testing.T) {
	e := newEngine(t, Config{}, &tu.RecordSink{SinkName: "archive"}, &tu.RecordSink{SinkName: "siem"}, &tu.RecordSink{SinkName: "opensearch"})
	defer func() { _ = e.Close(context.Background()) }()
	e.EnableDedup(dedup.Config{Enabled: true, Window: time.Minute, MaxBytes: 1 << 20, Scope: "global"})
	st := strings.Repeat("x", 256<<10)
	mk := func() *pipeline.Batch {
		b := pipeline.NewBatch()
		b.Meta.Input = "test"
		a := append(b.Arena(), `{"m":1}`...)
		b.Commit(a, pipeline.Event{Priority: pipeline.P3, Rule: -1, Key: 42, SourceType: st})
		return b
	}
	for i := 0; i < 2; i++ {
		if err, _ := emit(t, e, mk()); err != nil {
			t.Fatal(err)
		}
	}
	mfs, err := e.m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "logrouter_dedup_suppressed_events_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if n := len(lp.GetValue()); n > 1024 {
					t.Errorf("label %s of logrouter_dedup_suppressed_events_total is %d bytes long (the sender's source type as is): series size is unbounded", lp.GetName(), n)
				}
			}
		}
		return
	}
	t.Fatal("the repeat was not counted in logrouter_dedup_suppressed_events_total")
}
