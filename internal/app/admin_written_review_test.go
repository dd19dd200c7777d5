package app

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/opensearch"
	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// TestWrittenReplayKeepsOpenSearchIndex: a refused event replayed as
// written keeps its OpenSearch index as well as its _id. The sink dates the
// index from Event.Time only within index_date_max_age of Event.Ingest,
// else from Event.Ingest; replay used to replace Ingest by its own time
// (found by review), so an event replayed more than 7 days after it was
// written, or one dated from its ingest time, landed in another index: the
// same _id twice, not a 409.
func TestWrittenReplayKeepsOpenSearchIndex(t *testing.T) {
	srv := osfake.New()
	defer srv.Close()
	srv.SetAutoCreate(true)
	data := t.TempDir()
	a := destApp(t, data, []config.Destination{{Name: "opensearch", Type: "opensearch",
		OpenSearch: &opensearch.Config{URLs: []string{srv.URL}}}},
		config.Routing{P2: []string{"opensearch"}})
	defer stopApp(t, a)

	key := appSealKey(t, data)
	day := func(ns int64) string { return "logs-fw.generic-" + time.Unix(0, ns).UTC().Format("2006.01.02") }
	now := time.Now()
	cases := []struct {
		name         string
		time, ingest int64
		hash         uint64
	}{
		// Written 20 days ago, event time a second before ingest: its index
		// was dated from its own time.
		{"replayed 20 days later", now.Add(-20*24*time.Hour - time.Second).UnixNano(), now.Add(-20 * 24 * time.Hour).UnixNano(), 0x1111111111111111},
		// A bogus old event time (2020): its index was dated from its
		// ingest time, two days ago.
		{"index dated from ingest", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), now.Add(-48 * time.Hour).UnixNano(), 0x2222222222222222},
	}
	var body bytes.Buffer
	want := map[string]string{} // _id -> index it was written to
	for _, c := range cases {
		rej := pipeline.Rejected{
			Raw:    []byte(`{"@timestamp":"` + time.Unix(0, c.time).UTC().Format(time.RFC3339Nano) + `","message":"` + c.name + `"}`),
			Reason: "destination_rejected", Destination: "opensearch", Status: 400,
			Event: &pipeline.RejectedEvent{Hash: c.hash, Time: c.time, Ingest: c.ingest, SourceType: "fw.generic", Priority: pipeline.P2},
		}
		body.Write(key.AppendRecord(nil, &rej, time.Unix(0, c.ingest)))
		// What the sink computed when it first wrote the event (the
		// date window: 7 days before, 1 hour after its ingest time).
		idx := day(c.time)
		if c.time < c.ingest-7*24*int64(time.Hour) || c.time > c.ingest+int64(time.Hour) {
			idx = day(c.ingest)
		}
		want[opensearch.DocumentID(c.hash)] = idx
	}
	res, err := http.Post("http://"+a.AdminAddr()+"/admin/replay/written?destination=opensearch", "application/x-ndjson", &body)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, msg)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(srv.Docs()) < len(cases) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	docs := srv.Docs()
	if len(docs) != len(cases) {
		t.Fatalf("%d documents, want %d (%s)", len(docs), len(cases), msg)
	}
	for _, d := range docs {
		if w := want[d.ID]; d.Index != w {
			t.Errorf("document %s (%s) replayed as written went to index %s; it was written to %s (a second copy, not a 409)", d.ID, d.Source, d.Index, w)
		}
	}
}

