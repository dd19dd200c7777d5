package main

// Fault tests from a review of quarantine replay: each failed on the code as
// reviewed because of the fault its comment describes. Those that still
// skip name a fault that is open (see their t.Skip).

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/logrouter/logrouter/sinks/quarantine"
)

// faultsReplayPost posts body to the router's HTTP input at path (with an
// optional Authorization header) and returns the status and answer.
func faultsReplayPost(t *testing.T, addr, path, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// faultsReplayWait waits (bounded) for a line holding s under dir.
func faultsReplayWait(dir, s string) (string, bool) {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if l, ok := reviewDirHas(dir, s); ok || time.Now().After(deadline) {
			return l, ok
		}
	}
}

// faultsReplayField returns the value at the dotted path of the JSON event line
// (nil when absent).
func faultsReplayField(t *testing.T, line, path string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		t.Fatalf("not a JSON event: %v: %.300s", err, line)
	}
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// faultsReplayFalconPretty is reviewFalconHEC's detection as a pretty-printed
// envelope (what json.dumps(indent=2), jq, or Splunk's own documentation
// examples send): one envelope over several lines.
func faultsReplayFalconPretty(detectID string) string {
	var v any
	if err := json.Unmarshal([]byte(reviewFalconHEC(detectID)), &v); err != nil {
		panic(err)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestReplayHECPrettyPrintedEnvelopeReplayed
//
// What is wrong: the HEC event endpoint takes envelopes however they are
// laid out (nextEnvelope falls back from lines to brace matching, so a
// pretty-printed envelope over several lines is one event; the control below
// shows it reaching the SIEM). When an earlier envelope of the request is
// invalid, the rest of the body is quarantined as one hec_not_processed
// record whose raw bytes keep those newlines. `router quarantine replay`
// sends that record to POST /admin/replay/hec, and handleReplay reads its
// body line by line (readLine) and hands each LINE to addHEC: "{",
// `  "time": 1764331200,`, ... none is an envelope, so every line is
// quarantined again as replay_rejected ("not HEC event envelopes"). The CLI
// counts the record as replayed (the router answered for every line) and
// never sends it again; the detection never reaches the SIEM, and the
// quarantine now holds only fragments of it, each one line of JSON.
//
// Expected: the detection is delivered once, as it would have been had it
// been accepted the first time (README: "HEC envelopes an input refused are
// unwrapped as HEC would"; docs/configuration.md: a replay applies the
// record's defaults "so the record maps and routes as it would have").
func TestReplayHECPrettyPrintedEnvelopeReplayed(t *testing.T) {
	a, cfg := startReplayRouter(t, "")
	siemDir := filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "siem")

	// Control: the pretty-printed envelope alone is one P1 event.
	if code, body := faultsReplayPost(t, a.HTTPAddr(), "/services/collector/event", "", faultsReplayFalconPretty("ldt:rv4pretty:direct")); code != 200 {
		t.Fatalf("control: %d %s", code, body)
	}
	if _, ok := faultsReplayWait(siemDir, "ldt:rv4pretty:direct"); !ok {
		t.Fatal("control: the pretty-printed detection sent alone did not reach the SIEM")
	}

	// After a blank event: 400 code 13, the rest quarantined.
	code, body := faultsReplayPost(t, a.HTTPAddr(), "/services/collector/event", "", `{"event":""}`+"\n"+faultsReplayFalconPretty("ldt:rv4pretty:replayed"))
	if code != 400 || !strings.Contains(body, `"code":13`) {
		t.Fatalf("want 400 code 13, got %d %s", code, body)
	}
	if _, ok := waitQuarantined(cfg.Quarantine.Dir, 3*time.Second, func(r quarantine.Record) bool {
		return r.Reason == "hec_not_processed" && bytes.Contains(r.Raw, []byte("ldt:rv4pretty:replayed"))
	}); !ok {
		t.Fatal("the rest of the request was not quarantined as hec_not_processed")
	}

	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	if _, ok := faultsReplayWait(siemDir, "ldt:rv4pretty:replayed"); !ok {
		frag, _ := waitQuarantined(cfg.Quarantine.Dir, time.Second, func(r quarantine.Record) bool {
			return r.Input == "replay" && bytes.Contains(r.Raw, []byte(`"DetectId"`))
		})
		t.Fatalf("the replayed detection never reached the SIEM (replay said: %s); the router re-quarantined lines such as %q (%s: %s)",
			strings.TrimSpace(out.String()), frag.Raw, frag.Reason, frag.Detail)
	}
}

// TestReplayHECEventQueryDefaultsReplayed
//
// What is wrong: on /services/collector/event the query string's
// ?host=&source=&time= (and ?sourcetype=) are the defaults of every
// envelope that names none (httpin.handleHEC: queryDefaults, apply; the
// way syslog-ng's splunk-hec-event() sends them). When such an envelope is
// quarantined (hec_not_processed after an invalid event), its record keeps
// only default_source_type and default_index (q.rejST, q.rejIndex): the
// query's host, source and time are not stored anywhere, and addHEC on
// replay applies only the envelope's own keys. The replayed event has no
// host.name (the sender), no logrouter.source, and the replay's clock as
// @timestamp instead of ?time=. ?sourcetype= is kept, but as
// default_source_type, which replay applies as EventMeta.DefaultSourceType:
// the request applied it as EventMeta.SourceType, which "overrides an
// event.dataset found in the event" (normalize.EventMeta), so an event with
// its own event.dataset comes back under that one (app.audit, P3) instead
// of the sender's sourcetype (linux.auth: the os-linux-auth rule). The same
// demotion hits the raw endpoint's ?sourcetype= and Firehose's common
// attribute sourcetype (both stored as q.rejST). (The raw endpoint's
// ?host/?source/?time are already known lost; this is the event
// endpoint's own path.)
//
// Expected: the replayed event equals the one the router makes of the same
// envelope accepted the first time (the control below): host.name edge-7,
// logrouter.source syslog-ng, @timestamp from ?time=, event.dataset
// linux.auth (README, /services/
// collector/event: "?sourcetype=&source=&host=&index=&time= are the
// defaults of envelopes that name none"; README: "HEC envelopes an input
// refused are unwrapped as HEC would, sourcetype and time applied").
func TestReplayHECEventQueryDefaultsReplayed(t *testing.T) {
	a, cfg := startReplayRouter(t, "")
	archDir := filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "archive")
	const query = "/services/collector/event?host=edge-7&source=syslog-ng&time=1764331200&sourcetype=linux.auth"
	env := func(marker string) string {
		return `{"event":{"event":{"dataset":"app.audit"},"message":"sshd[42]: Failed password for root from 203.0.113.9 port 52014 ssh2 ` + marker + `"}}`
	}

	if code, body := faultsReplayPost(t, a.HTTPAddr(), query, "", env("rv4query-direct")); code != 200 {
		t.Fatalf("control: %d %s", code, body)
	}
	direct, ok := faultsReplayWait(archDir, "rv4query-direct")
	if !ok {
		t.Fatal("control: the envelope sent alone was not archived")
	}

	code, body := faultsReplayPost(t, a.HTTPAddr(), query, "", `{"event":""}`+"\n"+env("rv4query-replayed"))
	if code != 400 || !strings.Contains(body, `"code":13`) {
		t.Fatalf("want 400 code 13, got %d %s", code, body)
	}
	if _, ok := waitQuarantined(cfg.Quarantine.Dir, 3*time.Second, func(r quarantine.Record) bool {
		return bytes.Contains(r.Raw, []byte("rv4query-replayed"))
	}); !ok {
		t.Fatal("the envelope was not quarantined")
	}
	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	replayed, ok := faultsReplayWait(archDir, "rv4query-replayed")
	if !ok {
		t.Fatalf("the replayed envelope was not archived (replay said: %s)", strings.TrimSpace(out.String()))
	}
	for _, f := range []string{"host.name", "logrouter.source", "@timestamp", "event.dataset"} {
		want, got := faultsReplayField(t, direct, f), faultsReplayField(t, replayed, f)
		if want == nil {
			t.Fatalf("control lacks %s: %.600s", f, direct)
		}
		if got != want {
			t.Errorf("replayed event's %s = %v, want %v as the same envelope accepted directly", f, got, want)
		}
	}
	if t.Failed() {
		t.Logf("direct:   %.600s\nreplayed: %.600s", direct, replayed)
	}
}

