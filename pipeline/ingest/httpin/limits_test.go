package httpin

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/logrouter/logrouter/pipeline"
)

// heapSink records the live heap while a batch is being delivered.
type heapSink struct {
	heap uint64
	n    int
}

func (s *heapSink) Name() string { return "all" }
func (s *heapSink) Write(_ context.Context, b *pipeline.Batch) error {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	s.heap, s.n = m.HeapAlloc, len(b.Events)
	return nil
}
func (s *heapSink) Close(context.Context) error { return nil }

func gzipBody(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestTinyRecordsBounded: max_body_bytes bounded the decoded body but not
// what it became: a ~10 KiB gzip request of 10 MiB of "{}\n" (within the
// default limits) made 3.5 million events, each ~190 normalized bytes plus
// its Event, about 1.3 GiB of live heap while delivered; 128 such requests
// could run at once. Now a request holds at most max_events_per_request
// records (a JSON array is parsed element by element, so that the limit is
// met before the parse holds millions of values): past it the answer is 413
// naming the setting, nothing delivered or quarantined, and a request at the
// limit stays far below that.
func TestTinyRecordsBounded(t *testing.T) {
	hs := &heapSink{}
	f := newFixture(t, Config{}, hs)
	body := gzipBody(t, strings.Repeat("{}\n", (10<<20)/3))
	for _, c := range []struct{ path, body, want string }{
		{"/ingest", body, `"error":`},
		{"/_bulk", gzipBody(t, strings.Repeat("{\"index\":{}}\n{}\n", (10<<20)/16)), `"status":413`},
		{"/services/collector/event", gzipBody(t, strings.Repeat(`{"event":{}}`, (10<<20)/12)), `"code":`},
		{"/services/collector/raw", gzipBody(t, strings.Repeat("a\n", (10<<20)/2)), `"code":`},
		{"/ingest", gzipBody(t, strings.Repeat("x\n", (10<<20)/2)), `"error":`}, // all invalid: rejected records count too
		{"/ingest", gzipBody(t, "["+strings.Repeat("{},", (10<<20)/3-1)+"{}]"), `"error":`},
	} {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		w := f.do("POST", c.path, "", c.body, "Content-Encoding", "gzip")
		runtime.ReadMemStats(&m1)
		t.Logf("%s: %d-byte request: %d, allocated %d MiB", c.path, len(c.body), w.Code, (m1.TotalAlloc-m0.TotalAlloc)>>20)
		if w.Code != 413 || !strings.Contains(w.Body.String(), "max_events_per_request") || !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("%s: %d %s", c.path, w.Code, w.Body)
		}
		// Allocated, not live: buffers grown by append allocate a few times
		// their final size, and what pools kept from earlier requests is
		// not counted. Without the limit each held over 1 GiB live.
		if a := m1.TotalAlloc - m0.TotalAlloc; a > 512<<20 {
			t.Errorf("%s: one %d-byte request allocated %d MiB", c.path, len(c.body), a>>20)
		}
	}
	if hs.n != 0 || len(f.q.Records()) != 0 {
		t.Fatalf("a refused request delivered %d events, quarantined %d records", hs.n, len(f.q.Records()))
	}

	// The largest request the defaults allow.
	var m0 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	w := f.do("POST", "/ingest", "", gzipBody(t, strings.Repeat("{}\n", f.srv.cfg.MaxEventsPerRequest)), "Content-Encoding", "gzip")
	t.Logf("at the limit: %d, %d events, live heap during delivery %d MiB (before %d MiB)", w.Code, hs.n, hs.heap>>20, m0.HeapAlloc>>20)
	if w.Code != 200 || hs.n != f.srv.cfg.MaxEventsPerRequest {
		t.Fatalf("%d events: %d %s", hs.n, w.Code, w.Body)
	}
	if hs.heap > m0.HeapAlloc && hs.heap-m0.HeapAlloc > 128<<20 {
		t.Fatalf("one request at the limit holds %d MiB of heap", (hs.heap-m0.HeapAlloc)>>20)
	}
}

