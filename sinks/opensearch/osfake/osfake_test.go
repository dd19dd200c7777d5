package osfake

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
)

func TestMain(m *testing.M) { testutil.VerifyTestMain(m) }

type answer struct {
	status int
	body   map[string]any
	raw    []byte
}

func do(t *testing.T, s *Server, method, path, ctype string, body []byte, hdr ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, raw)
		}
	}
	return a
}

func bulk(t *testing.T, s *Server, path, body string) answer {
	t.Helper()
	return do(t, s, "POST", path, "application/x-ndjson", []byte(body))
}

func newServer(t *testing.T, opts ...Option) *Server {
	s := New(opts...)
	t.Cleanup(func() {
		s.Close()
		http.DefaultClient.CloseIdleConnections()
	})
	return s
}

func items(t *testing.T, a answer) []map[string]any {
	t.Helper()
	raw, ok := a.body["items"].([]any)
	if !ok {
		t.Fatalf("no items in %s", a.raw)
	}
	out := make([]map[string]any, len(raw))
	for i, it := range raw {
		for _, v := range it.(map[string]any) {
			out[i] = v.(map[string]any)
		}
	}
	return out
}

func errType(a answer) string {
	e, _ := a.body["error"].(map[string]any)
	s, _ := e["type"].(string)
	return s
}

func TestInfo(t *testing.T) {
	s := newServer(t)
	a := do(t, s, "GET", "/", "", nil)
	v := a.body["version"].(map[string]any)
	if a.status != 200 || !strings.HasPrefix(v["number"].(string), "2.") || v["distribution"] != "opensearch" {
		t.Fatalf("info: %d %s", a.status, a.raw)
	}
}

func TestBulkItemsAndConflicts(t *testing.T) {
	s := newServer(t)
	a := bulk(t, s, "/_bulk?refresh=true",
		`{"create":{"_index":"logs-a","_id":"1"}}`+"\n"+`{"a":1}`+"\n"+
			"\n"+ // empty action lines are skipped
			`{"index":{"_index":"logs-a","_id":"2"}}`+"\n"+`{"a":2}`+"\n"+
			`{"create":{"_index":"logs-a","_id":"1"}}`+"\n"+`{"a":3}`+"\n"+
			`{"index":{"_index":"logs-a"}}`+"\n"+`{"a":4}`+"\n"+
			`{"delete":{"_index":"logs-a","_id":"2"}}`+"\n"+
			`{"delete":{"_index":"logs-a","_id":"nope"}}`+"\n"+
			`{"update":{"_index":"logs-a","_id":"1"}}`+"\n"+`{"doc":{"b":true}}`+"\n"+
			`{"update":{"_index":"logs-a","_id":"9"}}`+"\n"+`{"doc":{"c":1},"doc_as_upsert":true}`+"\n"+
			`{"update":{"_index":"logs-a","_id":"10"}}`+"\n"+`{"doc":{"c":1}}`+"\n")
	if a.status != 200 || a.body["errors"] != true {
		t.Fatalf("bulk: %d %s", a.status, a.raw)
	}
	it := items(t, a)
	want := []struct {
		status float64
		result string
		err    string
	}{
		{201, "created", ""}, {201, "created", ""}, {409, "", "version_conflict_engine_exception"},
		{201, "created", ""}, {200, "deleted", ""}, {404, "not_found", ""}, {200, "updated", ""},
		{201, "created", ""}, {404, "", "document_missing_exception"},
	}
	if len(it) != len(want) {
		t.Fatalf("%d items, want %d: %s", len(it), len(want), a.raw)
	}
	for i, w := range want {
		if it[i]["status"] != w.status {
			t.Errorf("item %d status %v, want %v: %v", i, it[i]["status"], w.status, it[i])
		}
		if w.result != "" && it[i]["result"] != w.result {
			t.Errorf("item %d result %v, want %v", i, it[i]["result"], w.result)
		}
		if w.err != "" {
			e, _ := it[i]["error"].(map[string]any)
			if e["type"] != w.err {
				t.Errorf("item %d error %v, want %s", i, e, w.err)
			}
		}
		for _, k := range []string{"_index", "_id"} {
			if _, ok := it[i][k]; !ok {
				t.Errorf("item %d lacks %s", i, k)
			}
		}
	}
	if _, ok := it[0]["_shards"]; !ok {
		t.Error("success items lack _shards")
	}
	d, ok := s.Doc("logs-a", "1")
	if !ok || string(d.Source) != `{"a":1,"b":true}` || d.Version != 2 {
		t.Fatalf("doc 1 = %+v %s", d, d.Source)
	}
	if _, ok := s.Doc("logs-a", "2"); ok {
		t.Fatal("doc 2 not deleted")
	}
	if n := s.Count("logs-a"); n != 3 {
		t.Fatalf("count %d, want 3", n)
	}
	if s.Attempts("logs-a", "1") != 3 {
		t.Fatalf("attempts of 1 = %d, want 3", s.Attempts("logs-a", "1"))
	}
	if all, _ := s.BulkRequests(); all != 1 || s.BulkItems() != 9 {
		t.Fatalf("bulk requests %d items %d", all, s.BulkItems())
	}
}

