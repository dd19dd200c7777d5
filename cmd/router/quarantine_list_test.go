package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuarantineList: the summary groups records by destination ("input"
// for input rejections), reason and input, counts what replay's progress
// says was sent, skips unreadable lines (counted), and --show prints
// pending records only, filtered.
func TestQuarantineList(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "quarantine-20261130T01.ndjson")
	data := `{"time":"2026-11-30T01:00:00Z","reason":"invalid_json","detail":"unexpected end","input":"http","raw":"{\"a\":"}
{"time":"2026-11-30T01:05:00Z","reason":"invalid_json","detail":"bad","input":"http","raw":"nope\u0001"}

{"time":"2026-11-30T01:06:00Z","reason":"destination_rejected","detail":"mapper_parsing_exception","input":"http","destination":"opensearch","status":400,"raw":"{\"x\":1}"}
garbage
`
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	size := int64(len(data))
	crc, err := prefixCRC(path, size)
	if err != nil {
		t.Fatal(err)
	}
	prog, _ := json.Marshal(replayProgress{Version: 1, Bytes: size, CRC32C: crc, Records: 3, Unreadable: []int{5}, Replayed: [][2]int{{1, 1}}, Updated: "2026-11-30T02:00:00Z"})
	if err := os.WriteFile(path+progressSuffix, prog, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := listQuarantine(&out, []string{dir}, listFilter{}, 5, false); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"input        invalid_json          http   2        1",
		"opensearch   destination_rejected  http   1        0",
		"3 records in 1 files, 1 replayed, 2 not yet; 1 unreadable lines",
		":2 2026-11-30T01:05:00Z input/http invalid_json",
		`raw: nope\x01`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, ":1 2026-11-30T01:00:00Z") {
		t.Errorf("--show printed a replayed record:\n%s", got)
	}
	out.Reset()
	if err := listQuarantine(&out, []string{dir}, listFilter{dest: "opensearch"}, 0, true); err != nil {
		t.Fatal(err)
	}
	var sum listSummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Records != 1 || len(sum.Groups) != 1 || sum.Groups[0].Destination != "opensearch" {
		t.Errorf("--destination opensearch --json: %s", out.String())
	}
}

// TestQuarantineListCountsAsReplayDoes: records without raw bytes are not
// pending (replay has nothing to send) and records rejected again during a
// replay are pending but counted apart (replay sends them only with their
// reason named).
func TestQuarantineListCountsAsReplayDoes(t *testing.T) {
	dir := t.TempDir()
	data := `{"time":"2026-11-30T01:00:00Z","reason":"invalid_json","input":"http","raw":"x"}
{"time":"2026-11-30T01:01:00Z","reason":"invalid_json","input":"http"}
{"time":"2026-11-30T01:02:00Z","reason":"destination_rejected","input":"replay","destination":"siem","raw":"{}"}
`
	if err := os.WriteFile(filepath.Join(dir, "quarantine-20261130T01.ndjson"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := listQuarantine(&out, []string{dir}, listFilter{}, 0, false); err != nil {
		t.Fatal(err)
	}
	want := "3 records in 1 files, 0 replayed, 2 not yet (1 of them rejected again during a replay: sent only with --reason and theirs); 1 without raw bytes (nothing to replay)"
	if !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
}
