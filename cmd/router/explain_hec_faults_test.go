package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainHECStopsAtInvalidEnvelope: the HEC event endpoint
// (pipeline/ingest/httpin/hec.go handleHEC) stops at an envelope whose
// event is missing or blank and quarantines everything after it as
// hec_not_processed; explain --format hec went on and showed the next
// envelope routed to the SIEM.
func TestExplainHECStopsAtInvalidEnvelope(t *testing.T) {
	body := `{"event":null}{"sourcetype":"crowdstrike.falcon","event":{"metadata":{"eventType":"DetectionSummaryEvent"},"event":{"ComputerName":"ws-042","Severity":4}}}` + "\n"
	out, _ := run(t, body, "explain", "--format", "hec")
	if strings.Contains(out, "envelope 2: rule=") {
		t.Fatalf("envelope 2 follows an invalid one (the input quarantines it as hec_not_processed) but explain routes it:\n%s", out)
	}
}

// TestExplainHECBlankEventReason: the input's reason for a null or
// empty-string event is hec_blank_event (code 13), not hec_missing_event.
func TestExplainHECBlankEventReason(t *testing.T) {
	out, _ := run(t, `{"event":""}`+"\n", "explain", "--format", "hec")
	if !strings.Contains(out, "rejected (hec_blank_event)") {
		t.Fatalf("a blank event is quarantined by the input as hec_blank_event:\n%s", out)
	}
}

// TestExplainHECProtocol: the event the router makes from a HEC
// envelope carries logrouter.protocol "hec"; explain --format hec shows
// "ndjson" (rules may match on it, and the shown event is not the one sent).
func TestExplainHECProtocol(t *testing.T) {
	out, err := run(t, `{"sourcetype":"crowdstrike.falcon","event":{"metadata":{"eventType":"DetectionSummaryEvent"},"event":{"ComputerName":"ws-042","Severity":4}}}`+"\n", "explain", "--format", "hec")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, `"protocol":"hec"`) {
		t.Fatalf("explain --format hec shows another protocol than the HEC input's:\n%s", out)
	}
}

// TestExplainHECPrettyPrinted: the HEC endpoint takes a body whose
// envelope spans lines (nextEnvelope falls back to bracket matching);
// explain --format hec reads line by line and rejects every line of it.
func TestExplainHECPrettyPrinted(t *testing.T) {
	body := "{\n  \"sourcetype\": \"crowdstrike.falcon\",\n  \"event\": {\"metadata\": {\"eventType\": \"DetectionSummaryEvent\"}, \"event\": {\"ComputerName\": \"ws-042\", \"Severity\": 4}}\n}\n"
	out, err := run(t, body, "explain", "--format", "hec")
	if err != nil || !strings.Contains(out, "rule=") {
		t.Fatalf("a pretty-printed HEC body (accepted by the input): %v\n%s", err, out)
	}
}

// TestExplainHECInputSourceType: an envelope without a sourcetype, sent
// with a token that names none, gets inputs.http.source_type from the HEC
// input; explain --format hec -c gives it the same.
func TestExplainHECInputSourceType(t *testing.T) {
	dir := t.TempDir()
	cfg := `inputs:
  http:
    address: 127.0.0.1:0
    source_type: linux.auth
    tokens: [{name: t, token: x}]
destinations:
  - {name: archive, type: archive_dir, archive_dir: {dir: ` + filepath.Join(dir, "a") + `}}
routing: {all: [archive]}
quarantine: {dir: ` + filepath.Join(dir, "q") + `}
queue: {dir: ` + filepath.Join(dir, "queue") + `}
rules: {dir: ` + mustAbs(t, "../../rules") + `}
`
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, `{"event":"Failed password for root from 203.0.113.9 port 52014 ssh2"}`+"\n", "explain", "-c", path, "--format", "hec")
	if err != nil || !strings.Contains(out, "source_type=linux.auth") {
		t.Fatalf("%v\n%s", err, out)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
