package opensearch

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/logrouter/logrouter/pipeline"
)

// TestIndexExplosionBounded sends, as one HEC request could, 300 events whose
// source type (fw0..fw6) and time (1990-01-01 onwards, 37 days apart) the
// sender chose. With the default index "logs-{source_type}-{yyyy.MM.dd}" the
// sink used to take both verbatim, so this one batch created 300 indices
// (logs-fw0-1990.01.01 ... logs-fw6-2019.09.07): enough such requests reach
// cluster.max_shards_per_node, after which OpenSearch refuses new indices and
// indexing stops for every source, and any sender could backdate events into
// any daily index. Now an event more than index_date_max_age before (or
// index_date_max_future after) its ingest time is indexed under the ingest
// day, so the batch makes one index per source type.
func TestIndexExplosionBounded(t *testing.T) {
	e := newEnv(t, Config{})
	e.srv.SetAutoCreate(true)
	const n = 300
	ingest := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	base := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	b := pipeline.NewBatch()
	defer b.Release()
	for i := range n {
		raw := fmt.Sprintf(`{"message":"x","n":%d}`, i)
		b.Commit(append(b.Arena(), raw...), pipeline.Event{
			Hash: uint64(i + 1), SourceType: fmt.Sprintf("fw%d", i%7), Priority: pipeline.P2,
			Time: base.AddDate(0, 0, i*37).UnixNano(), Ingest: ingest.UnixNano(), Rule: -1,
		})
	}
	if err := e.sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	idx := e.srv.Indices()
	if len(e.srv.Docs()) != n {
		t.Fatalf("%d documents indexed, want %d", len(e.srv.Docs()), n)
	}
	if len(idx) != 7 {
		t.Fatalf("one %d-event batch created %d indices (sender-chosen source type and date): %v ... %v", n, len(idx), idx[0], idx[len(idx)-1])
	}
	for _, name := range idx {
		if name[len(name)-len("2026.11.29"):] != "2026.11.29" {
			t.Fatalf("index %s: want the ingest day 2026.11.29", name)
		}
	}
}

// limitBatch returns a batch with one event per (source type, time) pair,
// ingested at ingest.
func limitBatch(ingest time.Time, evs ...limitEvent) *pipeline.Batch {
	b := pipeline.NewBatch()
	for i, ev := range evs {
		raw := fmt.Sprintf(`{"message":"x","n":%d}`, i)
		b.Commit(append(b.Arena(), raw...), pipeline.Event{
			Hash: uint64(i + 1), SourceType: ev.st, Priority: pipeline.P2,
			Time: ev.t.UnixNano(), Ingest: ingest.UnixNano(), Rule: -1,
		})
	}
	return b
}

type limitEvent struct {
	st string
	t  time.Time
}

// indexOf returns the index name of encoded item i.
func indexOf(e *encoder, i int) string {
	line := string(e.body[e.offs[i]:e.offs[i+1]])
	const k = `"_index":"`
	line = line[strings.Index(line, k)+len(k):]
	return line[:strings.IndexByte(line, '"')]
}

