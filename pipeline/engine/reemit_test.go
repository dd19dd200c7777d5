package engine

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	tu "github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/route"
	"github.com/logrouter/logrouter/rules"
)

// TestUnroutedCountedOncePerDelivery: a batch mixing routed (P1) and
// unrouted (P3) events whose destination
// fails is refused (the sender resends it); its unrouted events must not
// be counted dropped on the refused attempt as well as on the resend.
func TestUnroutedCountedOncePerDelivery(t *testing.T) {
	set, err := rules.Load(fstest.MapFS{}, ".", pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	norm, _ := normalize.Compile(normalize.DefaultConfig())
	siem := &tu.RecordSink{SinkName: "siem"}
	table, err := route.NewTable([]string{"siem"}, map[pipeline.Priority][]string{pipeline.P1: {"siem"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{}, &route.Router{Norm: norm, Rules: set, Table: table}, []pipeline.Sink{siem}, &tu.MemQuarantine{}, NewMetrics(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	b := batchOf(pipeline.P1, pipeline.P3)
	siem.Err = errors.New("down")
	if err, _ := emit(t, e, b); err == nil {
		t.Fatal("expected the refusal")
	}
	siem.Err = nil
	if err, _ := emit(t, e, b); err != nil {
		t.Fatal(err)
	}
	in := testutil.ToFloat64(e.m.InputEvents.WithLabelValues("test"))
	refused := testutil.ToFloat64(e.m.InputRefused.WithLabelValues("test"))
	dropped := testutil.ToFloat64(e.m.Dropped.WithLabelValues("route", "no_destination"))
	delivered := float64(len(siem.Events()))
	t.Logf("input %v refused %v delivered %v dropped %v", in, refused, delivered, dropped)
	if dropped != 1 || in-refused != delivered+dropped {
		t.Errorf("dropped no_destination %v, want 1 (input %v - refused %v = %v, delivered %v)", dropped, in, refused, in-refused, delivered)
	}
	_ = e.Close(context.Background())
}

// TestInBatchRepeatsSurviveReEmit: a refused batch re-emitted as is
// (syslog, Kafka) has lost its in-batch
// repeats to removeDuplicates; their count (DedupRepeats) must survive,
// delivered once, on the kept copy.
func TestInBatchRepeatsSurviveReEmit(t *testing.T) {
	e, arch, now := countingEngine(t)
	b := keyedBatch(1, 1, 1)
	arch.Err = errors.New("down")
	if err, _ := emit(t, e, b); err == nil {
		t.Fatal("expected the refusal")
	}
	arch.Err = nil
	if err, _ := emit(t, e, b); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(2 * time.Minute)
	if err, _ := emit(t, e, keyedBatch(1)); err != nil {
		t.Fatal(err)
	}
	evs := arch.Events()
	if got := string(evs[0].Raw); got != `{"k":1,"dedup":{"count":2}}` {
		t.Errorf("kept copy: %s, want the 2 in-batch repeats counted on it", got)
	}
	if got := string(evs[len(evs)-1].Raw); got != `{"k":1}` {
		t.Errorf("kept copy after the window: %s, want no count (the 2 were delivered with the first copy)", got)
	}
}

// TestRefusedRepeatsCountedOnceDeduplicated: the repeats removed from a
// batch that is then refused were counted deduplicated at once (and, in the
// ledger, accepted: input - refused), at every refused attempt: an HTTP
// sender's resend of a refused request counted its repeats again, though
// nothing of the refused attempt was acknowledged. They count as
// deduplicated once, when their batch is accepted; refused with it until
// then, both when the source sends a new copy (HTTP) and when it emits the
// same batch again (syslog, Kafka: the batch carries them).
func TestRefusedRepeatsCountedOnceDeduplicated(t *testing.T) {
	for _, reemit := range []bool{false, true} {
		name := map[bool]string{false: "new copy (HTTP)", true: "same batch (syslog, Kafka)"}[reemit]
		t.Run(name, func(t *testing.T) {
			e, arch, _ := countingEngine(t)
			b := keyedBatch(1, 1, 1) // one event and two in-batch repeats
			arch.Err = errors.New("down")
			if err, _ := emit(t, e, b); err == nil {
				t.Fatal("expected the refusal")
			}
			in := func() float64 { return testutil.ToFloat64(e.m.InputEvents.WithLabelValues("test")) }
			refused := func() float64 { return testutil.ToFloat64(e.m.InputRefused.WithLabelValues("test")) }
			dedupd := func() float64 { return testutil.ToFloat64(e.m.InputDedup.WithLabelValues("test")) }
			if in() != 3 || refused() != 3 {
				t.Fatalf("after the refusal: input %v refused %v, want 3 and 3 (nothing acknowledged)", in(), refused())
			}
			arch.Err = nil
			if !reemit {
				b = keyedBatch(1, 1, 1)
			}
			if err, _ := emit(t, e, b); err != nil {
				t.Fatal(err)
			}
			delivered := float64(len(arch.Events()))
			if in() != 6 || refused() != 3 || dedupd() != 2 || delivered != 1 {
				t.Errorf("input %v refused %v deduplicated %v delivered %v; want 6, 3, 2, 1 (input - refused = deduplicated + delivered)",
					in(), refused(), dedupd(), delivered)
			}
			// The normalized bytes count the batch whole each pass, the
			// repeats an earlier pass removed included: three {"k":1}
			// (7 bytes) a pass; emitted again, the kept copy carries the
			// count its first pass wrote ({"k":1,"dedup":{"count":2}}).
			want := 2 * 3 * 7.0
			if reemit {
				want = 3*7 + 27 + 2*7
			}
			if nb := testutil.ToFloat64(e.m.InputNormBytes.WithLabelValues("test")); nb != want {
				t.Errorf("input normalized bytes %v, want %v", nb, want)
			}
		})
	}
}