// TestWrittenReplayKeepsSourceType: a replay as written keeps the source
// type, which a sender chooses (HEC "sourcetype") and the router keeps as
// it came, invalid UTF-8 included. In "source_type", a JSON string,
// encoding/json replaced invalid bytes by U+FFFD (found by review): another
// source type, another OpenSearch index. Such a source type is now stored
// as "source_type_base64".
func TestWrittenReplayKeepsSourceType(t *testing.T) {
	srv := osfake.New()
	defer srv.Close()
	srv.SetAutoCreate(true)
	srv.SetItemFaults(osfake.ItemFaults{Seed: 1, Rate400: 1}) // every document refused
	data := t.TempDir()
	a := destApp(t, data, []config.Destination{{Name: "opensearch", Type: "opensearch",
		OpenSearch: &opensearch.Config{URLs: []string{srv.URL}}}},
		config.Routing{P1: []string{"opensearch"}, P2: []string{"opensearch"}, P3: []string{"opensearch"}})
	defer stopApp(t, a)

	env := "{\"sourcetype\":\"fw\xffgeneric\",\"event\":{\"message\":\"odd source type\"}}\n"
	req, _ := http.NewRequest(http.MethodPost, "http://"+a.HTTPAddr()+"/services/collector/event", strings.NewReader(env))
	req.Header.Set("Authorization", "Splunk fwsecret")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("ingest: %d %s", res.StatusCode, msg)
	}
	var line []byte
	deadline := time.Now().Add(20 * time.Second)
	for line == nil && time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(data, "quarantine", "opensearch", "*.ndjson"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if i := bytes.IndexByte(b, '\n'); i > 0 {
				line = b[:i+1]
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if line == nil {
		t.Fatal("the refusal was not quarantined")
	}
	refused := srv.Rejected()
	if len(refused) != 1 {
		t.Fatalf("%d refusals", len(refused))
	}
	srv.SetItemFaults(osfake.ItemFaults{})
	res, err = http.Post("http://"+a.AdminAddr()+"/admin/replay/written?destination=opensearch", "application/x-ndjson", bytes.NewReader(line))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(msg), `"replayed":1`) {
		t.Fatalf("replay: %d %s\n%s", res.StatusCode, msg, line)
	}
	for deadline := time.Now().Add(20 * time.Second); len(srv.Docs()) == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	docs := srv.Docs()
	if len(docs) != 1 {
		t.Fatalf("%d documents", len(docs))
	}
	if docs[0].ID != refused[0].ID {
		t.Fatalf("_id %s, was %s", docs[0].ID, refused[0].ID)
	}
	if docs[0].Index != refused[0].Index {
		t.Errorf("replayed as written into index %q; it was written to %q (quarantine line %s)", docs[0].Index, refused[0].Index, line)
	}
}

// TestWrittenReplayRawBase64RoundTrip: an event whose bytes are not valid
// UTF-8 (stored as raw_base64) or are full of escapes comes back from a
// record line byte for byte, with its metadata.
func TestWrittenReplayRawBase64RoundTrip(t *testing.T) {
	key, err := quarantine.LoadOrCreateSealKey(filepath.Join(t.TempDir(), quarantine.SealKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"{\"a\":\"\xff\xfe\"}", `{"a":"\"\"\"\\\\"}`, "{\"a\":\"\u2028\u2029\"}", `{}`} {
		ev := &pipeline.RejectedEvent{Hash: 42, Time: 0, Ingest: -1, SourceType: "", Priority: pipeline.P3}
		rej := pipeline.Rejected{Raw: []byte(raw), Reason: "destination_rejected", Destination: "d", Event: ev}
		line := bytes.TrimSuffix(key.AppendRecord(nil, &rej, time.Now()), []byte("\n"))
		rec, err := quarantine.ParseLine(line)
		if err != nil || !key.Verify(rec) {
			t.Fatalf("%q: the sealed record does not verify (%v): %s", raw, err, line)
		}
		b := pipeline.NewBatch()
		if err := addWritten(b, rec); err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		got := b.Events[0]
		if string(got.Raw) != raw || got.Hash != 42 || got.Time != 0 || got.Priority != pipeline.P3 || !got.Replayed {
			t.Errorf("%q came back as %+v", raw, got)
		}
		b.Release()
	}
}

// appSealKey is the seal key of the router whose data directory is data
// (its quarantine is data/quarantine), to write records it takes as written.
func appSealKey(t *testing.T, data string) *quarantine.SealKey {
	t.Helper()
	path := filepath.Join(data, "quarantine", quarantine.SealKeyFile)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the router made no seal key: %v", err)
	}
	key, err := quarantine.LoadOrCreateSealKey(path)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
