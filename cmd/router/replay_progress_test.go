package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// replayAdmin fakes the router's /admin/replay: it records the lines each
// POST carries and answers like the router. fail, when set, decides per POST
// (numbered from 1) whether to answer 503 instead, without recording.
type replayAdmin struct {
	*countingAdmin
	fail func(post int) bool
}

func newReplayAdmin(t *testing.T) *replayAdmin {
	a := &replayAdmin{}
	a.countingAdmin = newCountingAdmin(t, func(post int, lines []string) (int, string) {
		if a.fail != nil && a.fail(post) {
			return http.StatusServiceUnavailable, "not accepted, retry: queue full"
		}
		return http.StatusOK, routerAnswer(len(lines), 0)
	})
	return a
}

// writeOld writes a quarantine file last modified an hour ago (one the
// router no longer writes to).
func writeOld(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
}

// writeRecords writes a finished quarantine file at path of n input
// records, raw "r0" to "r<n-1>".
func writeRecords(t *testing.T, path string, n int) {
	t.Helper()
	var b strings.Builder
	for i := range n {
		b.WriteString(qline("invalid_json", fmt.Sprintf("r%d", i)))
	}
	writeOld(t, path, b.String())
}

func qline(reason, raw string) string {
	return fmt.Sprintf(`{"time":"2024-01-01T00:00:00Z","reason":%q,"input":"http","raw":%q}`+"\n", reason, raw)
}

func replayOnce(t *testing.T, admin string, dir, dest, reason string) string {
	t.Helper()
	var out bytes.Buffer
	if err := replayQuarantine(&out, admin, []string{dir}, dest, reason, false); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return out.String()
}

// TestReplayTornLastLineReplaysTheRest: a crash (or a file abandoned after a
// failed truncate) leaves the last line of a quarantine file torn. Replay
// used to stop at that file with io.ErrUnexpectedEOF, before sending even its
// complete records, never reached the later files, and failed the same way on
// every later run. Now the complete records of every file are replayed, the
// torn line is reported and left, and a second run sends nothing again.
func TestReplayTornLastLineReplaysTheRest(t *testing.T) {
	dir := t.TempDir()
	writeOld(t, filepath.Join(dir, "quarantine-20240101T00.ndjson"),
		qline("invalid_json", "a1")+`{"time":"2024-01-01T00:00:01Z","reason":"invali`)
	writeOld(t, filepath.Join(dir, "quarantine-20240101T01.ndjson"), qline("invalid_json", "b1"))
	a := newReplayAdmin(t)
	out := replayOnce(t, a.srv.URL, dir, "", "")
	if g := a.lines(); len(g) != 2 || g[0] != "a1" || g[1] != "b1" {
		t.Fatalf("replayed %v, want [a1 b1]\n%s", g, out)
	}
	if !strings.Contains(out, "line 2 is incomplete") || !strings.Contains(out, "1 torn line") {
		t.Errorf("the torn line is not reported:\n%s", out)
	}
	out = replayOnce(t, a.srv.URL, dir, "", "")
	if g := a.lines(); len(g) != 2 {
		t.Errorf("second run sent again: %v\n%s", g, out)
	}
	if !strings.Contains(out, "0 records selected, 0 replayed; 2 skipped (already replayed)") {
		t.Errorf("second run:\n%s", out)
	}
}

// TestReplayWithFilterDoesNotResend: with --reason or --destination only
// some records are sent, and replay used to mark nothing, so running the
// command twice sent them twice. Now each record replayed is recorded, a
// second filtered run sends nothing, and an unfiltered run sends only the
// records the filter left.
func TestReplayWithFilterDoesNotResend(t *testing.T) {
	dir := t.TempDir()
	writeOld(t, filepath.Join(dir, "quarantine-20240101T00.ndjson"),
		qline("invalid_json", "a1")+qline("too_deep", "a2"))
	a := newReplayAdmin(t)
	out := replayOnce(t, a.srv.URL, dir, "", "invalid_json")
	if !strings.Contains(out, "replayed 1 of 2 records (1 filtered out)") {
		t.Errorf("first run:\n%s", out)
	}
	replayOnce(t, a.srv.URL, dir, "", "invalid_json")
	if g := a.lines(); len(g) != 1 {
		t.Fatalf("record a1 sent %d times over two replays: %v", len(g), g)
	}
	out = replayOnce(t, a.srv.URL, dir, "", "")
	if g := a.lines(); len(g) != 2 || g[1] != "a2" {
		t.Errorf("unfiltered run after a filtered one sent %v, want a1 then a2 once each\n%s", g, out)
	}
}

