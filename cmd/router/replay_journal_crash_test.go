package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// crashAdmin fakes /admin/replay: it refuses (the router's own 413) any
// body holding "HUGE", optionally fails POSTs, and before answering each
// POST captures the replay progress files next to the quarantine file: the
// state a kill -9 of the replay command leaves while that POST is in flight.
type crashAdmin struct {
	srv   *httptest.Server
	mu    sync.Mutex
	side  string // the quarantine file's path
	fail  func(post int) bool
	posts []crashPost
	got   []string
}

type crashPost struct {
	lines    []string
	accepted bool
	state    map[string][]byte // suffix -> content; absent: no file
}

var crashSuffixes = []string{progressSuffix, journalSuffix}

func captureState(path string) map[string][]byte {
	m := map[string][]byte{}
	for _, s := range crashSuffixes {
		if b, err := os.ReadFile(path + s); err == nil {
			m[s] = b
		}
	}
	return m
}

func restoreState(t *testing.T, path string, m map[string][]byte) {
	t.Helper()
	for _, s := range crashSuffixes {
		if b, ok := m[s]; ok {
			if err := os.WriteFile(path+s, b, 0o640); err != nil {
				t.Fatal(err)
			}
		} else if err := os.Remove(path + s); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

func newCrashAdmin(t *testing.T, path string) *crashAdmin {
	a := &crashAdmin{side: path}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		defer a.mu.Unlock()
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		p := crashPost{lines: lines, state: captureState(a.side)}
		n := len(a.posts) + 1
		switch {
		case bytes.Contains(b, []byte("HUGE")):
			a.posts = append(a.posts, p)
			http.Error(w, "replay request body exceeds 67108864 bytes: send fewer records per request", http.StatusRequestEntityTooLarge)
			return
		case a.fail != nil && a.fail(n):
			a.posts = append(a.posts, p)
			http.Error(w, "not accepted, retry: queue full", http.StatusServiceUnavailable)
			return
		}
		p.accepted = true
		a.posts = append(a.posts, p)
		a.got = append(a.got, lines...)
		_, _ = w.Write([]byte(routerAnswer(len(lines), 0)))
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *crashAdmin) snapshot() ([]crashPost, []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]crashPost(nil), a.posts...), append([]string(nil), a.got...)
}

func qlineDest(reason, dest, raw string) string {
	return fmt.Sprintf(`{"time":"2024-01-01T00:00:00Z","reason":%q,"input":"http","destination":%q,"raw":%q}`+"\n", reason, dest, raw)
}

// TestReplayCrashAtEveryPost: for every POST of a sequence of
// filtered runs over a file with long records (parts), records the router
// refuses alone (left) and halving, a kill -9 while that POST is in flight
// is simulated by restoring the progress files captured then; unfiltered
// runs then finish the file. Each line must reach the router once, but
// those of the POST in flight at the crash, at most twice.
func TestReplayCrashAtEveryPost(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "quarantine-20240101T00.ndjson")
	var b strings.Builder
	var want []string
	for i := range 2600 {
		reason, dest := "invalid_json", ""
		if i%3 == 1 {
			reason, dest = "mapping", "siem"
		}
		raw := fmt.Sprintf("s%d", i)
		if i == 700 || i == 1900 {
			raw = fmt.Sprintf("HUGE%d", i) // refused alone: left
		} else {
			want = append(want, raw)
		}
		b.WriteString(qlineDest(reason, dest, raw))
		if i == 1000 || i == 2000 {
			var ls []string
			for k := range 23000 {
				l := fmt.Sprintf("m%d-%d", i, k)
				if i == 2000 && k == 15000 {
					l = "HUGE-in-multi"
				} else {
					want = append(want, l)
				}
				ls = append(ls, l)
			}
			b.WriteString(qlineDest("hec_not_processed", "", strings.Join(ls, "\n")))
			if i == 2000 {
				// the record is left at its HUGE line: the lines after it are never sent
				want = want[:len(want)-(23000-15000-1)]
			}
		}
	}
	writeOld(t, path, b.String())
	a := newCrashAdmin(t, path)
	a.fail = func(post int) bool { return post == 4 || post == 17 } // the defer path
	var out bytes.Buffer
	for _, reason := range []string{"invalid_json", "invalid_json", "mapping", "", ""} {
		_ = replayQuarantine(&out, a.srv.URL, []string{dir}, "", reason, false)
	}
	posts, got := a.snapshot()
	check := func(name string, got []string, dupOK map[string]bool) {
		t.Helper()
		seen := map[string]int{}
		for _, l := range got {
			seen[l]++
		}
		bad := 0
		for _, l := range want {
			if seen[l] == 0 || (seen[l] > 1 && !(seen[l] == 2 && dupOK[l])) {
				if bad < 5 {
					t.Errorf("%s: line %q reached the router %d times", name, l, seen[l])
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d lines wrong", name, bad)
		}
	}
	check("no crash", got, nil)
	t.Logf("%d posts", len(posts))
	final := captureState(path)
	for k, p := range posts {
		restoreState(t, path, p.state)
		var before []string
		for _, q := range posts[:k] {
			if q.accepted {
				before = append(before, q.lines...)
			}
		}
		dupOK := map[string]bool{}
		if p.accepted {
			before = append(before, p.lines...)
			for _, l := range p.lines {
				dupOK[l] = true
			}
		}
		b := newCrashAdmin(t, path)
		out.Reset()
		for _, reason := range []string{"mapping", "invalid_json", "", ""} {
			if err := replayQuarantine(&out, b.srv.URL, []string{dir}, "", reason, false); err != nil {
				t.Fatalf("crash at post %d: %v\n%s", k+1, err, out.String())
			}
		}
		_, after := b.snapshot()
		check(fmt.Sprintf("crash at post %d", k+1), append(before, after...), dupOK)
	}
	restoreState(t, path, final)
}

// TestReplayFinalSnapshotFails: the run's last snapshot cannot be
// written (the .tmp path is taken) after every chunk was journaled: the
// state a crash before the final snapshot leaves. The next run must send
// nothing again and record the file as finished.
func TestReplayFinalSnapshotFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "quarantine-20240101T00.ndjson")
	writeRecords(t, path, 2500)
	a := newCountingAdmin(t, func(post int, lines []string) (int, string) {
		if post == 3 {
			if err := os.Mkdir(path+progressSuffix+".tmp", 0o755); err != nil {
				t.Error(err)
			}
		}
		return http.StatusOK, routerAnswer(len(lines), 0)
	})
	var out bytes.Buffer
	err := replayQuarantine(&out, a.srv.URL, []string{dir}, "", "", false)
	t.Logf("first run: %v\n%s", err, out.String())
	j, _ := os.ReadFile(path + journalSuffix)
	t.Logf("journal: %d bytes, %d lines", len(j), bytes.Count(j, []byte("\n")))
	if err := os.Remove(path + progressSuffix + ".tmp"); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := replayQuarantine(&out, a.srv.URL, []string{dir}, "", "", false); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Logf("second run:\n%s", out.String())
	if g := len(a.lines()); g != 2500 {
		t.Errorf("sent %d lines, want 2500", g)
	}
	pr, err := loadProgress(path + progressSuffix)
	if err != nil || !pr.Finished {
		t.Errorf("progress %+v, %v: want finished", pr, err)
	}
}

