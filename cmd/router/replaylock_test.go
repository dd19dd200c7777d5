//go:build unix

package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestReplayLockedFileSkipped: two replays at once both sent a file's
// records (progress is saved only after each chunk). A run now takes an
// exclusive lock on each file it sends; a file another run holds is
// skipped, and sent by a later run.
func TestReplayLockedFileSkipped(t *testing.T) {
	dir := t.TempDir()
	locked := filepath.Join(dir, "2024-01-01T00.ndjson")
	free := filepath.Join(dir, "2024-01-01T01.ndjson")
	writeOld(t, locked, qline("invalid_json", "a1"))
	writeOld(t, free, qline("invalid_json", "b1"))
	unlock, held, err := lockForReplay(locked) // another run, sending it now
	if err != nil || held {
		t.Fatalf("lock: held %v, %v", held, err)
	}
	a := newReplayAdmin(t)
	out := replayOnce(t, a.srv.URL, dir, "", "")
	if got := a.lines(); len(got) != 1 || got[0] != "b1" {
		t.Errorf("sent %v while the other run held a1's file; want only b1", got)
	}
	if !strings.Contains(out, "another replay is sending it") {
		t.Errorf("no note of the skipped file:\n%s", out)
	}
	unlock()
	replayOnce(t, a.srv.URL, dir, "", "")
	if got := a.lines(); len(got) != 2 || got[1] != "a1" {
		t.Errorf("after the other run: sent %v, want b1 then a1", got)
	}
}