func TestBulkMalformed(t *testing.T) {
	s := newServer(t)
	cases := []struct{ name, body, wantType string }{
		{"no trailing newline", `{"index":{"_index":"x"}}` + "\n" + `{}`, "illegal_argument_exception"},
		{"not json", `{"index":{"_index":"x"}` + "\n" + `{}` + "\n", "x_content_parse_exception"},
		{"array", `[]` + "\n", "illegal_argument_exception"},
		{"unknown action", `{"upsert":{"_index":"x"}}` + "\n" + `{}` + "\n", "illegal_argument_exception"},
		{"two actions", `{"index":{"_index":"x"},"create":{}}` + "\n" + `{}` + "\n", "illegal_argument_exception"},
		{"unknown parameter", `{"index":{"_index":"x","_type":"doc"}}` + "\n" + `{}` + "\n", "illegal_argument_exception"},
		{"object parameter", `{"index":{"_index":{"a":1}}}` + "\n" + `{}` + "\n", "illegal_argument_exception"},
		{"missing source", `{"index":{"_index":"x"}}` + "\n", "illegal_argument_exception"},
		{"missing index", `{"index":{"_id":"1"}}` + "\n" + `{}` + "\n", "action_request_validation_exception"},
		{"empty", "\n", "action_request_validation_exception"},
	}
	for _, c := range cases {
		a := bulk(t, s, "/_bulk", c.body)
		if a.status != 400 || errType(a) != c.wantType {
			t.Errorf("%s: %d %s, want 400 %s", c.name, a.status, a.raw, c.wantType)
		}
	}
	if len(s.Indices()) != 0 {
		t.Fatalf("a refused request created indices: %v", s.Indices())
	}
	// The default index of /{index}/_bulk.
	a := bulk(t, s, "/dflt/_bulk", `{"index":{"_id":"1"}}`+"\n"+`{"x":1}`+"\n")
	if a.status != 200 || a.body["errors"] != false || s.Count("dflt") != 1 {
		t.Fatalf("/{index}/_bulk: %d %s", a.status, a.raw)
	}
	if a := do(t, s, "POST", "/_bulk", "text/plain", []byte("{}\n")); a.status != 406 {
		t.Fatalf("text/plain: %d", a.status)
	}
	if a := bulk(t, s, "/_bulk?refresh=maybe", `{"index":{"_index":"x"}}`+"\n{}\n"); a.status != 400 {
		t.Fatalf("refresh=maybe: %d", a.status)
	}
}

