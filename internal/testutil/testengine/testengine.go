// Package testengine builds the engine that input tests hand their batches
// to: one destination taking every event, the default normalization and a
// rule file of the test's choosing. (A package of its own: the engine's own
// tests import internal/testutil, which therefore cannot import the engine.)
package testengine

import (
	"context"
	"log/slog"
	"testing"
	"testing/fstest"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/engine"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/route"
	"github.com/logrouter/logrouter/rules"
)

// P1EDR is a rule file that makes event.dataset "edr" P1 (the rest P3).
const P1EDR = "rules:\n  - name: p1\n    priority: P1\n    expr: event.dataset == \"edr\"\n"

// New returns an engine routing every event to sink (destination "all"),
// with the rules of rulesYAML (one file; default priority P3), q as its
// quarantine and log; it is closed when the test ends.
func New(t testing.TB, rulesYAML string, sink pipeline.Sink, q pipeline.Quarantine, log *slog.Logger) *engine.Engine {
	t.Helper()
	e, err := engine.New(engine.Config{}, Router(t, rulesYAML, normalize.DefaultConfig(), "all"), []pipeline.Sink{sink}, q, engine.NewMetrics(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

// Router returns a router with normalization cfg, the rules of rulesYAML
// (one file; "" for none: every event P3) and every priority routed to
// destination dest.
func Router(t testing.TB, rulesYAML string, cfg normalize.Config, dest string) *route.Router {
	t.Helper()
	files := fstest.MapFS{}
	if rulesYAML != "" {
		files["r.yaml"] = &fstest.MapFile{Data: []byte(rulesYAML)}
	}
	set, err := rules.Load(files, ".", pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	norm, err := normalize.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	table, err := route.NewTable([]string{dest}, nil, []string{dest})
	if err != nil {
		t.Fatal(err)
	}
	return &route.Router{Norm: norm, Rules: set, Table: table}
}