func TestIndexDateClampEdges(t *testing.T) {
	ingest := time.Date(2026, 11, 29, 0, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		t       time.Time
		index   string
		clamped bool
	}{
		{"on time", ingest, "logs-fw-2026.11.29", false},
		{"late, within days", ingest.Add(-3 * 24 * time.Hour), "logs-fw-2026.11.26", false},
		{"exactly max age", ingest.Add(-DefaultIndexDateMaxAge), "logs-fw-2026.11.22", false},
		{"just over max age", ingest.Add(-DefaultIndexDateMaxAge - 1), "logs-fw-2026.11.29", true},
		{"from 1990", time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), "logs-fw-2026.11.29", true},
		{"before 1970", time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC), "logs-fw-2026.11.29", true},
		{"yesterday by clock skew", ingest.Add(-31 * time.Minute), "logs-fw-2026.11.28", false},
		{"exactly max future", ingest.Add(DefaultIndexDateMaxFuture), "logs-fw-2026.11.29", false},
		{"just over max future", ingest.Add(DefaultIndexDateMaxFuture + 1), "logs-fw-2026.11.29", true},
		{"next year", ingest.AddDate(1, 0, 0), "logs-fw-2026.11.29", true},
	} {
		b := limitBatch(ingest, limitEvent{"fw", c.t})
		e := new(encoder)
		e.encode(testNamer(t, DefaultIndex), OpCreate, b)
		if got := indexOf(e, 0); got != c.index || (e.clamped == 1) != c.clamped {
			t.Errorf("%s (%s): index %s clamped %d, want %s clamped %v", c.name, c.t, got, e.clamped, c.index, c.clamped)
		}
		if !strings.HasSuffix(string(e.body), `{"message":"x","n":0}`+"\n") {
			t.Errorf("%s: the document changed: %s", c.name, e.body)
		}
		b.Release()
	}

	// Configured windows, and the hour of an hourly index.
	cfg := Config{Index: "logs-{yyyy.MM.dd.HH}", IndexDateMaxAge: 2 * time.Hour, IndexDateMaxFuture: time.Minute}
	cfg.SetDefaults()
	tmpl, _ := parseIndexTemplate(cfg.Index)
	nm := newNamer(cfg, tmpl, nil, nil)
	b := limitBatch(ingest,
		limitEvent{"a", ingest.Add(-2 * time.Hour)},
		limitEvent{"a", ingest.Add(-2*time.Hour - time.Nanosecond)},
		limitEvent{"a", ingest.Add(time.Minute)},
		limitEvent{"a", ingest.Add(time.Minute + time.Nanosecond)},
	)
	defer b.Release()
	e := new(encoder)
	e.encode(nm, OpCreate, b)
	want := []string{"logs-2026.11.28.22", "logs-2026.11.29.00", "logs-2026.11.29.00", "logs-2026.11.29.00"}
	for i, w := range want {
		if got := indexOf(e, i); got != w {
			t.Errorf("hourly, event %d: %s, want %s", i, got, w)
		}
	}
	if e.clamped != 2 {
		t.Errorf("hourly: %d clamped, want 2", e.clamped)
	}

	// Without Event.Ingest the batch's ingest time is the reference, and
	// without that the time of the Write.
	b2 := limitBatch(time.Unix(0, 0), limitEvent{"fw", time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)})
	defer b2.Release()
	b2.Events[0].Ingest = 0
	b2.Meta.IngestTime = ingest.UnixNano()
	e.encode(testNamer(t, DefaultIndex), OpCreate, b2)
	if got := indexOf(e, 0); got != "logs-fw-2026.11.29" || e.clamped != 1 {
		t.Errorf("batch ingest time: %s clamped %d", got, e.clamped)
	}
	b2.Meta.IngestTime = 0
	today := "logs-fw-" + time.Now().UTC().Format("2006.01.02")
	e.encode(testNamer(t, DefaultIndex), OpCreate, b2)
	later := "logs-fw-" + time.Now().UTC().Format("2006.01.02") // the Write may cross midnight UTC
	if got := indexOf(e, 0); (got != today && got != later) || e.clamped != 1 {
		t.Errorf("no ingest time: %s clamped %d, want %s (today)", got, e.clamped, later)
	}

	// Without a date in the index nothing is clamped.
	e.encode(testNamer(t, "logs-{source_type}"), OpCreate, b2)
	if got := indexOf(e, 0); got != "logs-fw" || e.clamped != 0 {
		t.Errorf("no date: %s clamped %d", got, e.clamped)
	}

	// The window's ends saturate instead of overflowing.
	wide := &namer{maxAge: int64(maxIndexDateWindow), maxFuture: int64(maxIndexDateWindow)}
	for _, c := range []struct{ ns, ref, want int64 }{
		{math.MaxInt64, math.MaxInt64 - 1, math.MaxInt64},
		{math.MinInt64, math.MinInt64 + 1, math.MinInt64},
		{math.MinInt64, ingest.UnixNano(), ingest.UnixNano()},
	} {
		if got, _ := wide.indexTime(c.ns, c.ref); got != c.want {
			t.Errorf("indexTime(%d, %d) = %d, want %d", c.ns, c.ref, got, c.want)
		}
	}
}

