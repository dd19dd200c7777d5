package httpin

// Fault test from a second review of the HTTP input (see hec_query_faults_test.go); it failed before the fix.

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestIngestArrayDepthUnchecked: every record path applies the
// documented nesting bound (README: "nesting depth 128"; jsonscan.MaxDepth)
// before parsing and quarantines a deeper record alone as "too_deep":
// NDJSON lines (request.parse), HEC envelopes and arrays (parseBounded),
// _bulk sources, Firehose records and CloudWatch messages. The JSON-array
// form of /ingest does not: handleNDJSON's array branch calls
// q.p.ParseBytes directly (ndjson.go). So the same record is treated two
// ways depending on how the sender framed the batch (rsyslog omhttp
// batch.format="jsonarray", Logstash's http output format => "json_batch",
// NXLog and scripts post arrays):
//
//   - nested 200 deep: as a line it is quarantined too_deep; in an array it
//     is accepted and delivered, past the bound the destinations and the
//     quarantine replay were sized for;
//   - nested past fastjson's 300: in an array the parse error (built at
//     O(depth²) cost, the cost jsonscan exists to avoid) refuses the whole
//     array as "invalid_json": the valid records next to it are not
//     delivered (accepted 0), only stored inside one quarantined body,
//     while the answer tells the sender the request was dealt with.
//
// Expected: an array element deeper than 128 is quarantined alone as
// too_deep and the other elements are delivered, as for the NDJSON form of
// the same body. Fix: use q.parse(e) (or jsonscan.TooDeep first) in the
// array loop of handleNDJSON, and reject the element alone on errTooDeep.
func TestIngestArrayDepthUnchecked(t *testing.T) {
	const ok = `{"user":"bob","action":"login","outcome":"success"}`
	for _, depth := range []int{200, 301} {
		deep := `{"a":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`
		for _, c := range []struct{ form, body string }{
			{"ndjson", deep + "\n" + ok + "\n"},
			{"array", "[" + deep + "," + ok + "]"},
		} {
			f := newFixture(t, Config{}, nil)
			w := f.do("POST", "/ingest", "", c.body)
			var ans struct {
				Accepted, Rejected int
				Errors             []struct{ Reason string }
			}
			_ = json.Unmarshal(w.Body.Bytes(), &ans)
			recs := f.q.Records()
			reason := ""
			if len(recs) == 1 {
				reason = recs[0].Reason
			}
			if ans.Accepted != 1 || ans.Rejected != 1 || len(f.rec.Events()) != 1 || reason != "too_deep" {
				t.Errorf("%s, one record nested %d deep and one plain record: answered %d %.200s; delivered %d events, quarantined %d records (reason %q); want the plain record delivered and the deep one quarantined alone as too_deep",
					c.form, depth, w.Code, w.Body, len(f.rec.Events()), len(recs), reason)
			}
		}
	}
}
