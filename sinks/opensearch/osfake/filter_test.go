package osfake

import (
	"strings"
	"testing"
)

// TestFilterPathApply holds FilterPath to OpenSearch's documented
// filter_path behaviour (the REST API's common options).
func TestFilterPathApply(t *testing.T) {
	bulkAnswer := `{"took":3,"errors":true,"items":[` +
		`{"create":{"_index":"a","_id":"1","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1,"status":201}},` +
		`{"create":{"_index":"a","_id":"2","status":409,"error":{"type":"version_conflict_engine_exception","reason":"x","caused_by":{"type":"y"}}}}]}`
	for _, tc := range []struct{ name, filter, in, want string }{
		{"bulk clients' filter", "items.*._index,items.*._id,items.*.status,items.*.error", bulkAnswer,
			`{"items":[{"create":{"_index":"a","_id":"1","status":201}},{"create":{"_index":"a","_id":"2","status":409,"error":{"type":"version_conflict_engine_exception","reason":"x","caused_by":{"type":"y"}}}}]}`},
		// Items left empty leave the array: why a filter must name status.
		{"emptied elements dropped", "items.*.error", bulkAnswer,
			`{"items":[{"create":{"error":{"type":"version_conflict_engine_exception","reason":"x","caused_by":{"type":"y"}}}}]}`},
		{"nothing matches", "nothing", bulkAnswer, `{}`},
		{"top level", "took,errors", bulkAnswer, `{"took":3,"errors":true}`},
		{"double wildcard", "**.status", bulkAnswer, `{"items":[{"create":{"status":201}},{"create":{"status":409}}]}`},
		{"partial wildcard", "items.*.err*.type", bulkAnswer, `{"items":[{"create":{"error":{"type":"version_conflict_engine_exception"}}}]}`},
		{"exclusion", "-items,-took", bulkAnswer, `{"errors":true}`},
		{"exclusion inside an inclusion", "items,-items.*._shards,-items.*.error", `{"items":[{"c":{"a":1,"_shards":{"t":1}}},{"c":{"error":{}}}]}`,
			`{"items":[{"c":{"a":1}}]}`},
		{"whole subtree", "items", `{"items":[{"a":{}},[]],"x":1}`, `{"items":[{"a":{}},[]]}`},
		{"not JSON", "a", `oops`, `oops`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(ParseFilterPath(tc.filter).Apply([]byte(tc.in))); got != tc.want {
				t.Fatalf("filter %q\n got %s\nwant %s", tc.filter, got, tc.want)
			}
		})
	}
	if ParseFilterPath(" , ") != nil {
		t.Fatal("an empty filter_path must filter nothing")
	}
}

func TestFilterPathKeeps(t *testing.T) {
	f := ParseFilterPath("items.*._id,items.*.status,-items.*.status.x")
	for _, tc := range []struct {
		keys []string
		want bool
	}{
		{[]string{"items", "create", "_id"}, true},
		{[]string{"items", "index", "status"}, true},
		{[]string{"items", "create", "_version"}, false},
		{[]string{"took"}, false},
		{[]string{"items", "create", "status", "x"}, false},
	} {
		if got := f.Keeps(tc.keys...); got != tc.want {
			t.Errorf("Keeps(%v) = %v, want %v", tc.keys, got, tc.want)
		}
	}
	if !(*FilterPath)(nil).Keeps("anything") {
		t.Fatal("no filter keeps everything")
	}
}

// TestServerFilterPath: answers are filtered on the wire; an error document
// is sent whole.
func TestServerFilterPath(t *testing.T) {
	s := newServer(t)
	a := bulk(t, s, "/_bulk?filter_path=items.*._id,items.*.status",
		`{"create":{"_index":"logs-a","_id":"1"}}`+"\n"+`{"a":1}`+"\n"+
			`{"create":{"_index":"logs-a","_id":"1"}}`+"\n"+`{"a":1}`+"\n")
	if a.status != 200 || string(a.raw) != `{"items":[{"create":{"_id":"1","status":201}},{"create":{"_id":"1","status":409}}]}` {
		t.Fatalf("filtered bulk answer: %d %s", a.status, a.raw)
	}
	a = bulk(t, s, "/_bulk?filter_path=items.*.status", `{"bogus":{}}`+"\n")
	if a.status != 400 || !strings.Contains(string(a.raw), `"error"`) {
		t.Fatalf("an error document must be sent whole: %d %s", a.status, a.raw)
	}
}