func TestBulkGzipAndMaxContentLength(t *testing.T) {
	s := newServer(t, WithMaxContentLength(200))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	io.WriteString(zw, `{"create":{"_index":"g","_id":"1"}}`+"\n"+`{"x":1}`+"\n")
	zw.Close()
	a := do(t, s, "POST", "/_bulk", "application/x-ndjson", buf.Bytes(), "Content-Encoding", "gzip")
	if a.status != 200 || a.body["errors"] != false {
		t.Fatalf("gzip bulk: %d %s", a.status, a.raw)
	}
	if _, gz := s.BulkRequests(); gz != 1 {
		t.Fatalf("gzip requests %d", gz)
	}
	if a := do(t, s, "POST", "/_bulk", "application/x-ndjson", []byte("not gzip"), "Content-Encoding", "gzip"); a.status != 400 {
		t.Fatalf("bad gzip: %d", a.status)
	}
	big := `{"create":{"_index":"g","_id":"2"}}` + "\n" + `{"x":"` + strings.Repeat("a", 300) + `"}` + "\n"
	if a := bulk(t, s, "/_bulk", big); a.status != 413 {
		t.Fatalf("over max content length: %d", a.status)
	}
	// Compressed small, decompressed too large.
	buf.Reset()
	zw = gzip.NewWriter(&buf)
	io.WriteString(zw, big)
	zw.Close()
	if a := do(t, s, "POST", "/_bulk", "application/x-ndjson", buf.Bytes(), "Content-Encoding", "gzip"); a.status != 413 {
		t.Fatalf("decompressed over max content length: %d %s", a.status, a.raw)
	}
}

func TestItemErrors(t *testing.T) {
	s := newServer(t, WithAutoCreate(false))
	s.SetRejectMarker("poison")
	s.SetFieldType("source.port", "integer")
	if a := do(t, s, "PUT", "/logs", "application/json", nil); a.status != 200 {
		t.Fatalf("create index: %d %s", a.status, a.raw)
	}
	if a := do(t, s, "PUT", "/logs", "application/json", nil); a.status != 400 || errType(a) != "resource_already_exists_exception" {
		t.Fatalf("create index twice: %d %s", a.status, a.raw)
	}
	a := bulk(t, s, "/_bulk",
		`{"create":{"_index":"missing","_id":"1"}}`+"\n"+`{}`+"\n"+
			`{"create":{"_index":"logs","_id":"2"}}`+"\n"+`{"poison":1}`+"\n"+
			`{"create":{"_index":"logs","_id":"3"}}`+"\n"+`{"source":{"port":"http"}}`+"\n"+
			`{"create":{"_index":"logs","_id":"4"}}`+"\n"+`{"source.port":"443"}`+"\n"+
			`{"create":{"_index":"logs","_id":"5"}}`+"\n"+`{"x":`+"\n"+
			`{"create":{"_index":"Logs","_id":"6"}}`+"\n"+`{}`+"\n")
	it := items(t, a)
	want := []struct {
		status float64
		typ    string
	}{{404, "index_not_found_exception"}, {400, "mapper_parsing_exception"}, {400, "mapper_parsing_exception"},
		{201, ""}, {400, "mapper_parsing_exception"}, {400, "invalid_index_name_exception"}}
	for i, w := range want {
		e, _ := it[i]["error"].(map[string]any)
		if it[i]["status"] != w.status || (w.typ != "" && e["type"] != w.typ) {
			t.Errorf("item %d: %v, want %v %s", i, it[i], w.status, w.typ)
		}
	}
	if r := s.Rejected(); len(r) != 5 {
		t.Fatalf("rejected %v", r)
	}
}

