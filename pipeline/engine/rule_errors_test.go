package engine_test

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/valyala/fastjson"

	tu "github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/testutil/testengine"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// TestRuleErrorsCounted: a rule that fails on an event (on expr's VM:
// lower() of a field the event lacks) counts as not matching, and the
// failure is counted in logrouter_rule_errors_total{rule} and logged, so
// that a rule misrouting live traffic shows.
func TestRuleErrorsCounted(t *testing.T) {
	const rulesYAML = "rules:\n  - name: mimikatz\n    priority: P1\n    expr: 'lower(process.name) == \"mimikatz.exe\"'\n"
	var logs bytes.Buffer
	e := testengine.New(t, rulesYAML, &tu.RecordSink{SinkName: "all"}, &tu.MemQuarantine{}, slog.New(slog.NewTextHandler(&logs, nil)))
	w := e.Worker()
	b := pipeline.NewBatch()
	var p fastjson.Parser
	for _, raw := range []string{`{"event":{"action":"x"}}`, `{"process":{"name":"MIMIKATZ.EXE"}}`} {
		v, err := p.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Add(b, v, nil, &normalize.EventMeta{}); err != nil {
			t.Fatal(err)
		}
	}
	e.PutWorker(w)
	if got := []pipeline.Priority{b.Events[0].Priority, b.Events[1].Priority}; got[0] != pipeline.P3 || got[1] != pipeline.P1 {
		t.Errorf("priorities %v, want [P3 P1]", got)
	}
	b.Release()
	if n := testutil.ToFloat64(e.Metrics().RuleErrors.WithLabelValues("mimikatz")); n != 1 {
		t.Errorf("logrouter_rule_errors_total{rule=mimikatz} = %v, want 1", n)
	}
	if !bytes.Contains(logs.Bytes(), []byte("rule=mimikatz")) {
		t.Errorf("the failure was not logged: %s", logs.String())
	}
}
