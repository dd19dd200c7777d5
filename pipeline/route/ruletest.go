package route

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog/parse"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/rules"
)

// TestResult is the outcome of one rules.TestCase.
type TestResult struct {
	Case   *rules.TestCase
	Rule   string
	Prio   pipeline.Priority
	Dests  []string
	Output []byte // normalized JSON
	// Diff is empty when the case passed.
	Diff string
}

// testIngestTime is fixed so that rule tests are reproducible.
var testIngestTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()

// RunTests runs rule test cases through normalization and classification.
func (r *Router) RunTests(cases []rules.TestCase) []TestResult {
	w := r.NewWorker()
	var p fastjson.Parser
	out := make([]TestResult, 0, len(cases))
	for i := range cases {
		tc := &cases[i]
		res := TestResult{Case: tc}
		meta := pipeline.Meta{Input: "rules-test", Protocol: "test", IngestTime: testIngestTime}
		em := normalize.EventMeta{SourceType: []byte(tc.SourceType)}
		var obj *fastjson.Value
		var text []byte
		if tc.Syslog.Kind != 0 {
			// As the syslog input of the configuration: its parser's
			// JSON, its own logrouter members kept, its source types.
			in := SyslogInput{SourceType: "syslog"}
			if r.Syslog != nil {
				in = *r.Syslog
			}
			opts := in.Parse
			opts.Now = func() time.Time { return time.Unix(0, testIngestTime) }
			ps := parse.New(opts)
			js, pr := ps.AppendJSON(nil, []byte(tc.Syslog.Value))
			v, err := p.ParseBytes(js)
			if err != nil {
				res.Diff = fmt.Sprintf("the syslog parser's output is not JSON: %v", err)
				out = append(out, res)
				continue
			}
			obj = v
			em.DefaultSourceType, em.KeepOwnLogrouter = []byte(in.SourceType), true
			if st, ok := in.AppTypes[string(pr.App)]; ok && len(em.SourceType) == 0 {
				em.SourceType = []byte(st)
			}
		} else if tc.Text {
			text = tc.JSON
		} else {
			v, err := p.ParseBytes(tc.JSON)
			if err != nil {
				res.Diff = fmt.Sprintf("event is not valid JSON: %v", err)
				out = append(out, res)
				continue
			}
			obj = v
		}
		raw, ev, err := w.Explain(nil, &meta, obj, text, &em)
		if err != nil {
			res.Diff = fmt.Sprintf("event was rejected by normalization: %v", err)
			out = append(out, res)
			continue
		}
		res.Output = raw
		res.Rule = r.Rules.RuleName(int(ev.Rule))
		res.Prio = ev.Priority
		res.Dests = r.Table.Names(ev.Priority)
		res.Diff = diff(tc.Expect, res)
		out = append(out, res)
	}
	return out
}

func diff(want rules.Expect, got TestResult) string {
	var b strings.Builder
	line := func(field, w, g string) {
		fmt.Fprintf(&b, "  %s:\n    - want %s\n    + got  %s\n", field, w, g)
	}
	if want.Priority != "" && !strings.EqualFold(want.Priority, got.Prio.String()) {
		line("priority", want.Priority, got.Prio.String())
	}
	if want.Rule != "" && want.Rule != got.Rule {
		line("rule", want.Rule, got.Rule)
	}
	if want.Destinations != nil {
		w := slices.Clone(want.Destinations)
		slices.Sort(w)
		if !slices.Equal(w, got.Dests) {
			line("destinations", "["+strings.Join(w, ", ")+"]", "["+strings.Join(got.Dests, ", ")+"]")
		}
	}
	return b.String()
}
