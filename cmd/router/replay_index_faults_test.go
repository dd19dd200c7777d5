package main

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"bytes"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// TestReplayRawRecordKeepsTheTokensIndex
//
// What I did: a router whose HTTP input has a token with source_type
// linux.auth and index security (one token per source, as the HEC docs
// and a4fe07d describe). I sent a line to Splunk's raw endpoint
// (/services/collector/raw) with that token; the line was over
// max_event_bytes, so the input quarantined it. Its record carries
// default_source_type linux.auth and default_index security (checked).
// Then `router quarantine replay` (replayQuarantine), which groups the
// record by those defaults and POSTs it to /admin/replay?index=security&
// source_type=linux.auth.
// What happened: the replayed event has the token's source type but no
// logrouter.index: handleReplay hands &defs to addRaw, and addRaw builds
// its EventMeta from defs.sourceType only; defs.index is read, size
// checked, and dropped. Only addHEC (the event endpoint's envelopes) uses
// it. The raw endpoint applies the token's index to every line live
// (hec.go: q.em.Index = tok.Index), as does Firehose (fh.index).
// What should happen: the commit and docs/configuration.md: the router
// "applies them as the input did" -- logrouter.index "security", as the
// line would have had if it had been accepted.
// Why it matters: logrouter.index is what index-based routing, the
// OpenSearch/Splunk index and per-index retention read; a replayed raw or
// Firehose record lands without it (for instance in the default index of
// a team that may not see it), silently, while the CLI reports success.
func TestReplayRawRecordKeepsTheTokensIndex(t *testing.T) {
	a, cfg := startReplayRouterWith(t, func(c *config.Config) {
		c.Inputs.HTTP.Tokens = []httpin.Token{{Name: "auth", Token: "auth-token", SourceType: "linux.auth", Index: "security"}}
		c.Inputs.HTTP.MaxEventBytes = 256
	})

	line := "Nov 28 10:00:00 bastion-1 sshd[4242]: Failed password for root from 203.0.113.9 port 52014 ssh2 rvidx-marker-1 " +
		strings.Repeat("x", 300)
	req, _ := http.NewRequest(http.MethodPost, "http://"+a.HTTPAddr()+"/services/collector/raw", strings.NewReader(line+"\n"))
	req.Header.Set("Authorization", "Splunk auth-token")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()

	rec, ok := waitQuarantined(cfg.Quarantine.Dir, 3*time.Second, func(r quarantine.Record) bool {
		return bytes.Contains(r.Raw, []byte("rvidx-marker-1"))
	})
	if !ok {
		t.Fatalf("the raw line was not quarantined (status %d)", res.StatusCode)
	}
	if rec.Protocol != httpin.ProtoHECRaw || rec.DefaultSourceType != "linux.auth" || rec.DefaultIndex != "security" {
		t.Fatalf("record protocol %q defaults %q / %q, want hec_raw with the token's linux.auth / security",
			rec.Protocol, rec.DefaultSourceType, rec.DefaultIndex)
	}

	var out bytes.Buffer
	// Its first bytes only: sent when the reason is named.
	if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "", "too_large", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	arch := filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "archive")
	got, ok := reviewDirHas(arch, "rvidx-marker-1")
	for deadline := time.Now().Add(5 * time.Second); !(ok && strings.Contains(got, `"input":"replay"`)) && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		got, ok = reviewDirHas(arch, "rvidx-marker-1")
	}
	if !ok {
		t.Fatalf("the replayed line never reached the archive (replay said: %s)", strings.TrimSpace(out.String()))
	}
	if !strings.Contains(got, `"dataset":"linux.auth"`) {
		t.Errorf("replayed line without the token's source type: %.600s", got)
	}
	if !strings.Contains(got, `"index":"security"`) {
		t.Errorf("replayed raw-endpoint line lost the token's index (logrouter.index security) though the record has default_index security and the CLI sent ?index=security:\n%.800s", got)
	}
}