// TestIndexDateClampSink checks the metric and the indices of a sink.
func TestIndexDateClampSink(t *testing.T) {
	e := newEnv(t, Config{})
	ingest := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	b := limitBatch(ingest,
		limitEvent{"fw", ingest},
		limitEvent{"fw", ingest.Add(-48 * time.Hour)},
		limitEvent{"fw", ingest.AddDate(-5, 0, 0)},
		limitEvent{"fw", ingest.AddDate(0, 0, 3)},
	)
	defer b.Release()
	if err := e.sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if got := e.srv.Indices(); !slices.Equal(got, []string{"logs-fw-2026.11.27", "logs-fw-2026.11.29"}) {
		t.Fatalf("indices %v", got)
	}
	if n := promtest.ToFloat64(e.m.IndexDateClamped.WithLabelValues("os")); n != 2 {
		t.Fatalf("clamped events counted %v, want 2", n)
	}
	if d, ok := e.srv.Doc("logs-fw-2026.11.29", DocumentID(3)); !ok || !strings.Contains(string(d.Source), `"n":2`) {
		t.Fatalf("the 5-year-old event is not in today's index unchanged: %+v %v", d, ok)
	}
}

// TestIndexSourceTypeCap checks max_index_source_types: the first source
// types keep their own names, later ones go to "other", counted and logged
// once each.
func TestIndexSourceTypeCap(t *testing.T) {
	e := newEnv(t, Config{MaxIndexSourceTypes: 3})
	ingest := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	write := func(types ...string) {
		t.Helper()
		var evs []limitEvent
		for _, st := range types {
			evs = append(evs, limitEvent{st, ingest})
		}
		b := limitBatch(ingest, evs...)
		defer b.Release()
		if err := e.sink.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	// "FW" and "fw" make the same index name: one source type.
	write("fw", "FW", "linux.auth", "okta", "evil1", "okta", "evil1", "evil2")
	if got := e.srv.Indices(); !slices.Equal(got, []string{"logs-fw-2026.11.29", "logs-linux.auth-2026.11.29", "logs-okta-2026.11.29", "logs-other-2026.11.29"}) {
		t.Fatalf("indices %v", got)
	}
	if n := e.srv.Count("logs-other-2026.11.29"); n != 3 {
		t.Fatalf("%d events in logs-other, want 3", n)
	}
	overflow := func() float64 { return promtest.ToFloat64(e.m.IndexSourceTypeOverflow.WithLabelValues("os")) }
	if n := overflow(); n != 3 {
		t.Fatalf("overflow counted %v, want 3", n)
	}
	if n := promtest.ToFloat64(e.m.IndexSourceTypes.WithLabelValues("os")); n != 3 {
		t.Fatalf("source types gauge %v, want 3", n)
	}
	logs := e.logs.String()
	if strings.Count(logs, "level=WARN") != 1 || !strings.Contains(logs, "source_type=evil1") {
		t.Fatalf("want one warning, for evil1 (evil2 came within the same second):\n%s", logs)
	}
	// Admitted types keep their names; a type already logged is not logged
	// again; a new one is, once the rate limit allows, with the count of
	// those not logged.
	e.sink.namer.types.lastWarn.Store(0)
	write("okta", "evil1", "evil2", "evil3")
	logs = e.logs.String()
	if strings.Count(logs, "level=WARN") != 2 || !strings.Contains(logs, "source_type=evil3") || !strings.Contains(logs, "overflowed_types_not_logged=1") {
		t.Fatalf("want a second warning, for evil3, counting evil2:\n%s", logs)
	}
	if n := overflow(); n != 6 {
		t.Fatalf("overflow counted %v, want 6", n)
	}
	if n := e.srv.Count("logs-okta-2026.11.29"); n != 3 {
		t.Fatalf("%d events in logs-okta, want 3", n)
	}
}

// TestIndexSourceTypeCapReplayed: a replayed event (a refusal sent back as
// written) keeps its source type's index even past the cap, as after a
// restart that rebuilt the admitted set in another order; it does not take
// a place in the set, and an event of the same type in the same batch that
// is not replayed still goes to "other".
func TestIndexSourceTypeCapReplayed(t *testing.T) {
	e := newEnv(t, Config{MaxIndexSourceTypes: 1})
	ingest := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	b := limitBatch(ingest, limitEvent{"fw", ingest}, limitEvent{"okta", ingest}, limitEvent{"okta", ingest}, limitEvent{"linux.auth", ingest})
	b.Events[1].Replayed = true
	b.Events[3].Replayed = true
	defer b.Release()
	if err := e.sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	want := []string{"logs-fw-2026.11.29", "logs-linux.auth-2026.11.29", "logs-okta-2026.11.29", "logs-other-2026.11.29"}
	if got := e.srv.Indices(); !slices.Equal(got, want) {
		t.Fatalf("indices %v, want %v", got, want)
	}
	if e.srv.Count("logs-okta-2026.11.29") != 1 || e.srv.Count("logs-other-2026.11.29") != 1 {
		t.Fatalf("okta: %d (want the replayed one), other: %d (want the other okta)", e.srv.Count("logs-okta-2026.11.29"), e.srv.Count("logs-other-2026.11.29"))
	}
	if n := promtest.ToFloat64(e.m.IndexSourceTypes.WithLabelValues("os")); n != 1 {
		t.Fatalf("source types gauge %v, want 1 (replayed events take no place)", n)
	}
}

// TestIndexSourceTypeCapDefault sends 300 distinct source types (as a
// sender inventing them would) to a sink with the defaults: 200 indices of
// their own, the rest in "other".
func TestIndexSourceTypeCapDefault(t *testing.T) {
	e := newEnv(t, Config{})
	ingest := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	var evs []limitEvent
	for i := range 300 {
		evs = append(evs, limitEvent{fmt.Sprintf("Invented-%03d", i), ingest})
	}
	b := limitBatch(ingest, evs...)
	defer b.Release()
	if err := e.sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if n := len(e.srv.Indices()); n != DefaultMaxIndexSourceTypes+1 {
		t.Fatalf("%d indices, want %d", n, DefaultMaxIndexSourceTypes+1)
	}
	if n := e.srv.Count("logs-other-2026.11.29"); n != 100 {
		t.Fatalf("%d events in logs-other, want 100", n)
	}
	if len(e.srv.Docs()) != 300 {
		t.Fatalf("%d documents, want 300", len(e.srv.Docs()))
	}
}

// TestSourceTypesConcurrent admits source types from many goroutines: the
// cap holds exactly, and every name gets one answer.
func TestSourceTypesConcurrent(t *testing.T) {
	s := &sourceTypes{limit: 50, admitted: map[string]struct{}{}, warned: map[string]struct{}{}, log: slog.New(slog.DiscardHandler)}
	var wg sync.WaitGroup
	answers := make([][]bool, 8)
	for g := range answers {
		answers[g] = make([]bool, 200)
		wg.Go(func() {
			for i := range 200 {
				answers[g][i] = s.admit(fmt.Appendf(nil, "t%d", (i+g*25)%200))
			}
		})
	}
	wg.Wait()
	if len(s.admitted) != 50 {
		t.Fatalf("%d admitted, want 50", len(s.admitted))
	}
	for g := range answers {
		for i, ok := range answers[g] {
			_, in := s.admitted[fmt.Sprintf("t%d", (i+g*25)%200)]
			if ok != in {
				t.Fatalf("goroutine %d, t%d: admit said %v, the set says %v", g, (i+g*25)%200, ok, in)
			}
		}
	}
}

// TestEncodeLimitsAllocateNothing: clamped dates and source types over the
// cap cost no allocation once the sink has seen them.
func TestEncodeLimitsAllocateNothing(t *testing.T) {
	cfg := Config{MaxIndexSourceTypes: 2}
	cfg.SetDefaults()
	tmpl, _ := parseIndexTemplate(cfg.Index)
	nm := newNamer(cfg, tmpl, slog.New(slog.DiscardHandler), nil)
	ingest := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	var evs []limitEvent
	for i := range 500 {
		evs = append(evs, limitEvent{fmt.Sprintf("st%d", i%20), time.Date(1990+i%30, 1, 1, 0, 0, 0, 0, time.UTC)})
	}
	b := limitBatch(ingest, evs...)
	defer b.Release()
	e := new(encoder)
	e.encode(nm, OpCreate, b)
	if e.clamped != 500 || e.overflowed != 450 {
		t.Fatalf("clamped %d overflowed %d, want 500 and 450", e.clamped, e.overflowed)
	}
	if n := testing.AllocsPerRun(20, func() { e.encode(nm, OpCreate, b) }); n != 0 {
		t.Fatalf("encode allocates %.1f times per batch", n)
	}
}