// TestRecordLimitEveryEndpoint: each endpoint takes exactly
// max_events_per_request records and refuses one more with 413, HEC in its
// own shape, delivering nothing.
func TestRecordLimitEveryEndpoint(t *testing.T) {
	f := newFixture(t, Config{MaxEventsPerRequest: 3}, nil)
	for _, c := range []struct {
		path, record, sep, open, close, want string
	}{
		{"/services/collector/event", `{"event":"x"}`, "", "", "", `"code":6`},
		{"/services/collector/raw", "a line", "\n", "", "\n", `"code":6`},
		{"/_bulk", "{\"index\":{}}\n{\"a\":1}", "\n", "", "\n", `"status":413`},
		{"/_bulk", "{\"delete\":{}}", "\n", "", "\n", `"status":413`}, // items count, events or not
		{"/ingest", `{"a":1}`, "\n", "", "\n\n", `"error":`},
		{"/ingest", `not json`, "\n", "", "", `"error":`},
		{"/ingest", `{"a":1}`, ",", "[", "]", `"error":`},
		{"/ingest", `7`, ",", " [ ", " ] ", `"error":`},
	} {
		for n, code := range map[int]int{3: 0, 4: 413} {
			body := c.open + strings.Repeat(c.record+c.sep, n-1) + c.record + c.close
			before := len(f.rec.Events())
			w := f.do("POST", c.path, "", body)
			if code == 0 && w.Code == 413 || code == 413 && (w.Code != 413 || !strings.Contains(w.Body.String(), "raise inputs.http.max_events_per_request") || !strings.Contains(w.Body.String(), c.want)) {
				t.Errorf("%s %q x%d: %d %s", c.path, c.record, n, w.Code, w.Body)
			}
			if code == 413 && len(f.rec.Events()) != before {
				t.Errorf("%s: a refused request delivered events", c.path)
			}
		}
	}
}

// TestNormalizedBytesLimit: text that grows when normalized (control
// characters become \u00XX) is bounded by max_normalized_bytes, 4 x
// max_body_bytes by default, even as one record.
func TestNormalizedBytesLimit(t *testing.T) {
	f := newFixture(t, Config{MaxBodyBytes: 1 << 20}, nil)
	if f.srv.cfg.MaxNormalizedBytes != 4<<20 {
		t.Fatalf("default max_normalized_bytes %d", f.srv.cfg.MaxNormalizedBytes)
	}
	body := strings.Repeat("\x01", 1<<20-1)
	for _, path := range []string{"/services/collector/raw", "/services/collector/event", "/ingest", "/_bulk"} {
		b := body
		switch path {
		case "/services/collector/event":
			b = `{"event":"` + body[:1<<20-16] + `"}`
		case "/ingest":
			b = `{"m":"` + body[:1<<20-16] + `"}`
		case "/_bulk":
			b = "{\"index\":{}}\n" + `{"m":"` + body[:1<<20-32] + `"}` + "\n"
		}
		w := f.do("POST", path, "", b)
		if w.Code != 413 || !strings.Contains(w.Body.String(), "raise inputs.http.max_normalized_bytes") {
			t.Errorf("%s: %d %.300s", path, w.Code, w.Body)
		}
	}
	if len(f.rec.Events()) != 0 {
		t.Error("a refused request delivered events")
	}
	// Within the limit, the same kind of text is accepted.
	if w := f.do("POST", "/services/collector/raw", "", strings.Repeat("\x01", 100<<10)); w.Code != 200 {
		t.Errorf("%d %s", w.Code, w.Body)
	}
}

