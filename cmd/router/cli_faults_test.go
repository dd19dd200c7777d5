package main

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestReplaySymlinkedQuarantineDir
//
// Input: `router quarantine replay DIR` where DIR (the quarantine.dir, or the
// default ./data/quarantine) is a symbolic link to the real directory, as is
// common when the data directory is moved to a larger volume. It holds a
// finished quarantine file with 3 records.
//
// What happens: quarantineFiles os.Stat()s the argument (which follows the
// link, so it is taken as a directory) and then calls filepath.WalkDir on
// it; WalkDir Lstat()s the root, sees a symlink, does not descend, and no
// file is listed. The command prints "0 records selected, 0 replayed" and
// exits 0.
//
// What should happen: the records under the linked directory are replayed
// (or, at the very least, the command fails). The router itself writes
// through the link without trouble.
//
// Why it matters: the operator (or a cron/CI job checking the exit status)
// is told the replay succeeded while every quarantined record is still
// undelivered.
func TestReplaySymlinkedQuarantineDir(t *testing.T) {
	real := filepath.Join(t.TempDir(), "quarantine")
	if err := os.MkdirAll(real, 0o755); err != nil {
		t.Fatal(err)
	}
	writeRecords(t, filepath.Join(real, "quarantine-20240101T00.ndjson"), 3)
	link := filepath.Join(t.TempDir(), "quarantine")
	if err := os.Symlink(real, link); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	a := newCountingAdmin(t, func(_ int, lines []string) (int, string) {
		return http.StatusOK, routerAnswer(len(lines), 0)
	})
	var out bytes.Buffer
	err := replayQuarantine(&out, a.srv.URL, []string{link}, "", "", false)
	if got := len(a.lines()); got != 3 {
		t.Fatalf("replay of the symlinked quarantine directory sent %d records, want 3 (err=%v: the command reports success when err is nil)\n%s",
			got, err, out.String())
	}
}

// TestRulesTestRunsEveryDocument
//
// Input: a rule test file written as two YAML documents separated by
// "---" (a habit from Kubernetes manifests). The second document holds a
// case whose expected priority (P1) does not match (the event gets P3).
//
// What happens: rules.ParseTests calls yaml.Decoder.Decode once, so only
// the first document is read; the failing case is silently never run and
// `router rules test` prints "1 rule tests, 1 passed, 0 failed" and exits 0.
//
// What should happen: every document is read (the case fails, exit 1), or
// a file with more than one document is refused (exit 2).
//
// Why it matters: `rules test` is the CI gate for detection rules; a
// priority regression in the ignored part of a file ships unnoticed, and a
// P1 detection can be routed as P3.
func TestRulesTestRunsEveryDocument(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("10-r.yaml", "rules:\n  - name: edr\n    priority: P1\n    expr: event.dataset == \"edr\"\n")
	write("10-r_test.yaml", `tests:
  - name: passes
    sourcetype: edr
    event: {a: 1}
    expect: {priority: P1}
---
tests:
  - name: wrong priority
    event: {a: 1}
    expect: {priority: P1}
`)
	out, err := run(t, "", "rules", "test", "--rules", dir)
	if err == nil {
		t.Fatalf("rules test exited 0 although the case \"wrong priority\" (second YAML document) expects P1 and gets P3:\n%s", out)
	}
}

// TestValidateMultiDocumentRuleFile
//
// Input: a rule file of two YAML documents ("---"), each with one rule.
//
// What happens: rules.ParseFile decodes only the first document, so the
// second document's rule is silently dropped; `router validate` prints
// "OK (1 rules ...)" and exits 0, and `router run` runs without that rule.
//
// What should happen: both rules are loaded, or validate refuses the file
// (exit 2) saying that only one document per file is read.
//
// Why it matters: validate is the pre-deployment check; a P1 detection rule
// that was silently not loaded routes its events as the default priority
// (P3), away from the SIEM, with no error anywhere.
func TestValidateMultiDocumentRuleFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "10-r.yaml"), []byte(
		"rules:\n  - name: edr\n    priority: P1\n    expr: event.dataset == \"edr\"\n---\nrules:\n  - name: ransomware\n    priority: P1\n    expr: event.dataset == \"ransomware\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "", "validate", "--rules", dir)
	if err == nil && !strings.Contains(out, "(2 rules") {
		t.Fatalf("validate exited 0 and loaded fewer rules than the file holds (the second YAML document was dropped):\n%s", out)
	}
}

// TestReplayDoesNotHoldTheWholeFile
//
// Input: a finished quarantine file of ~40 MiB (40,000 input records of
// 1,000 bytes each) replayed with `router quarantine replay`.
//
// What happens: replayFile scans the whole file first and keeps every
// selected record's raw bytes (a fresh copy per record, from
// quarantine.ParseLine; records of destinations are even re-rendered) in
// the in-memory "groups" map, and only then starts sending chunks of 1000.
// At the first POST the CLI's live heap has grown by about the size of the
// file (measured: ~45 MiB for this 40 MiB file).
//
// What should happen: memory bounded by a few chunks (a chunk is at most
// 1000 records / 8 MiB), e.g. by streaming the file per destination group
// or remembering only offsets of the selected lines.
//
// Why it matters: quarantine files are up to max_file_bytes (256 MiB by
// default, configurable, with lines of up to 1 GiB), and the documented way
// to replay without admin.token is `kubectl exec` into the router's pod:
// the command's memory counts against the router container's limit, so
// replaying one large file can get the router OOM-killed.
func TestReplayDoesNotHoldTheWholeFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "quarantine-20240101T00.ndjson")
	var b strings.Builder
	raw := strings.Repeat("x", 1000)
	for range 40000 {
		b.WriteString(qline("invalid_json", raw))
	}
	writeOld(t, p, b.String())
	size := int64(b.Len())
	b = strings.Builder{}

	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var atFirstPost uint64
	a := newCountingAdmin(t, func(post int, lines []string) (int, string) {
		if post == 1 {
			var m runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m)
			atFirstPost = m.HeapAlloc
		}
		return http.StatusOK, routerAnswer(len(lines), 0)
	})
	var out bytes.Buffer
	if err := replayQuarantine(&out, a.srv.URL, []string{dir}, "", "", false); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	grown := int64(atFirstPost) - int64(base)
	if grown > 16<<20 {
		t.Fatalf("at the first request the replay held %d MiB more heap, for a %d MiB file: it keeps every selected record of the file in memory before sending",
			grown>>20, size>>20)
	}
}