// TestReplayHECReplayKeepsTheIngestTime
//
// What is wrong: an envelope without "time" (and no ?time=) takes the time
// it was received: HEC stamps it with the request's ingest time, which is
// also the quarantine record's "time" (httpin request.reject: Time =
// b.Meta.IngestTime). On replay handleReplay stamps the batch with
// time.Now() (b.Meta.IngestTime) and nothing gives the record's time back,
// so the replayed event's @timestamp is the replay's clock: hours or days
// later, in another daily OpenSearch index and archive partition, out of
// place in every timeline. The same holds for every input record whose
// event has no time of its own (text lines, raw lines, syslog without a
// parsable header).
//
// Expected: the replayed event is dated as it would have been had it been
// accepted the first time: @timestamp = the record's time (the request's
// ingest time). Sources: the brief's "a wrong time"; docs/configuration.md
// keeps the ingest time for a destination's refusals on replay because
// "the OpenSearch index date and an ingest-time archive partition are
// decided from it", and says a replay applies a record's defaults "so the
// record maps and routes as it would have"; README: HEC envelopes replay
// "sourcetype and time applied".
func TestReplayHECReplayKeepsTheIngestTime(t *testing.T) {
	a, cfg := startReplayRouter(t, "")
	archDir := filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "archive")

	code, body := faultsReplayPost(t, a.HTTPAddr(), "/services/collector/event", "", `{"event":""}`+"\n"+`{"event":"user root logged in rv4time-marker"}`)
	if code != 400 {
		t.Fatalf("want 400, got %d %s", code, body)
	}
	rec, ok := waitQuarantined(cfg.Quarantine.Dir, 3*time.Second, func(r quarantine.Record) bool {
		return bytes.Contains(r.Raw, []byte("rv4time-marker"))
	})
	if !ok {
		t.Fatal("the envelope was not quarantined")
	}
	time.Sleep(20 * time.Millisecond) // the replay happens later than the request, as it always does

	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	line, ok := faultsReplayWait(archDir, "rv4time-marker")
	if !ok {
		t.Fatalf("the replayed envelope was not archived (replay said: %s)", strings.TrimSpace(out.String()))
	}
	ts, _ := faultsReplayField(t, line, "@timestamp").(string)
	got, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		t.Fatalf("@timestamp %q: %v: %.500s", ts, err, line)
	}
	// Exact, or at the millisecond precision some times are written with.
	if want := rec.Time; !got.Equal(want) && !got.Equal(want.Truncate(time.Millisecond)) {
		t.Errorf("replayed event's @timestamp %s, want the request's ingest time %s (the record's time): it is dated by the replay",
			got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
	}
}

