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
