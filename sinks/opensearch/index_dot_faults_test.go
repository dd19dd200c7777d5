package opensearch

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// TestSourceTypeCannotNameDotIndex: input: a sender (HEC sourcetype,
// _bulk _index or event.dataset: all chosen by whoever holds an HTTP token
// or reaches the syslog port) sends source type ".kibana",
// ".opendistro_security" or ".plugins-ml-config", to a destination whose
// index template starts with {source_type} (allowed: parseIndexTemplate only
// checks literals, and TestIndexName uses "{source_type}" and
// "{source_type}-x"). What happens: appendSanitized keeps the leading '.',
// and render only replaces the exact names "." and "..", so the event is
// written to ".kibana" (OpenSearch Dashboards' saved objects),
// ".opendistro_security" or another dot-prefixed system/hidden index, or
// creates new hidden indices ".x-2026.11.28" that index patterns and
// retention policies for the sender's data do not see. What should happen:
// a leading '.' of a source type rendered at the start of the name is
// replaced ('_' then trimmed, as for "-", "_" and "+"), as Sanitize does for
// S3 keys, so a sender never picks a dot index. Why it matters: the router
// writes with credentials that can create indices; an untrusted sender
// choosing a system index is index injection (stored objects in
// Dashboards, hiding events from the SOC's index patterns).
func TestSourceTypeCannotNameDotIndex(t *testing.T) {
	ts := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC).UnixNano()
	for _, tmpl := range []string{"{source_type}", "{source_type}-{yyyy.MM.dd}"} {
		for _, st := range []string{".kibana", ".opendistro_security", ".plugins-ml-config", "..x"} {
			got, err := IndexName(tmpl, st, pipeline.P1, ts)
			if err != nil {
				t.Fatal(err)
			}
			if got != "" && got[0] == '.' {
				t.Errorf("index template %q, sender source type %q: index name %q starts with '.' (a system/hidden index chosen by the sender)", tmpl, st, got)
			}
		}
	}
}