func TestTemplatesApplyMappings(t *testing.T) {
	s := newServer(t)
	if a := do(t, s, "GET", "/_index_template/lr", "", nil); a.status != 404 || errType(a) != "resource_not_found_exception" {
		t.Fatalf("missing template: %d %s", a.status, a.raw)
	}
	if a := do(t, s, "PUT", "/_index_template/lr", "application/json", []byte(`{"template":{}}`)); a.status != 400 {
		t.Fatalf("template without patterns: %d", a.status)
	}
	tmpl := `{"index_patterns":["logs-*"],"priority":10,"template":{"mappings":{"properties":{
		"@timestamp":{"type":"date"},
		"source":{"properties":{"ip":{"type":"ip"},"port":{"type":"integer","ignore_malformed":true}}}}}}}`
	if a := do(t, s, "PUT", "/_index_template/lr", "application/json", []byte(tmpl)); a.status != 200 || a.body["acknowledged"] != true {
		t.Fatalf("put template: %d %s", a.status, a.raw)
	}
	a := do(t, s, "GET", "/_index_template/lr", "", nil)
	if a.status != 200 || len(a.body["index_templates"].([]any)) != 1 {
		t.Fatalf("get template: %d %s", a.status, a.raw)
	}
	a = bulk(t, s, "/_bulk",
		`{"create":{"_index":"logs-1","_id":"1"}}`+"\n"+`{"@timestamp":"2026-11-28T10:00:00.123456Z","source":{"ip":"10.0.0.1","port":"x"}}`+"\n"+
			`{"create":{"_index":"logs-1","_id":"2"}}`+"\n"+`{"source":{"ip":"not-an-ip"}}`+"\n"+
			`{"create":{"_index":"logs-1","_id":"3"}}`+"\n"+`{"@timestamp":"yesterday"}`+"\n"+
			`{"create":{"_index":"other","_id":"4"}}`+"\n"+`{"source":{"ip":"not-an-ip"}}`+"\n")
	got := []float64{}
	for _, it := range items(t, a) {
		got = append(got, it["status"].(float64))
	}
	if want := []float64{201, 400, 400, 201}; !equalF(got, want) {
		t.Fatalf("statuses %v, want %v: %s", got, want, a.raw)
	}
}