// TestReplayLeavesTheRouterFileInPlace: replay used to rename a file idle
// for two minutes to *.replayed even when it was the router's current
// quarantine file; the router kept its handle and appended later
// rejections to the renamed file, which replay never read again. Now no
// file is renamed, and records appended after a replay are sent by the next
// one, each record once.
func TestReplayLeavesTheRouterFileInPlace(t *testing.T) {
	dir := t.TempDir()
	q, err := quarantine.New(quarantine.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close(context.Background())
	put := func(raw string) {
		if err := q.Put(context.Background(), []pipeline.Rejected{{Raw: []byte(raw), Reason: "invalid_json", Input: "http"}}); err != nil {
			t.Fatal(err)
		}
	}
	put("first")
	files, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	old := time.Now().Add(-3 * time.Minute)
	if err := os.Chtimes(files[0], old, old); err != nil { // quiet for three minutes
		t.Fatal(err)
	}
	a := newReplayAdmin(t)
	replayOnce(t, a.srv.URL, dir, "", "")
	put("second") // a new rejection, same hour, same file
	out := replayOnce(t, a.srv.URL, dir, "", "")
	if g := a.lines(); len(g) != 2 || g[0] != "first" || g[1] != "second" {
		all, _ := filepath.Glob(filepath.Join(dir, "*"))
		t.Errorf("replayed %v, want [first second]; files %v\n%s", g, all, out)
	}
	if _, err := os.Stat(files[0]); err != nil {
		t.Errorf("the router's file was moved: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.replayed")); len(m) > 0 {
		t.Errorf("renamed: %v", m)
	}
}

// TestReplayRecordWithoutRawDoesNotResend: a record with no raw bytes
// cannot be replayed; it used to keep its file from being marked, so every
// run sent the file's other records again. Now it is reported as left and
// the others are sent once.
func TestReplayRecordWithoutRawDoesNotResend(t *testing.T) {
	dir := t.TempDir()
	writeOld(t, filepath.Join(dir, "quarantine-20240101T00.ndjson"),
		qline("invalid_json", "a1")+`{"time":"2024-01-01T00:00:01Z","reason":"empty_body","input":"http"}`+"\n")
	a := newReplayAdmin(t)
	out := replayOnce(t, a.srv.URL, dir, "", "")
	if !strings.Contains(out, "1 without raw bytes") {
		t.Errorf("the record without raw bytes is not reported:\n%s", out)
	}
	replayOnce(t, a.srv.URL, dir, "", "")
	if g := a.lines(); len(g) != 1 {
		t.Errorf("sent %v over two runs, want a1 once", g)
	}
}

// TestReplayFailedChunkKeepsProgress: records go in chunks of 1000; when a
// later chunk failed, replay used to record nothing, so the next run sent
// the chunks already accepted again. Now each accepted chunk is recorded
// before the next is sent, and the next run sends only the rest.
func TestReplayFailedChunkKeepsProgress(t *testing.T) {
	dir := t.TempDir()
	writeRecords(t, filepath.Join(dir, "quarantine-20240101T00.ndjson"), 1500)
	a := newReplayAdmin(t)
	a.fail = func(post int) bool { return post == 2 }
	var out bytes.Buffer
	err := replayQuarantine(&out, a.srv.URL, []string{dir}, "", "", false)
	if err == nil {
		t.Fatalf("the second chunk's failure is not reported\n%s", out.String())
	}
	if !strings.Contains(err.Error(), "1000 records of this file were sent and recorded") {
		t.Errorf("err = %v, want it to say what was recorded", err)
	}
	if g := a.lines(); len(g) != 1000 {
		t.Fatalf("first run sent %d records, want 1000", len(g))
	}
	replayOnce(t, a.srv.URL, dir, "", "")
	seen := map[string]int{}
	for _, l := range a.lines() {
		seen[l]++
	}
	if len(seen) != 1500 || len(a.lines()) != 1500 {
		t.Errorf("sent %d lines, %d distinct; want each of 1500 once", len(a.lines()), len(seen))
	}
}

// TestReplaySkipsLegacyReplayedFiles: files renamed to *.replayed by earlier
// versions stay skipped, and finished files are reported as skipped without
// being sent again.
func TestReplaySkipsLegacyReplayedFiles(t *testing.T) {
	dir := t.TempDir()
	writeOld(t, filepath.Join(dir, "quarantine-20231231T23.ndjson.replayed"), qline("invalid_json", "old"))
	writeOld(t, filepath.Join(dir, "quarantine-20240101T00.ndjson"), qline("invalid_json", "a1"))
	a := newReplayAdmin(t)
	replayOnce(t, a.srv.URL, dir, "", "")
	out := replayOnce(t, a.srv.URL, dir, "", "")
	if g := a.lines(); len(g) != 1 || g[0] != "a1" {
		t.Errorf("sent %v, want [a1]", g)
	}
	if !strings.Contains(out, "1 skipped (already replayed)") || !strings.Contains(out, "1 file finished") {
		t.Errorf("second run:\n%s", out)
	}
	// A shell glob names the legacy file and the progress file too.
	all, _ := filepath.Glob(filepath.Join(dir, "*"))
	var b bytes.Buffer
	if err := replayQuarantine(&b, a.srv.URL, all, "", "", false); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if g := a.lines(); len(g) != 1 || !strings.Contains(b.String(), "skipped: an earlier version replayed all its records") {
		t.Errorf("files named by a glob: sent %v\n%s", g, b.String())
	}
}

// TestReplayMayBeWritten: the current hour's file (any rotation index) and
// any file modified in the last minutes may still be written by the router,
// so replay never records them as finished.
func TestReplayMayBeWritten(t *testing.T) {
	now := time.Date(2024, 5, 1, 13, 30, 0, 0, time.UTC)
	old := now.Add(-time.Hour)
	for _, c := range []struct {
		name string
		mod  time.Time
		want bool
	}{
		{"quarantine-20240501T13.ndjson", old, true},
		{"quarantine-20240501T13.2.ndjson", old, true},
		{"quarantine-20240501T14.ndjson", old, true}, // a clock ahead of ours
		{"quarantine-20240501T12.ndjson", old, false},
		{"quarantine-20240501T12.1.ndjson", old, false},
		{"quarantine-20240501T12.ndjson", now.Add(-time.Minute), true},
		{"hand-made.ndjson", old, false},
		{"hand-made.ndjson", now, true},
	} {
		if got := mayBeWritten(filepath.Join("q", c.name), c.mod, now); got != c.want {
			t.Errorf("mayBeWritten(%s, modified %s ago) = %v, want %v", c.name, now.Sub(c.mod), got, c.want)
		}
	}
}

// TestReplayLineSetRanges: the replayed lines survive the round trip
// through the progress file's ranges.
func TestReplayLineSetRanges(t *testing.T) {
	var s lineSet
	want := [][2]int{{1, 3}, {5, 5}, {63, 130}, {200, 200}}
	for _, r := range want {
		for n := r[0]; n <= r[1]; n++ {
			s.add(n)
		}
	}
	got := s.ranges()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ranges = %v, want %v", got, want)
	}
	back := newLineSet(got)
	for n := 0; n < 300; n++ {
		if back.has(n) != s.has(n) {
			t.Errorf("line %d: %v after the round trip, %v before", n, back.has(n), s.has(n))
		}
	}
}

