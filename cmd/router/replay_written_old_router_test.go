package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// TestReplayWrittenAgainstAnOldRouter: a router that predates
// /admin/replay/written answers it 404, and the run stops there with an
// error that says to upgrade the router; what it sent before (records
// replayed through /admin/replay, such as input records) is recorded, so
// the next run sends none of it again, and no record line ever reaches the
// old router's /admin/replay, where it would be normalized as an event.
func TestReplayWrittenAgainstAnOldRouter(t *testing.T) {
	var mu sync.Mutex
	var got []string
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/admin/replay" { // what a router before 9795a13 serves
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		n := replayRecords(b)
		mu.Lock()
		got = append(got, r.URL.String())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"replayed":` + strconv.Itoa(n) + `,"rejected":0}` + "\n"))
	}))
	defer old.Close()

	dir := t.TempDir()
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	var file bytes.Buffer
	for _, r := range []pipeline.Rejected{
		{Raw: []byte(`{"message":"an input record"}`), Reason: "invalid_json", Input: "http"},
		{Raw: []byte(`{"message":"a refused event"}`), Reason: "destination_rejected", Destination: "siem", Status: 400,
			Event: &pipeline.RejectedEvent{Hash: 1, Time: at.UnixNano(), Ingest: at.UnixNano(), SourceType: "x", Priority: pipeline.P2}},
	} {
		file.Write(quarantine.AppendRecord(nil, &r, at))
	}
	path := filepath.Join(dir, "quarantine-20261101T10.ndjson")
	if err := os.WriteFile(path, file.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := replayQuarantine(&out, old.URL, []string{dir}, "", "", false)
	if err == nil || !strings.Contains(err.Error(), "upgrade the router") {
		t.Fatalf("against an old router: %v\n%s", err, out.String())
	}
	out.Reset()
	_ = replayQuarantine(&out, old.URL, []string{dir}, "", "", false)
	mu.Lock()
	defer mu.Unlock()
	// (Its query, ingest_time, an old router ignores.)
	if len(got) != 1 || strings.SplitN(got[0], "?", 2)[0] != "/admin/replay" {
		t.Errorf("the old router got %v; want the input record once, through /admin/replay", got)
	}
}