func equalF(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSearchCountGet(t *testing.T) {
	s := newServer(t)
	bulk(t, s, "/_bulk?refresh=wait_for",
		`{"index":{"_index":"logs-a","_id":"1"}}`+"\n"+`{"user":{"name":"alice"},"n":1,"message":"Failed password for root"}`+"\n"+
			`{"index":{"_index":"logs-a","_id":"2"}}`+"\n"+`{"user.name":"bob","n":2,"message":"Accepted password"}`+"\n"+
			`{"index":{"_index":"logs-b","_id":"3"}}`+"\n"+`{"user":{"name":"alice"},"n":3,"tags":["x","y"]}`+"\n")
	cases := []struct {
		path, query string
		want        float64
	}{
		{"/logs-*/_search", `{"query":{"term":{"user.name":"alice"}}}`, 2},
		{"/logs-a/_search", `{"query":{"term":{"user.name":"bob"}}}`, 1},
		{"/logs-a,logs-b/_search", `{"query":{"match":{"message":"PASSWORD"}}}`, 2},
		{"/_all/_search", `{"query":{"bool":{"must":[{"term":{"user.name":"alice"}}],"must_not":{"term":{"n":3}}}}}`, 1},
		{"/logs-*/_search", `{"query":{"bool":{"should":[{"term":{"n":2}},{"term":{"tags":"y"}}]}}}`, 2},
		{"/logs-*/_search", `{"query":{"terms":{"n":[1,3]}}}`, 2},
		{"/logs-*/_search", `{"query":{"exists":{"field":"tags"}}}`, 1},
		{"/logs-*/_search", `{"query":{"ids":{"values":["1","3"]}}}`, 2},
		{"/logs-*/_search", ``, 3},
	}
	for _, c := range cases {
		a := do(t, s, "POST", c.path, "application/json", []byte(c.query))
		hits, _ := a.body["hits"].(map[string]any)
		total, _ := hits["total"].(map[string]any)
		if a.status != 200 || total["value"] != c.want {
			t.Errorf("%s %s: %d %s, want %v hits", c.path, c.query, a.status, a.raw, c.want)
		}
	}
	a := do(t, s, "GET", "/logs-a/_count", "", nil)
	if a.body["count"] != float64(2) {
		t.Fatalf("count: %s", a.raw)
	}
	if a := do(t, s, "GET", "/missing/_search", "", nil); a.status != 404 {
		t.Fatalf("search of a missing index: %d", a.status)
	}
	a = do(t, s, "GET", "/logs-a/_doc/2", "", nil)
	if a.status != 200 || a.body["found"] != true || a.body["_source"].(map[string]any)["user.name"] != "bob" {
		t.Fatalf("get doc: %d %s", a.status, a.raw)
	}
	if a := do(t, s, "GET", "/logs-a/_doc/9", "", nil); a.status != 404 || a.body["found"] != false {
		t.Fatalf("get missing doc: %d %s", a.status, a.raw)
	}
	if a := do(t, s, "POST", "/logs-a/_refresh", "", nil); a.status != 200 {
		t.Fatalf("refresh: %d", a.status)
	}
	if a := do(t, s, "HEAD", "/logs-a", "", nil); a.status != 200 {
		t.Fatalf("HEAD index: %d", a.status)
	}
	if a := do(t, s, "DELETE", "/logs-a", "", nil); a.status != 200 {
		t.Fatalf("DELETE index: %d", a.status)
	}
	if a := do(t, s, "HEAD", "/logs-a", "", nil); a.status != 404 {
		t.Fatalf("HEAD deleted index: %d", a.status)
	}
}

func TestKnobs(t *testing.T) {
	s := newServer(t, WithBasicAuth("u", "p"))
	if a := do(t, s, "GET", "/", "", nil); a.status != 401 || errType(a) != "security_exception" {
		t.Fatalf("no credentials: %d %s", a.status, a.raw)
	}
	auth := func(method, path, body string) answer {
		req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		req.SetBasicAuth("u", "p")
		req.Header.Set("Content-Type", "application/x-ndjson")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return answer{status: -1}
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		a := answer{status: res.StatusCode, raw: raw}
		json.Unmarshal(raw, &a.body)
		return a
	}
	if a := auth("GET", "/", ""); a.status != 200 {
		t.Fatalf("with credentials: %d", a.status)
	}
	s.FailNext(2, 503)
	if a, b, c := auth("GET", "/", ""), auth("GET", "/", ""), auth("GET", "/", ""); a.status != 503 || b.status != 503 || c.status != 200 {
		t.Fatalf("FailNext: %d %d %d", a.status, b.status, c.status)
	}
	s.SetUnavailable(503)
	if a := auth("GET", "/", ""); a.status != 503 {
		t.Fatalf("unavailable: %d", a.status)
	}
	s.SetUnavailable(0)
	s.SetDropConnections(true)
	if a := auth("GET", "/", ""); a.status != -1 {
		t.Fatalf("dropped connection answered %d", a.status)
	}
	s.SetDropConnections(false)
	s.FailAfterIndexingNext(1, 502)
	if a := auth("POST", "/_bulk", `{"create":{"_index":"x","_id":"1"}}`+"\n{}\n"); a.status != 502 {
		t.Fatalf("FailAfterIndexingNext: %d", a.status)
	}
	if s.Count("x") != 1 {
		t.Fatal("FailAfterIndexingNext did not index")
	}
	s.SetDelay(50 * time.Millisecond)
	start := time.Now()
	auth("GET", "/", "")
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("SetDelay did not delay")
	}
	s.SetDelay(0)
	if s.Requests("refused") < 4 || s.TotalRequests() < 8 {
		t.Fatalf("counters: refused %d total %d", s.Requests("refused"), s.TotalRequests())
	}
}

func TestItemFaultsDeterministic(t *testing.T) {
	run := func() (n429, n400 int) {
		s := New()
		defer s.Close()
		s.SetItemFaults(ItemFaults{Seed: 7, Rate429: 0.5, Rate400: 0.1})
		var b strings.Builder
		for i := range 1000 {
			b.WriteString(`{"create":{"_index":"f","_id":"` + itoa(i) + `"}}` + "\n{}\n")
		}
		a := bulk(t, s, "/_bulk", b.String())
		for _, it := range items(t, a) {
			switch it["status"] {
			case float64(429):
				n429++
			case float64(400):
				n400++
			}
		}
		return
	}
	a429, a400 := run()
	b429, b400 := run()
	if a429 != b429 || a400 != b400 {
		t.Fatalf("not deterministic: %d/%d vs %d/%d", a429, a400, b429, b400)
	}
	if a429 < 400 || a429 > 600 || a400 < 20 || a400 > 90 {
		t.Fatalf("rates off: %d 429s, %d 400s of 1000", a429, a400)
	}
	http.DefaultClient.CloseIdleConnections()
}
