package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// TestReplaySkipsSealKey: the router keeps seal.key at the top of the
// quarantine directory, next to the input rejections (quarantine/*.ndjson),
// so a shell glob (`router quarantine replay data/quarantine/*`) names it.
// The command skips it like the progress files: no "does not parse"
// warning about the key, no seal.key.replay.json next to it.
func TestReplaySkipsSealKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "quarantine")
	if _, err := quarantine.LoadOrCreateSealKey(filepath.Join(dir, quarantine.SealKeyFile)); err != nil {
		t.Fatal(err)
	}
	r := pipeline.Rejected{Raw: []byte(`{"a":1}`), Reason: "invalid_json", Input: "http"}
	if err := os.WriteFile(filepath.Join(dir, "rejected-2020-01-01T00.ndjson"), quarantine.AppendRecord(nil, &r, time.Now()), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	_ = os.Chtimes(filepath.Join(dir, "rejected-2020-01-01T00.ndjson"), old, old)
	_ = os.Chtimes(filepath.Join(dir, quarantine.SealKeyFile), old, old)
	args, _ := filepath.Glob(filepath.Join(dir, "*")) // the shell's data/quarantine/*
	var out bytes.Buffer
	files, err := quarantineFiles(&out, args)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if filepath.Base(f) == quarantine.SealKeyFile {
			t.Errorf("quarantineFiles lists the seal key as a quarantine file: %v", files)
		}
	}
	out.Reset()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"replayed":1,"rejected":0}`))
	}))
	defer srv.Close()
	err = replayQuarantineTo(&out, newAdminClient(srv.URL, ""), args, "", "", false)
	if strings.Contains(out.String(), quarantine.SealKeyFile) {
		t.Errorf("replay of data/quarantine/* reports on the seal key (err %v):\n%s", err, out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, quarantine.SealKeyFile+progressSuffix)); err == nil {
		t.Errorf("replay wrote a progress file for the seal key")
	}
}
