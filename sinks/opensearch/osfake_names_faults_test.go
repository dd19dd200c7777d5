package opensearch

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
)

// TestOSFakeAcceptsDocumentsOpenSearchRefuses: osfake is documented
// as "written from the documented behaviour of OpenSearch 2.x" and its
// per-item 400 mapper_parsing_exception covers "a document that is not a
// JSON object, a field whose value does not fit its mapped type". Real
// OpenSearch also refuses, per item with 400 mapper_parsing_exception
// (DocumentParser), documents that
//
//   - carry a metadata field at the top level ("Field [_id] is a metadata
//     field and cannot be added inside a document. Use the index API request
//     parameters."): _id, _index, _source, _routing, _version, _seq_no, ...;
//   - have an empty field name ("field name cannot be an empty string");
//   - have a field name starting or ending with a dot ("object field starting
//     or ending with a [.] makes object resolution ambiguous");
//   - repeat a key (OpenSearch's JSON parser has strict duplicate detection
//     on: "Duplicate field 'x'").
//
// The sink sends Event.Raw verbatim, and nothing before it removes the first
// three: normalize with DefaultConfig turns {"_id":"abc","_source":{"a":1}}
// and {"":"v","user.":"w","..":"z"} into events that keep those keys (checked
// through normalize.Compile(DefaultConfig()).New().Append). On a real cluster
// such events are quarantined, while every test against the fake reports
// them indexed: the fake hides that class of refusal from the sink's and the
// pipeline's tests. (Duplicate keys are resolved by normalize, last wins; the
// fake should still refuse them like OpenSearch.)
func TestOSFakeAcceptsDocumentsOpenSearchRefuses(t *testing.T) {
	srv := osfake.New()
	t.Cleanup(srv.Close)
	docs := map[string]string{
		"top-level _id":          `{"_id":"abc","message":"x"}`,
		"top-level _source":      `{"_source":{"a":1},"message":"x"}`,
		"top-level _index":       `{"_index":"other","message":"x"}`,
		"empty field name":       `{"":"v","message":"x"}`,
		"field name ending in .": `{"user.":"v","message":"x"}`,
		"field name only dots":   `{"..":"v","message":"x"}`,
		"duplicate key":          `{"message":"x","message":"y"}`,
	}
	var names []string
	var body strings.Builder
	for name, d := range docs {
		names = append(names, name)
		body.WriteString(`{"create":{"_index":"logs-test","_id":"` + strings.ReplaceAll(name, " ", "-") + `"}}` + "\n" + d + "\n")
	}
	res, err := http.Post(srv.URL+"/_bulk", "application/x-ndjson", strings.NewReader(body.String()))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	v, err := fastjson.ParseBytes(raw)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, raw)
	}
	var accepted []string
	for k, it := range v.GetArray("items") {
		if st := it.GetInt("create", "status"); st/100 == 2 {
			accepted = append(accepted, names[k])
		}
	}
	if len(accepted) > 0 {
		t.Fatalf("osfake indexed %d of %d documents that OpenSearch 2.x refuses with 400 mapper_parsing_exception: %q", len(accepted), len(docs), accepted)
	}
}