// TestJSONArrayElementByElement: /ingest arrays are split and parsed one
// element at a time (see TestTinyRecordsBounded), with the answers a whole
// parse gave: non-objects rejected one by one, a malformed array refused
// whole with nothing accepted. (A non-object element is now rejected alone
// even when it is not valid JSON either.)
func TestJSONArrayElementByElement(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	type answer struct {
		Accepted, Rejected int
		Errors             []struct {
			Line   int
			Reason string
		}
	}
	for body, want := range map[string]struct {
		code     int
		accepted int
		reasons  string
	}{
		`[{"a":1},{"b":[1,{"c":"]}"}]}, 7 ,"x",[1],null,{"d":"\"}"}]`: {400, 3, "3:not_object 4:not_object 5:not_object 6:not_object"},
		` [ ] `:                   {200, 0, ""},
		`[{"a":1},{bad}]`:         {400, 0, "1:invalid_json"},
		`[{"a":1},{"b":2}`:        {400, 0, "1:invalid_json"},
		`[{"a":1} {"b":2}]`:       {400, 0, "1:invalid_json"},
		`[{"a":1},]`:              {400, 0, "1:invalid_json"},
		`[{"a":1}] {"b":2}`:       {400, 0, "1:invalid_json"},
		`[{"a":1},"unterminated]`: {400, 0, "1:invalid_json"},
		`[{"a":1},{"s":"x}]`:      {400, 0, "1:invalid_json"},
		`[{"a":1},tru]`:           {400, 1, "2:not_object"},
		`[{"a":1},{"b":{"c":2}}]`: {200, 2, ""},
	} {
		before := len(f.rec.Events())
		w := f.do("POST", "/ingest", "", body)
		var a answer
		if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
			t.Fatalf("%s: %d %s", body, w.Code, w.Body)
		}
		var reasons []string
		for _, e := range a.Errors {
			reasons = append(reasons, strconv.Itoa(e.Line)+":"+e.Reason)
		}
		if w.Code != want.code || a.Accepted != want.accepted || strings.Join(reasons, " ") != want.reasons || len(f.rec.Events())-before != want.accepted {
			t.Errorf("%s: %d %s", body, w.Code, w.Body)
		}
	}
}

// TestLimitsConfig: the per-request limits default from max_body_bytes and
// are validated.
func TestLimitsConfig(t *testing.T) {
	c := Config{}
	c.SetDefaults()
	if c.MaxEventsPerRequest != 104857 || c.MaxNormalizedBytes != 128<<20 {
		t.Errorf("defaults: %d events, %d bytes", c.MaxEventsPerRequest, c.MaxNormalizedBytes)
	}
	c = Config{MaxBodyBytes: 1 << 40}
	c.SetDefaults()
	if c.MaxNormalizedBytes != maxNormalizedBytesLimit || c.Validate("inputs.http") != nil {
		t.Errorf("huge body: %d normalized bytes, %v", c.MaxNormalizedBytes, c.Validate("inputs.http"))
	}
	for _, bad := range []Config{
		{MaxEventsPerRequest: -1},
		{MaxNormalizedBytes: -1},
		{MaxNormalizedBytes: 3 << 30},
	} {
		bad.SetDefaults()
		if err := bad.Validate("inputs.http"); err == nil {
			t.Errorf("%+v: no error", bad)
		} else {
			t.Log(err)
		}
	}
}

// TestEventBytesLimit: a record longer than max_event_bytes is not parsed
// (one long record would pin parser memory tens of times its size) but
// quarantined as too_large with its first max_event_bytes bytes, and the
// records around it are taken, on every endpoint.
func TestEventBytesLimit(t *testing.T) {
	big := `{"a":[` + strings.Repeat("0,", 600) + `0]}` // ~1.2 KiB
	for _, c := range []struct{ path, body string }{
		{"/ingest", "{\"n\":1}\n" + big + "\n{\"n\":2}\n"},
		{"/ingest", "[{\"n\":1}," + big + ",{\"n\":2}]"},
		{"/_bulk", "{\"index\":{}}\n{\"n\":1}\n{\"index\":{}}\n" + big + "\n{\"index\":{}}\n{\"n\":2}\n"},
		{"/services/collector/event", `{"event":{"n":1}}` + "\n" + `{"event":` + big + "}\n" + `{"event":{"n":2}}`},
		{"/services/collector/event", `{"event":{"n":1}}{"event":` + big + `}{"event":{"n":2}}`}, // no newlines
		{"/services/collector/raw", "one\n" + big + "\ntwo\n"},
	} {
		f := newFixture(t, Config{MaxEventBytes: 1024}, nil)
		w := f.do("POST", c.path, "", c.body)
		if w.Code >= 500 || w.Code == 413 {
			t.Errorf("%s: %d %s", c.path, w.Code, w.Body)
			continue
		}
		if n := len(f.rec.Events()); n != 2 {
			t.Errorf("%s: %d events delivered, want the 2 around the long one (%s)", c.path, n, w.Body)
		}
		rs := f.q.Records()
		if len(rs) != 1 || rs[0].Reason != "too_large" || len(rs[0].Raw) != 1024 || !strings.Contains(rs[0].Detail, "max_event_bytes") {
			t.Errorf("%s: quarantined %+v, want one too_large record of its first 1024 bytes", c.path, rs)
		}
	}
}
