package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMDrainsAndExitsZero runs the real binary: it answers a request,
// then on SIGTERM stops accepting, closes its destinations and exits 0
// within the shutdown bound, with the event on disk.
func TestSIGTERMDrainsAndExitsZero(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "router")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	rulesDir, _ := filepath.Abs("../../rules")
	cfg := strings.NewReplacer("DATA", dir, "RULES", rulesDir).Replace(`
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
shutdown_timeout: 10s
`)
	cfgPath := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "-c", cfgPath)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	logs := bufio.NewScanner(stderr)
	var addr string
	var all []string
	for logs.Scan() {
		all = append(all, logs.Text())
		var rec struct{ Msg, HTTP string }
		if json.Unmarshal(logs.Bytes(), &rec) == nil && rec.Msg == "logrouter ready" {
			addr = rec.HTTP
			break
		}
	}
	if addr == "" {
		t.Fatalf("router did not become ready:\n%s", strings.Join(all, "\n"))
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/services/collector/event",
		strings.NewReader(`{"sourcetype":"crowdstrike.falcon","event":{"metadata":{"eventType":"DetectionSummaryEvent"},"id":"sig-1"}}`))
	req.Header.Set("Authorization", "Splunk tok")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("ingest: %v %v", res, err)
	}
	res.Body.Close()

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest := make(chan []string)
	go func() {
		var lines []string
		for logs.Scan() {
			lines = append(lines, logs.Text())
		}
		rest <- lines
	}()
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("router did not exit within 15s of SIGTERM")
	}
	tail := <-rest
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
