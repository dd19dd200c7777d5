package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/logrouter/logrouter/sinks/quarantine"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/file"
	"github.com/logrouter/logrouter/sinks/s3"
)

func TestMain(m *testing.M) {
	testutil.VerifyTestMain(m)
}

var testRules = fstest.MapFS{
	"10-p1.yaml": {Data: []byte(`rules:
  - name: edr
    priority: P1
    expr: event.dataset == "edr" or kind == "detection"
`)},
	"20-p2.yaml": {Data: []byte(`rules:
  - name: firewall
    priority: P2
    expr: event.dataset startsWith "fw"
`)},
}

type harness struct {
	t    *testing.T
	app  *App
	data string
	base string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	data := t.TempDir()
	cfg := &config.Config{
		Node:  "node1",
		Log:   config.Log{Level: "error", Format: "text"},
		Admin: config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{HTTP: &httpin.Config{
			Address:      "127.0.0.1:0",
			MaxBodyBytes: 64 << 10,
			Tokens:       []httpin.Token{{Name: "team-a", Token: "s3cret"}, {Name: "fw-token", Token: "fwsecret", SourceType: "fw.generic"}},
		}},
		Destinations: []config.Destination{
			{Name: "archive", Type: "archive_dir", ArchiveDir: &s3.Config{Dir: filepath.Join(data, "archive"), TimeSource: "ingest"}},
			{Name: "siem", Type: "file", File: &file.Config{Dir: filepath.Join(data, "siem")}},
			{Name: "opensearch", Type: "file", File: &file.Config{Dir: filepath.Join(data, "opensearch")}},
		},
		Routing: config.Routing{P1: []string{"siem"}, P2: []string{"opensearch"}, All: []string{"archive"}},
	}
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Queue.Dir = filepath.Join(data, "queue")
	cfg.SetDefaults()
	cfg.Normalize.Rename = map[string]string{"msg": "message"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, cfg)
	return &harness{t: t, app: a, data: data, base: "http://" + a.HTTPAddr()}
}

func (h *harness) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.app.Shutdown(ctx); err != nil {
		h.t.Fatal(err)
	}
}

type resp struct {
	status int
	body   string
	header http.Header
}

func (h *harness) post(path, auth, encoding, body string) resp {
	h.t.Helper()
	var rd io.Reader = strings.NewReader(body)
	switch encoding {
	case "gzip":
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write([]byte(body))
		_ = zw.Close()
		rd = &b
	case "zstd":
		zw, _ := zstd.NewWriter(nil)
		rd = bytes.NewReader(zw.EncodeAll([]byte(body), nil))
		_ = zw.Close()
	}
	req, err := http.NewRequest(http.MethodPost, h.base+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, string(b), res.Header}
}

func expect(t *testing.T, what string, got resp, status int, body string) {
	t.Helper()
	if got.status != status || (body != "" && !strings.Contains(got.body, body)) {
		t.Errorf("%s: got %d %s, want %d containing %s", what, got.status, got.body, status, body)
	}
}

// readLines returns every NDJSON line under dir, decompressing .zst files.
func readLines(t *testing.T, dir string) []string {
	t.Helper()
	var lines []string
	dec, _ := zstd.NewReader(nil)
	defer dec.Close()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == quarantine.SealKeyFile {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".zst") {
			if data, err = dec.DecodeAll(data, nil); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		} else if strings.HasSuffix(p, ".partial") {
			return fmt.Errorf("%s: object not finalized at shutdown", p)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		return sc.Err()
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return lines
}

// ids extracts the "id" field of each normalized line and checks the line.
func ids(t *testing.T, lines []string) []string {
	t.Helper()
	var out []string
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("invalid JSON line %s: %v", l, err)
		}
		if _, ok := m["@timestamp"].(string); !ok {
			t.Errorf("line without @timestamp: %s", l)
		}
		out = append(out, fmt.Sprint(m["id"]))
	}
	sort.Strings(out)
	return out
}

