package engine

import (
	"testing"
	"testing/fstest"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/valyala/fastjson"

	tu "github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/route"
	"github.com/logrouter/logrouter/rules"
)

// TestReload: a reload classifies the next batches with the new rules;
// workers of the old rules are replaced by Refresh and not pooled again;
// rule counters continue by name (a rule renamed gets a new series, the
// old one keeps its count); a router with other destinations is refused.
func TestReload(t *testing.T) {
	arch, siem := &tu.RecordSink{SinkName: "archive"}, &tu.RecordSink{SinkName: "siem"}
	e := newEngine(t, Config{}, arch, siem, &tu.RecordSink{SinkName: "opensearch"})
	defer e.Close(t.Context())
	load := func(files fstest.MapFS) *route.Router {
		t.Helper()
		set, err := rules.Load(files, ".", pipeline.P3)
		if err != nil {
			t.Fatal(err)
		}
		r := *e.Router()
		r.Rules, r.RuleIDs = set, nil
		return &r
	}
	send := func(id string) {
		t.Helper()
		w := e.Worker()
		b := pipeline.NewBatch()
		defer b.Release()
		v, err := fastjson.Parse(`{"kind":"` + id + `"}`)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Add(b, v, nil, &normalize.EventMeta{}); err != nil {
			t.Fatal(err)
		}
		e.PutWorker(w)
		if err, _ := emit(t, e, b); err != nil {
			t.Fatal(err)
		}
	}
	rule := func(name, kind string) fstest.MapFS {
		return fstest.MapFS{"r.yaml": {Data: []byte("rules:\n  - name: " + name + "\n    priority: P1\n    expr: kind == \"" + kind + "\"\n")}}
	}
	if err := e.Reload(load(rule("a", "x"))); err != nil {
		t.Fatal(err)
	}
	old := e.Worker()
	send("x")
	if err := e.Reload(load(rule("b", "y"))); err != nil {
		t.Fatal(err)
	}
	if e.Refresh(old) == old {
		t.Error("Refresh kept a worker of the rules before the reload")
	}
	e.PutWorker(old) // dropped, not pooled
	if w := e.Worker(); w == old {
		t.Error("a worker of replaced rules came back from the pool")
	}
	send("x") // no rule: default
	send("y")
	if n := len(siem.Events()); n != 2 {
		t.Errorf("siem got %d events (%s), want 2: x under rule a, y under rule b", n, raws(siem.Events()))
	}
	for rule, want := range map[string]float64{"a": 1, "b": 1, "default": 1} {
		if v := testutil.ToFloat64(e.m.RuleMatches.WithLabelValues(rule)); v != want {
			t.Errorf("rule %s counted %v, want %v", rule, v, want)
		}
	}
	other, err := route.NewTable([]string{"archive", "siem"}, nil, []string{"archive"})
	if err != nil {
		t.Fatal(err)
	}
	r := load(rule("c", "z"))
	r.Table = other
	if err := e.Reload(r); err == nil {
		t.Error("a reload with other destinations was accepted")
	}
}