// loadProgressV1 reads a progress file as the previous version of the
// replay command did (HEAD~1, loadProgress without foldJournal): it accepts
// any snapshot of version 1 and ignores fields it does not know.
func loadProgressV1(t *testing.T, path string) *replayProgress {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Version  int      `json:"version"`
		Replayed [][2]int `json:"replayed"`
	}
	if err := json.Unmarshal(b, &p); err != nil || p.Version != 1 {
		return nil // refused as damaged or of another version: nothing re-sent
	}
	return &replayProgress{Version: p.Version, Replayed: p.Replayed}
}

// TestReplayJournaledSnapshotRefusedByVersion1Readers: after a crash (kill
// -9) mid-run the snapshot names a journal holding the chunks accepted
// since. Were it "version": 1, the format earlier replay commands read as
// complete, an earlier version (a rollback, an older binary in a cron job
// on another host) would ignore the unknown "journal" field and send every
// journaled chunk again (2000 records here; a review showed it with the
// previous binary). It says version 2, which they refuse.
func TestReplayJournaledSnapshotRefusedByVersion1Readers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "quarantine-20240101T00.ndjson")
	writeRecords(t, path, 3500)
	a := newCrashAdmin(t, path)
	replayOnce(t, a.srv.URL, dir, "", "")
	posts, _ := a.snapshot()
	restoreState(t, path, posts[2].state) // killed while the third chunk was in flight
	now, err := loadProgress(path + progressSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if now.replayedLines() != 2000 {
		t.Fatalf("this version: %d lines replayed after the crash, want 2000", now.replayedLines())
	}
	if old := loadProgressV1(t, path+progressSuffix); old != nil && old.replayedLines() != now.replayedLines() {
		t.Errorf("a version-1 reader takes the snapshot as complete with %d lines replayed; %d were accepted (journaled): an earlier replay command sends %d records again",
			old.replayedLines(), now.replayedLines(), now.replayedLines()-old.replayedLines())
	}
}

// TestReplayFailedCompactionGoesOn: once the journal outweighs the
// snapshot, record takes it into a new snapshot. When that snapshot cannot
// be written (here: its .tmp path is taken; in life a full volume), the
// chunk is already in the journal: the run goes on with a warning (it used
// to stop and claim, falsely, that the chunk would be sent again), and the
// next run sends nothing twice.
func TestReplayFailedCompactionGoesOn(t *testing.T) {
	defer func(v int64) { journalCompactBytes = v }(journalCompactBytes)
	journalCompactBytes = 16 << 10 // a compaction every few chunks
	dir := t.TempDir()
	path := filepath.Join(dir, "quarantine-20240101T00.ndjson")
	const n = 20_000
	writeRecords(t, path, n)
	a := newCountingAdmin(t, func(post int, lines []string) (int, string) {
		if post == 2 { // after the run's first snapshot
			if err := os.Mkdir(path+progressSuffix+".tmp", 0o755); err != nil {
				t.Error(err)
			}
		}
		return http.StatusOK, routerAnswer(len(lines), 0)
	})
	var out bytes.Buffer
	if err := replayQuarantine(&out, a.srv.URL, []string{dir}, "", "", false); err != nil {
		t.Errorf("a failed compaction stopped the run after %d of %d records, though every chunk was journaled: %v", len(a.lines()), n, err)
	}
	if !strings.Contains(out.String(), "could not be written") {
		t.Errorf("no warning:\n%s", out.String())
	}
	if g := len(a.lines()); g != n {
		t.Errorf("first run sent %d of %d", g, n)
	}
	_ = os.Remove(path + progressSuffix + ".tmp")
	out.Reset()
	if err := replayQuarantine(&out, a.srv.URL, []string{dir}, "", "", false); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if g := len(a.lines()); g != n {
		t.Errorf("sent %d lines in all, want %d", g, n)
	}
	if pr, err := loadProgress(path + progressSuffix); err != nil || !pr.Finished {
		t.Errorf("progress %+v, %v: want finished", pr, err)
	}
}