// TestReplayRefusesAChangedFile: when a file no longer starts with the bytes
// its progress was recorded for (replaced, or edited by hand), record
// numbers no longer name the same records: replay sends nothing from it and
// says how to proceed, rather than guess.
func TestReplayRefusesAChangedFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "quarantine-20240101T00.ndjson")
	writeOld(t, p, qline("invalid_json", "a1")+qline("invalid_json", "a2"))
	a := newReplayAdmin(t)
	replayOnce(t, a.srv.URL, dir, "", "")
	writeOld(t, p, qline("invalid_json", "x1")+qline("invalid_json", "x2")+qline("invalid_json", "x3"))
	var out bytes.Buffer
	err := replayQuarantine(&out, a.srv.URL, []string{dir}, "", "", false)
	if err == nil || !strings.Contains(out.String(), "changed since the last replay") {
		t.Fatalf("err = %v\n%s", err, out.String())
	}
	if g := a.lines(); len(g) != 2 {
		t.Errorf("sent %v from a changed file", g)
	}
}

// TestReplayDryRunRecordsNothing: --dry-run counts and sends nothing, and
// leaves no progress behind.
func TestReplayDryRunRecordsNothing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "quarantine-20240101T00.ndjson")
	writeOld(t, p, qline("invalid_json", "a1"))
	a := newReplayAdmin(t)
	var out bytes.Buffer
	if err := replayQuarantine(&out, a.srv.URL, []string{dir}, "", "", true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "would replay 1 of 1 records") || len(a.lines()) != 0 {
		t.Errorf("dry run sent %v:\n%s", a.lines(), out.String())
	}
	if _, err := os.Stat(p + ".replay.json"); !os.IsNotExist(err) {
		t.Errorf("dry run wrote progress: %v", err)
	}
}

// TestReplaySkipsRecordsRejectedOnReplay: a record the router rejected
// when it was replayed is quarantined again (input "replay") in the same
// directory; a run used to send it again, and a cron job forever. It is
// filtered out unless its reason is named.
func TestReplaySkipsRecordsRejectedOnReplay(t *testing.T) {
	dir := t.TempDir()
	writeOld(t, filepath.Join(dir, "2024-01-01T00.ndjson"),
		qline("invalid_json", "a1")+
			`{"time":"2024-01-01T00:00:01Z","reason":"replay_rejected","input":"replay","raw":"again"}`+"\n")
	a := newReplayAdmin(t)
	replayOnce(t, a.srv.URL, dir, "", "")
	if got := a.lines(); len(got) != 1 || got[0] != "a1" {
		t.Fatalf("sent %v, want only a1", got)
	}
	replayOnce(t, a.srv.URL, dir, "", "replay_rejected")
	if got := a.lines(); len(got) != 2 || got[1] != "again" {
		t.Fatalf("with its reason named: sent %v, want a1 then again", got)
	}
}