func TestEndToEnd(t *testing.T) {
	h := newHarness(t)
	const tok = "Splunk s3cret"

	// HEC: two concatenated events, plain, gzip and zstd.
	hec := func(id, st string) string {
		return fmt.Sprintf(`{"time":1700000000.5,"host":"ws-%s","sourcetype":%q,"event":{"id":%q,"msg":"hello"}}`, id, st, id)
	}
	expect(t, "hec plain", h.post("/services/collector/event", tok, "", hec("h1", "edr")+hec("h2", "fw.asa")), 200, `{"text":"Success","code":0}`)
	expect(t, "hec gzip", h.post("/services/collector", tok, "gzip", hec("h3", "edr")+"\n"+hec("h4", "app")), 200, `"code":0`)
	expect(t, "hec zstd", h.post("/services/collector/event", tok, "zstd", hec("h5", "app")), 200, `"code":0`)
	// HEC raw lines with query metadata; the token's source type applies.
	expect(t, "hec raw", h.post("/services/collector/raw?host=fw1", "Splunk fwsecret", "", `{"id":"r1"}`+"\nplain text r2\n"), 200, `"code":0`)
	// HEC errors: events before the invalid one are accepted.
	expect(t, "hec invalid", h.post("/services/collector/event", tok, "", hec("h6", "edr")+`{"event":`+hec("h7", "edr")), 400, `"code":6,"invalid-event-number":1`)
	expect(t, "hec missing event", h.post("/services/collector/event", tok, "", `{"host":"x"}`), 400, `"code":12`)
	expect(t, "hec blank event", h.post("/services/collector/event", tok, "", `{"event":""}`), 400, `"code":13`)
	expect(t, "hec no token", h.post("/services/collector/event", "", "", hec("x", "edr")), 401, `"code":2`)
	expect(t, "hec bad token", h.post("/services/collector/event", "Splunk nope", "", hec("x", "edr")), 403, `"code":4`)
	expect(t, "hec bad header", h.post("/services/collector/event", "Splunk", "", hec("x", "edr")), 401, `"code":3`)
	expect(t, "hec no data", h.post("/services/collector/event", tok, "", "  \n"), 400, `"code":5`)
	expect(t, "hec too large", h.post("/services/collector/event", tok, "", hec("x", strings.Repeat("a", 70<<10))), 413, "max_body_bytes")
	expect(t, "hec bad encoding", h.post("/services/collector/event", tok, "br", hec("x", "edr")), 415, "Content-Encoding")

	// _bulk: two good items (one via URL index), one bad source line, one delete.
	bulk := `{"index":{"_index":"fw-logs","_id":"b1"}}
{"id":"b1","action":"deny"}
{"create":{}}
{"id":"b2","kind":"detection"}
{"index":{}}
{"id":"b3", broken
{"delete":{"_id":"zz"}}
`
	r := h.post("/logs-app/_bulk", "Basic "+basic("elastic", "s3cret"), "gzip", bulk)
	expect(t, "bulk", r, 200, `"errors":true`)
	var br struct {
		Errors bool
		Items  []map[string]struct {
			Index  string `json:"_index"`
			ID     string `json:"_id"`
			Status int
			Error  *struct{ Type string }
		}
	}
	if err := json.Unmarshal([]byte(r.body), &br); err != nil {
		t.Fatalf("bulk response %s: %v", r.body, err)
	}
	if len(br.Items) != 4 || br.Items[0]["index"].Status != 201 || br.Items[0]["index"].ID != "b1" ||
		br.Items[0]["index"].Index != "fw-logs" || br.Items[1]["create"].Status != 201 || br.Items[1]["create"].Index != "logs-app" ||
		br.Items[1]["create"].ID == "" || br.Items[2]["index"].Status != 400 || br.Items[2]["index"].Error.Type != "mapper_parsing_exception" ||
		br.Items[3]["delete"].Status != 400 {
		t.Errorf("bulk items: %s", r.body)
	}
	if r.header.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Error("bulk answer lacks X-Elastic-Product")
	}
	expect(t, "bulk zstd", h.post("/_bulk", "Basic "+basic("elastic", "s3cret"), "zstd", "{\"create\":{\"_index\":\"x\",\"_id\":\"b4\"}}\n{\"id\":\"b4\"}\n"), 200, `"errors":false`)
	expect(t, "bulk plain", h.post("/_bulk", "Basic "+basic("elastic", "s3cret"), "", "{\"index\":{\"_index\":\"x\"}}\n{\"id\":\"b5\"}\n"), 200, `"status":201`)
	expect(t, "bulk malformed action", h.post("/_bulk", "Bearer s3cret", "", "not json\n{}\n"), 400, "Malformed action/metadata line [1]")
	expect(t, "bulk no auth", h.post("/_bulk", "", "", bulk), 401, "security_exception")

	// NDJSON: the good lines are accepted even when one is bad.
	expect(t, "ndjson", h.post("/ingest", "Bearer s3cret", "zstd", `{"id":"n1","kind":"detection"}`+"\n\n"+`{"id":"n2"}`+"\n"), 200, `{"accepted":2,"rejected":0}`)
	expect(t, "ndjson gzip", h.post("/ingest", "Bearer s3cret", "gzip", `{"id":"n5"}`), 200, `{"accepted":1,"rejected":0}`)
	expect(t, "ndjson mixed", h.post("/ingest", "Bearer s3cret", "", `{"id":"n3"}`+"\n{oops\n[1]\n"+`{"id":"n4"}`), 400, `"accepted":2,"rejected":2`)
	expect(t, "json array", h.post("/ingest", "Bearer s3cret", "", `[{"id":"a1"},{"id":"a2","event":{"dataset":"fw.pan"}},7]`), 400, `"accepted":2,"rejected":1`)

	// Health and ES info.
	if res, err := http.Get(h.base + "/services/collector/health"); err != nil || res.StatusCode != 200 {
		t.Errorf("health: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	metrics := scrape(t, "http://"+h.app.AdminAddr()+"/metrics")
	h.stop()

	// Exact contents of every destination.
	p1 := []string{"b2", "h1", "h3", "h6", "n1"}
	// r1, r2 take the fw-token's source type; b1 the bulk index name "fw-logs".
	p2 := []string{"a2", "b1", "h2", "r1", "r2"}
	p3 := []string{"a1", "b4", "b5", "h4", "h5", "n2", "n3", "n4", "n5"}
	all := append(append(append([]string{}, p1...), p2...), p3...)
	sort.Strings(all)
	siem := readLines(t, filepath.Join(h.data, "siem"))
	os := readLines(t, filepath.Join(h.data, "opensearch"))
	arch := readLines(t, filepath.Join(h.data, "archive"))
	check := func(name string, lines []string, want []string) {
		got := ids(t, lines)
		for i, g := range got {
			if g == "<nil>" { // the plain text line has no id field
				got[i] = "r2"
			}
		}
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s got %v, want %v", name, got, want)
		}
	}
	check("siem", siem, p1)
	check("opensearch", os, p2)
	check("archive", arch, all)
	// The same bytes reach every destination.
	for _, l := range append(append([]string{}, siem...), os...) {
		if i := sort.SearchStrings(arch, l); i >= len(arch) || arch[i] != l {
			t.Errorf("line not byte-identical in the archive: %s", l)
		}
	}
	// One normalized event in full.
	for _, l := range siem {
		if strings.Contains(l, `"id":"h1"`) {
			want := `{"@timestamp":"2023-11-14T22:13:20.500Z","id":"h1","message":"hello","event":{"dataset":"edr","ingested":"`
			if !strings.HasPrefix(l, want) || !strings.Contains(l, `"host":{"name":"ws-h1"}`) ||
				!strings.Contains(l, `"logrouter":{"input":"http","protocol":"hec","peer":"127.0.0.1","token":"team-a"}`) {
				t.Errorf("normalized HEC event: %s", l)
			}
		}
	}
	// Archive layout: priority, source type, date, hour.
	matches, _ := filepath.Glob(filepath.Join(h.data, "archive", "logs", "priority=P1", "source_type=edr", "dt=*", "hour=*", "node1-*.ndjson.zst"))
	if len(matches) == 0 {
		t.Errorf("no archive object under logs/priority=P1/source_type=edr/dt=*/hour=*/")
	}

	// Quarantine: every rejected record with its reason.
	q := readLines(t, filepath.Join(h.data, "quarantine"))
	reasons := map[string]int{}
	for _, l := range q {
		var rec struct{ Reason, Raw, Input, Protocol string }
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("quarantine line %s: %v", l, err)
		}
		reasons[rec.Protocol+"/"+rec.Reason]++
	}
	wantQ := map[string]int{
		"hec/invalid_json": 1, "hec/hec_missing_event": 1, "hec/hec_blank_event": 1,
		"bulk/invalid_json": 1, "bulk/bulk_malformed_action": 1,
		"ndjson/invalid_json": 1, "ndjson/not_object": 2,
	}
	if fmt.Sprint(reasons) != fmt.Sprint(wantQ) {
		t.Errorf("quarantine reasons %v, want %v", reasons, wantQ)
	}

	// Metrics.
	for _, want := range []string{
		`logrouter_input_events_total{input="http"} 19`,
		`logrouter_priority_events_total{priority="P1"} 5`,
		`logrouter_priority_events_total{priority="P2"} 5`,
		`logrouter_priority_events_total{priority="P3"} 9`,
		`logrouter_rule_matches_total{rule="edr"} 5`,
		`logrouter_rule_matches_total{rule="default"} 9`,
		`logrouter_destination_events_total{destination="archive",outcome="accepted"} 19`,
		`logrouter_destination_events_total{destination="siem",outcome="accepted"} 5`,
		`logrouter_destination_events_total{destination="opensearch",outcome="accepted"} 5`,
		`logrouter_quarantined_events_total{input="http",reason="not_object"} 2`,
		`logrouter_http_requests_total{code="401",input="http",protocol="hec"} 2`,
		`logrouter_http_requests_total{code="403",input="http",protocol="hec"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, series := range []string{`logrouter_input_bytes_total{input="http"} `, `logrouter_priority_bytes_total{priority="P1"} `,
		`logrouter_rule_bytes_total{rule="edr"} `, `logrouter_destination_bytes_total{destination="siem"} `} {
		i := strings.Index(metrics, series)
		if i < 0 || strings.HasPrefix(metrics[i+len(series):], "0\n") {
			t.Errorf("metrics: %s missing or zero", series)
		}
	}
}

func basic(user, pw string) string {
	return base64Std(user + ":" + pw)
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}
