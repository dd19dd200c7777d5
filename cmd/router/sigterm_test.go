package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMDrainsAndExitsZero runs the real binary: it answers a request,
// then on SIGTERM stops accepting, delivers what is queued, closes its
// destinations and exits 0 within the shutdown bound, with the event on disk.
func TestSIGTERMDrainsAndExitsZero(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, `
log: {level: info, format: json}
admin: {address: "127.0.0.1:0"}
inputs:
  http:
    address: "127.0.0.1:0"
    tokens: [{name: t, token: tok}]
rules: {dir: RULES}
destinations:
  - {name: archive, type: archive_dir, archive_dir: {dir: DATA/archive}}
  - {name: siem, type: file, file: {dir: DATA/siem}}
routing: {P1: [siem], all: [archive]}
quarantine: {dir: DATA/quarantine}
queue: {dir: DATA/queue}
shutdown_timeout: 10s
`)
	p := startRouter(t, cfgPath)
	req, _ := http.NewRequest("POST", "http://"+p.http+"/services/collector/event",
		strings.NewReader(`{"sourcetype":"crowdstrike.falcon","event":{"metadata":{"eventType":"DetectionSummaryEvent"},"id":"sig-1"}}`))
	req.Header.Set("Authorization", "Splunk tok")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("ingest: %v %v", res, err)
	}
	res.Body.Close()

	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err, tail := p.wait(t, 15*time.Second)
	if err != nil {
		t.Fatalf("exit: %v\n%s", err, strings.Join(tail, "\n"))
	}
	if !strings.Contains(strings.Join(tail, "\n"), "stopped cleanly") {
		t.Errorf("no clean stop logged:\n%s", strings.Join(tail, "\n"))
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	siem, _ := filepath.Glob(filepath.Join(dir, "siem", "*.ndjson"))
	if len(siem) == 0 {
		t.Fatal("no SIEM file")
	}
	data, _ := os.ReadFile(siem[0])
	if !strings.Contains(string(data), `"id":"sig-1"`) {
		t.Errorf("SIEM file lacks the event: %s", data)
	}
	partial, _ := filepath.Glob(filepath.Join(dir, "archive", "*", "*", "*", "*", "*", "*.partial"))
	if len(partial) > 0 {
		t.Errorf("archive objects not finalized at shutdown: %v", partial)
	}
}