// faultsReplayArchivedLines returns every archived line under dir holding s.
func faultsReplayArchivedLines(dir, s string) []string {
	var out []string
	for _, f := range faultsReplayFiles(dir) {
		for _, l := range strings.Split(f, "\n") {
			if strings.Contains(l, s) {
				out = append(out, l)
			}
		}
	}
	return out
}

// TestReplayBulkMalformedActionReplay
//
// What is wrong: a _bulk body with one malformed action line is refused
// whole with a final 400 (as Elasticsearch does; Fluent Bit and Logstash
// do not retry a 400) and quarantined as ONE bulk_malformed_action record
// holding the whole body: action lines and source lines. The quarantine is
// then the only copy of the documents. `router quarantine replay` sends the
// record to POST /admin/replay, which takes every line as an event
// (addRaw): each action/metadata line ({"index":{"_index":...}}) is
// delivered as a log event of its own, next to the documents, and the
// documents lose the _index their action gave them (logrouter.index, and
// the source type bulk derives from it when the token has none), which
// only the action line held. So replay doubles the record count with
// junk events and routes the documents as if they had no index.
//
// Expected: replay makes of the record the events the bulk endpoint makes
// of such a body's documents: one event per source line, with its action's
// _index as logrouter.index (README, POST /{index}/_bulk: "ES/OpenSearch
// bulk (index/create + source)"; docs/configuration.md#quarantine: a
// replay applies a record's defaults "so the record maps and routes as it
// would have"; README: "each record once"). Action lines are not events.
func TestReplayBulkMalformedActionReplay(t *testing.T) {
	a, cfg := startReplayRouter(t, "")
	archDir := filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "archive")
	docs := func(tag string) string {
		return `{"index":{"_index":"rv4bulk-idx"}}` + "\n" +
			`{"message":"GET /login 401 rv4bulk-` + tag + `-1"}` + "\n" +
			`{"create":{"_index":"rv4bulk-idx"}}` + "\n" +
			`{"message":"GET /admin 403 rv4bulk-` + tag + `-2"}` + "\n"
	}

	// Control: the documents in a valid body.
	if code, body := faultsReplayPost(t, a.HTTPAddr(), "/_bulk", "", docs("direct")); code != 200 || strings.Contains(body, `"errors":true`) {
		t.Fatalf("control: %d %s", code, body)
	}
	direct, ok := faultsReplayWait(archDir, "rv4bulk-direct-1")
	if !ok {
		t.Fatal("control: the documents were not archived")
	}

	// The same documents before a malformed action line: all refused.
	code, body := faultsReplayPost(t, a.HTTPAddr(), "/_bulk", "", docs("replayed")+`{"frobnicate":{"_index":"rv4bulk-idx"}}`+"\n"+`{"message":"x"}`+"\n")
	if code != 400 {
		t.Fatalf("want 400 for a malformed action, got %d %s", code, body)
	}
	if _, ok := waitQuarantined(cfg.Quarantine.Dir, 3*time.Second, func(r quarantine.Record) bool {
		return r.Reason == "bulk_malformed_action" && bytes.Contains(r.Raw, []byte("rv4bulk-replayed-1"))
	}); !ok {
		t.Fatal("the body was not quarantined as bulk_malformed_action")
	}

	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	replayed, ok := faultsReplayWait(archDir, "rv4bulk-replayed-1")
	if !ok {
		t.Fatalf("the documents were not archived after the replay (replay said: %s)", strings.TrimSpace(out.String()))
	}
	if want, got := faultsReplayField(t, direct, "logrouter.index"), faultsReplayField(t, replayed, "logrouter.index"); want == nil || got != want {
		t.Errorf("replayed document's logrouter.index = %v, want %v (its action's _index, as accepted directly)\ndirect:   %.500s\nreplayed: %.500s",
			got, want, direct, replayed)
	}
	// Action lines delivered as events: every archived event that is an
	// action line ("index"/"create" object naming _index).
	var actions []string
	for _, l := range faultsReplayArchivedLines(archDir, "rv4bulk-idx") {
		for _, op := range []string{"index", "create", "frobnicate"} {
			if faultsReplayField(t, l, op+"._index") != nil {
				actions = append(actions, l)
			}
		}
	}
	if len(actions) > 0 {
		t.Errorf("replay delivered %d bulk action lines as log events, e.g. %.400s", len(actions), actions[0])
	}
}

// faultsReplayFiles returns the contents of the files under dir, zstd objects
// decoded (their complete frames), as reviewDirHas reads them.
func faultsReplayFiles(dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		if strings.Contains(p, ".zst") {
			dec, _ := zstd.NewReader(nil)
			b, _ = dec.DecodeAll(b, nil)
			dec.Close()
		}
		out = append(out, string(b))
		return nil
	})
	return out
}
