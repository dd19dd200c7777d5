package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestReplayProgressSnapshotsBounded: progress used to be rewritten whole
// after every accepted chunk, so a large file replayed with a filter (its
// replayed lines a range each) cost quadratic I/O. Chunks are journaled
// now: a run writes a snapshot at its start and its end, whatever the
// number of chunks, and leaves no journal behind.
func TestReplayProgressSnapshotsBounded(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "quarantine-20240101T00.ndjson")
	var b strings.Builder
	const n = 24000 // 12 chunks selected, every other line
	for i := range n {
		reason := "invalid_json"
		if i%2 == 1 {
			reason = "too_large"
		}
		b.WriteString(qline(reason, fmt.Sprintf("r%d", i)))
	}
	writeOld(t, p, b.String())
	a := newReplayAdmin(t)
	before := progressSnapshots.Load()
	out := replayOnce(t, a.srv.URL, dir, "", "invalid_json")
	if got := progressSnapshots.Load() - before; got > 3 {
		t.Errorf("%d progress snapshots for %d chunks, want at most 3 (start, end, maybe one compaction)", got, n/2/replayChunk)
	}
	if _, err := os.Stat(p + journalSuffix); !os.IsNotExist(err) {
		t.Errorf("the journal outlived a finished run: %v", err)
	}
	raw, err := os.ReadFile(p + progressSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(`[23999,23999]`)) {
		t.Errorf("the last snapshot does not hold the last replayed line\n%s", out)
	}
	pr, err := loadProgress(p + progressSuffix)
	if err != nil || pr.replayedLines() != n/2 {
		t.Fatalf("progress: %v, %d lines replayed, want %d", err, pr.replayedLines(), n/2)
	}
	replayOnce(t, a.srv.URL, dir, "", "invalid_json")
	if g := len(a.lines()); g != n/2 {
		t.Errorf("two filtered runs sent %d records, want %d once each", g, n/2)
	}
}

// TestReplayFailedRunLeavesOneSnapshot: a run stopped by the router's
// refusal still ends with a snapshot holding every chunk accepted before
// (the journal is taken in), so a human reading the progress file sees it.
func TestReplayFailedRunLeavesOneSnapshot(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "quarantine-20240101T00.ndjson")
	writeRecords(t, p, 3500)
	a := newReplayAdmin(t)
	a.fail = func(post int) bool { return post == 3 }
	var out bytes.Buffer
	if err := replayQuarantine(&out, a.srv.URL, []string{dir}, "", "", false); err == nil {
		t.Fatal("the third chunk's failure is not reported")
	}
	if _, err := os.Stat(p + journalSuffix); !os.IsNotExist(err) {
		t.Errorf("the journal was not taken into a snapshot: %v", err)
	}
	raw, err := os.ReadFile(p + progressSuffix)
	if err != nil || !bytes.Contains(raw, []byte(`"replayed":[[1,2000]]`)) {
		t.Errorf("snapshot after the failure: %v\n%s", err, raw)
	}
}

// TestReplayJournalFold: after a crash the snapshot is followed by the
// journal of the chunks accepted since; loadProgress folds it in. A torn
// last entry is a chunk not recorded, a journal naming another snapshot is
// stale, folding is idempotent, and damage is an error.
func TestReplayJournalFold(t *testing.T) {
	dir := t.TempDir()
	side := filepath.Join(dir, "q.ndjson"+progressSuffix)
	snap := func(journal string) {
		t.Helper()
		p := &replayProgress{Version: 1, Bytes: 1000, Records: 40, Replayed: [][2]int{{1, 2}},
			Parts: [][2]int{{10, 3}}, Left: [][2]int{{30, 30}}, Journal: journal}
		if _, err := saveProgress(side, p); err != nil {
			t.Fatal(err)
		}
	}
	journal := func(lines ...string) {
		t.Helper()
		if err := os.WriteFile(journalPath(side), []byte(strings.Join(lines, "\n")), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	load := func() (*replayProgress, error) {
		t.Helper()
		return loadProgress(side)
	}
	entries := []string{`{"journal":"abc"}`, `{"replayed":[5,7]}`, `{"parts":[[10,5],[12,2],[30,1]]}`, `{"replayed":[10]}`}
	for _, c := range []struct {
		name         string
		snapJournal  string
		lines        []string
		replayed     [][2]int
		parts        [][2]int
		errSubstring string
	}{
		{"folded, torn tail ignored", "abc", append(append([]string{}, entries...), `{"replayed":[99`),
			[][2]int{{1, 2}, {5, 5}, {7, 7}, {10, 10}}, [][2]int{{12, 2}}, ""},
		{"folded twice is the same", "abc", append(append([]string{}, entries...), append(entries[1:], "")...),
			[][2]int{{1, 2}, {5, 5}, {7, 7}, {10, 10}}, [][2]int{{12, 2}}, ""},
		{"stale journal ignored", "def", append(append([]string{}, entries...), ""),
			[][2]int{{1, 2}}, [][2]int{{10, 3}}, ""},
		{"snapshot of an older version: no journal", "", append(append([]string{}, entries...), ""),
			[][2]int{{1, 2}}, [][2]int{{10, 3}}, ""},
		{"damaged entry", "abc", []string{entries[0], `{"replayed":"x"}`, entries[1], ""}, nil, nil, "damaged"},
		{"line past the file", "abc", []string{entries[0], `{"replayed":[5000]}`, ""}, nil, nil, "past the file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			snap(c.snapJournal)
			journal(c.lines...)
			p, err := load()
			if c.errSubstring != "" {
				if err == nil || !strings.Contains(err.Error(), c.errSubstring) {
					t.Fatalf("err = %v, want %q", err, c.errSubstring)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Replayed, c.replayed) || !reflect.DeepEqual(p.Parts, c.parts) {
				t.Errorf("replayed %v parts %v, want %v %v", p.Replayed, p.Parts, c.replayed, c.parts)
			}
			if !reflect.DeepEqual(p.Left, [][2]int{{30, 30}}) {
				t.Errorf("left %v changed", p.Left)
			}
		})
	}
	// No snapshot (moved away to replay the file again): the journal left
	// next to it is not applied.
	if err := os.Remove(side); err != nil {
		t.Fatal(err)
	}
	journal(append(append([]string{}, entries...), "")...)
	if p, err := load(); p != nil || err != nil {
		t.Errorf("without a snapshot: %v, %v; want nothing", p, err)
	}
}
