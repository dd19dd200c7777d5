package s3

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// TestDDLReadsEventsWithKeysDifferingOnlyInCase
//
// Sequence: a Windows event rendered from its XML as JSON, the shape
// NXLog's xm_xml, WEF converters and many Windows collectors send
// ({"Event":{"System":{"EventID":4625,...}},...}), is normalized; the
// normalizer adds its own "event" object (event.dataset, event.ingested)
// next to the sender's "Event". Likewise any sender event holding both
// "Message" and "message" keeps both. The archive stores that line, and
// `router archive ddl` gives the table that must read it.
//
// What happens: the DDL uses the OpenX JSON SerDe with its default
// 'case.insensitive'='true', which lower-cases every key before building
// the row: "Event" and "event" become the same key and the line is
// rejected ("Row is not a valid JSON Object - JSONException: Duplicate key
// \"event\"", Athena guide, OpenX JSON SerDe). With 'ignore.malformed.json'
// ='true' Athena does not even fail the query: the row comes back with
// every data column NULL, so the event matches no WHERE on its fields.
//
// What should happen: every normalized event is readable by the table,
// e.g. the DDL sets 'case.insensitive'='false' (its columns are already
// lower case and @timestamp is mapped), or the writer never emits keys
// that collide case-insensitively.
//
// Why it matters: Windows Security events (4625 failed logons...) are a
// core SOC source; in the archive they would be silently invisible to
// every Athena hunt or investigation.
func TestDDLReadsEventsWithKeysDifferingOnlyInCase(t *testing.T) {
	ddl := DDL(S3Config{Bucket: "b", StagingDir: "/s"}, "t")
	props := reviewTBLProps(ddl)
	caseInsensitive := !strings.EqualFold(strings.TrimSpace(props["case.insensitive"]), "false")

	c, err := normalize.Compile(normalize.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	meta := &pipeline.Meta{Input: "http", Protocol: "ndjson", Peer: "10.0.0.9", Token: "win", IngestTime: time.Now().UnixNano()}
	inputs := []string{
		`{"Event":{"System":{"Provider":{"Name":"Microsoft-Windows-Security-Auditing"},"EventID":4625,"Computer":"dc1"},"EventData":{"TargetUserName":"admin"}}}`,
		`{"Message":"An account failed to log on.","message":"4625","host":"dc1"}`,
	}
	var p fastjson.Parser
	for _, in := range inputs {
		v, err := p.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := n.Append(nil, v, nil, meta, &normalize.EventMeta{})
		if err != nil {
			t.Fatalf("normalize %s: %v", in, err)
		}
		// The top-level keys in order, as the SerDe sees them.
		dec := json.NewDecoder(strings.NewReader(string(out)))
		var doc map[string]json.RawMessage
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("normalized %s: %v", out, err)
		}
		if !caseInsensitive {
			continue
		}
		seen := map[string]string{}
		for k := range doc {
			lk := strings.ToLower(k)
			if other, dup := seen[lk]; dup {
				t.Errorf("the normalized event %s holds %q and %q; the DDL's OpenX SerDe is case-insensitive (no 'case.insensitive'='false'), so Athena rejects the line as a duplicate key %q and, with 'ignore.malformed.json', returns it as an all-NULL row", out, other, k, lk)
				break
			}
			seen[lk] = k
		}
	}
}
