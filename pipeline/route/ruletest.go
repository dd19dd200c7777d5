package route

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"sort"
	"strconv"
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
	var p fastjson.Parser // the event
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
			sp := SyslogParser{Parser: parse.New(opts)}
			v, pr, err := sp.Parse([]byte(tc.Syslog.Value), &em)
			if err != nil {
				res.Diff = fmt.Sprintf("  the syslog parser's output is not JSON: %v\n", err)
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
				res.Diff = fmt.Sprintf("  event is not valid JSON: %v\n", err)
				out = append(out, res)
				continue
			}
			obj = v
		}
		// An event that holds several (a batch envelope's records, a
		// Google Workspace activity's events) is split as the inputs
		// split it: each must meet expect, and expect_each's entry.
		res = TestResult{Case: tc}
		parts := 1
		envelopes := tc.Syslog.Kind == 0 // the syslog input splits activities only (Worker.AddAll)
		if obj != nil {
			ps, activity := normalize.Parts(obj)
			if !envelopes {
				ps, activity = normalize.ActivityEvents(obj), true
			}
			if ps != nil {
				parts = normalize.Count(ps, activity)
			}
		}
		if len(tc.ExpectEach) > 0 && len(tc.ExpectEach) != parts {
			res.Diff = fmt.Sprintf("  the event holds %d events (routed one by one), expect_each lists %d\n", parts, len(tc.ExpectEach))
			out = append(out, res)
			continue
		}
		one := func(k, n int, o *fastjson.Value) {
			if k > 0 && res.Diff != "" {
				return // the first part that fails is reported
			}
			res = TestResult{Case: tc}
			raw, ev, err := w.Explain(nil, &meta, o, text, &em)
			if err != nil {
				res.Diff = fmt.Sprintf("  event was rejected by normalization: %v\n", err)
			} else {
				res.Output = raw
				res.Rule = r.Rules.RuleName(int(ev.Rule))
				res.Prio = ev.Priority
				res.Dests = r.Table.Names(ev.Priority)
				res.Diff = diff(tc.Expect, res, w.n.Lookup)
				if len(tc.ExpectEach) > 0 {
					res.Diff += diff(tc.ExpectEach[k], res, w.n.Lookup)
				}
			}
			if res.Diff != "" && n > 1 {
				res.Diff = fmt.Sprintf("  (event %d of the %d it holds)\n%s", k+1, n, res.Diff)
			}
		}
		if obj == nil {
			one(0, 1, nil)
		} else {
			normalize.EachPartOf(obj, envelopes, one)
		}
		out = append(out, res)
	}
	return out
}

// diff compares a case's expectations with its result; rulesView looks a
// field up as the rules read it (before empty values are left out of the
// output).
func diff(want rules.Expect, got TestResult, rulesView func(string) normalize.Value) string {
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
	if want.SourceType == "" && len(want.FieldsJSON) == 0 && len(want.Absent) == 0 {
		return b.String()
	}
	var p fastjson.Parser
	out, err := p.ParseBytes(got.Output)
	if err != nil { // the normalizer wrote invalid JSON: a bug, say so
		line("output", "valid JSON", err.Error())
		return b.String()
	}
	if want.SourceType != "" {
		if st := string(out.GetStringBytes("event", "dataset")); st != want.SourceType {
			line("source_type (event.dataset)", want.SourceType, orMissing(st))
		}
	}
	paths := make([]string, 0, len(want.FieldsJSON))
	for p := range want.FieldsJSON {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		w := want.FieldsJSON[p]
		g, ok := fieldJSON(out, p, rulesView)
		switch {
		case !ok:
			line(p, string(w), "(missing)")
		case !sameJSON(w, g):
			line(p, string(w), string(g))
		}
	}
	for _, p := range want.Absent {
		// A null is absent: the output leaves it out, and rules read it
		// as nil, as they read a missing field.
		if g, ok := fieldJSON(out, p, rulesView); ok && string(g) != "null" {
			line(p, "(absent)", string(g))
		}
	}
	return b.String()
}

// fieldJSON returns a field of the normalized event as JSON, as the rules
// read it: a scalar as the rules' lookup sees it (an empty string the
// output leaves out is still "" there, and a literal dotted key wins over
// a nested member as it does for them), a number, object or array as the
// output holds it (exact digits, members after renames).
func fieldJSON(out *fastjson.Value, path string, rulesView func(string) normalize.Value) ([]byte, bool) {
	written := outputField(out, path)
	v := rulesView(path)
	switch v.Kind {
	case normalize.String:
		return normalize.AppendString(nil, v.Str), true
	case normalize.Bool:
		return strconv.AppendBool(nil, v.Bool), true
	case normalize.Null:
		return []byte("null"), true
	case normalize.Number:
		if written != nil && written.Type() == fastjson.TypeNumber {
			return written.MarshalTo(nil), true
		}
		return strconv.AppendFloat(nil, v.Num, 'g', -1, 64), true
	}
	if written == nil {
		return nil, false
	}
	return written.MarshalTo(nil), true
}

func orMissing(s string) string {
	if s == "" {
		return "(missing)"
	}
	return s
}

// outputField returns the member of the normalized event at a dotted path
// as rules read it (normalize.Lookup): the whole rest of the path as a
// literal key first, then each dotted prefix, longest first.
func outputField(v *fastjson.Value, path string) *fastjson.Value {
	o, err := v.Object()
	if err != nil {
		return nil
	}
	if m := o.Get(path); m != nil {
		return m
	}
	for cut := len(path) - 1; cut > 0; cut-- {
		if path[cut] != '.' {
			continue
		}
		if m := o.Get(path[:cut]); m != nil && m.Type() == fastjson.TypeObject {
			if r := outputField(m, path[cut+1:]); r != nil {
				return r
			}
		}
	}
	return nil
}

// sameJSON reports whether two JSON texts hold the same value (key order
// and number spelling aside: 1e3 is 1000, but every digit of a 64-bit
// integer counts).
func sameJSON(a, b []byte) bool {
	x, errx := decodeNumbers(a)
	y, erry := decodeNumbers(b)
	if errx != nil || erry != nil {
		return string(a) == string(b)
	}
	return sameValue(x, y)
}

func decodeNumbers(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

func sameValue(x, y any) bool {
	switch xv := x.(type) {
	case json.Number:
		yv, ok := y.(json.Number)
		if !ok {
			return false
		}
		fx, _, errx := big.ParseFloat(string(xv), 10, 256, big.ToNearestEven)
		fy, _, erry := big.ParseFloat(string(yv), 10, 256, big.ToNearestEven)
		if errx != nil || erry != nil {
			return xv == yv
		}
		return fx.Cmp(fy) == 0
	case map[string]any:
		yv, ok := y.(map[string]any)
		if !ok || len(xv) != len(yv) {
			return false
		}
		for k, e := range xv {
			if f, ok := yv[k]; !ok || !sameValue(e, f) {
				return false
			}
		}
		return true
	case []any:
		yv, ok := y.([]any)
		if !ok || len(xv) != len(yv) {
			return false
		}
		for i := range xv {
			if !sameValue(xv[i], yv[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(x, y)
}
