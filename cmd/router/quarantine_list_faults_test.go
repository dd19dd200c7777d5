package main

// Fault tests (fixed since) from a review of 33c288a (router quarantine list). The test fails against the
// code as reviewed; its comment gives the sequence, what happens, what
// should happen and why it matters.

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReviewQuarantineListTrustsProgressOfAReplacedFile: list counts
// records as replayed from a progress file that no longer describes the
// quarantine file next to it.
//
// Sequence: quarantine-20261130T01.ndjson holds records A and B; "router
// quarantine replay" sends both (progress: bytes, CRC-32C, replayed lines
// 1-2); the operator removes the replayed file, as the full-quarantine
// error tells them to, leaving the small .replay.json; the router writes
// two new records, C and D, to a file at the same path (after a restart
// within the same hour, RotatingFile.nextIndex hands out the removed
// file's name again, the progress left next to it). The operator runs
// "router quarantine list".
//
// What happens: list loads the progress without checking its Bytes/CRC32C
// against the file (and ignores a damaged progress file), so it reports
// "2 replayed, 0 not yet" and --show prints nothing: C and D look sent.
// "router quarantine replay" refuses the file ("changed since the last
// replay") and sends nothing.
//
// What should happen: list applies a progress only when the file still
// starts with the bytes it was recorded for (prefixCRC, as replay does),
// and otherwise says the progress does not apply: 0 replayed, 2 not yet.
//
// Why it matters: list is what operators read before removing quarantine
// files; records reported replayed are deleted unsent: evidence lost.
func TestQuarantineListTrustsProgressOfAReplacedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "quarantine-20261130T01.ndjson")
	rec := func(raw string) string {
		return `{"time":"2026-11-30T01:00:00Z","reason":"invalid_json","detail":"bad","input":"http","raw":"` + raw + `"}` + "\n"
	}
	old := rec("AAAA") + rec("BBBB")
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	crc, err := prefixCRC(path, int64(len(old)))
	if err != nil {
		t.Fatal(err)
	}
	prog, _ := json.Marshal(replayProgress{Version: 1, Bytes: int64(len(old)), CRC32C: crc, Records: 2, Replayed: [][2]int{{1, 2}}, Finished: true, Updated: "2026-11-30T02:00:00Z"})
	if err := os.WriteFile(path+progressSuffix, prog, 0o644); err != nil {
		t.Fatal(err)
	}
	// Replayed and removed; after a restart the router's new records land at the same path.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(rec("CCCC")+rec("DDDD")), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := listQuarantine(&out, []string{dir}, listFilter{}, 5, false); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.Contains(got, "2 records in 1 files, 0 replayed, 2 not yet") || !strings.Contains(got, "CCCC") {
		t.Errorf("records C and D were never replayed (the progress is for the removed file; replay refuses it as changed), but list says:\n%s", got)
	}
}
