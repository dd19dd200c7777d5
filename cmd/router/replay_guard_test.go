package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/logrouter/logrouter/internal/app"
)

// TestReplayFinishedFileReplacedSameSize: a file recorded as finished used
// to be skipped on its size alone, before the CRC of its recorded prefix was
// checked, so a file replaced by other records of the same size was skipped
// silently: its records were never sent and no "changed" error was given.
// Now the prefix is checked first and the file is refused as changed.
func TestReplayFinishedFileReplacedSameSize(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "quarantine-20240101T00.ndjson")
	writeOld(t, p, qline("invalid_json", "a1")+qline("invalid_json", "a2"))
	a := newReplayAdmin(t)
	replayOnce(t, a.srv.URL, dir, "", "")
	// Same size, other records (the file was restored or replaced).
	writeOld(t, p, qline("invalid_json", "b1")+qline("invalid_json", "b2"))
	var out bytes.Buffer
	err := replayQuarantine(&out, a.srv.URL, []string{dir}, "", "", false)
	if err == nil || !strings.Contains(out.String(), "changed since the last replay") {
		t.Fatalf("a replaced file is not refused: err = %v\n%s", err, out.String())
	}
	if g := a.lines(); len(g) != 2 {
		t.Errorf("sent %v from a replaced file", g)
	}
}

// TestReplayOversizedRecordDoesNotBlockTheRest: a quarantined record of
// more than app.ReplayMaxRecords lines (httpin quarantines a malformed _bulk
// body as one bulk_malformed_action record, the rest of a HEC body as one
// hec_not_processed record) used to be sent alone and answered 413, which
// ended every run before the records and files after it: they were never
// replayed, on any run. Now such a record is split across requests within
// the router's limits (the router replays it line by line anyway), so it
// and everything after it is replayed, once.
func TestReplayOversizedRecordDoesNotBlockTheRest(t *testing.T) {
	a, _ := startReplayRouter(t, cliAdminToken)
	dir := t.TempDir()
	body := strings.TrimSuffix(strings.Repeat(`{"index":{}}`+"\n", app.ReplayMaxRecords+1), "\n")
	writeOld(t, filepath.Join(dir, "quarantine-20240101T00.ndjson"), qline("bulk_malformed_action", body))
	writeOld(t, filepath.Join(dir, "quarantine-20240101T01.ndjson"), qline("invalid_json", `{"n":1}`))
	admin := "http://" + a.AdminAddr()
	var outs []string
	for range 2 {
		out, err := run(t, "", "quarantine", "replay", "--admin", admin, "--token", cliAdminToken, dir)
		outs = append(outs, fmt.Sprintf("%s\nerr: %v", out, err))
	}
	all := strings.Join(outs, "\n---\n")
	if _, err := os.Stat(filepath.Join(dir, "quarantine-20240101T01.ndjson.replay.json")); err != nil {
		t.Fatalf("the later file's record was never replayed after two runs:\n%s", all)
	}
	if !strings.Contains(outs[0], "2 records selected, 2 replayed") || !strings.Contains(outs[0], "err: <nil>") {
		t.Errorf("first run:\n%s", all)
	}
	if !strings.Contains(outs[1], "0 replayed; 2 skipped (already replayed)") {
		t.Errorf("second run:\n%s", all)
	}
}

// TestReplayNeedsTheRouterAnswer: any 200 used to count as the router's
// acceptance, so a 200 from something else (a wrong --admin, a login page
// of a proxy) recorded every record as replayed, for good. Now the answer
// must be the router's {"replayed":n,"rejected":m} for the records sent, or
// the run stops and records nothing.
func TestReplayNeedsTheRouterAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<html>login</html>"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	p := filepath.Join(dir, "quarantine-20240101T00.ndjson")
	writeOld(t, p, qline("invalid_json", "a1"))
	var out bytes.Buffer
	err := replayQuarantine(&out, srv.URL, []string{dir}, "", "", false)
	if err == nil || !strings.Contains(err.Error(), "not the router's replay answer") {
		t.Errorf("err = %v, want the answer refused\n%s", err, out.String())
	}
	if pr, _ := loadProgress(p + progressSuffix); pr != nil && pr.replayedLines() > 0 {
		t.Fatalf("records recorded as replayed after a 200 that is no replay answer")
	}
}

// countingAdmin fakes /admin/replay with a chosen answer per POST: answer
// gets the POST's number (from 1) and the lines it carries, and returns the
// status and body to send.
type countingAdmin struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []string
	post   int
	answer func(post int, lines []string) (int, string)
}

func newCountingAdmin(t *testing.T, answer func(post int, lines []string) (int, string)) *countingAdmin {
	a := &countingAdmin{answer: answer}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		defer a.mu.Unlock()
		a.post++
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		status, msg := a.answer(a.post, lines)
		if status != http.StatusOK {
			http.Error(w, msg, status)
			return
		}
		a.got = append(a.got, lines...)
		_, _ = w.Write([]byte(msg))
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *countingAdmin) lines() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.got...)
}

func routerAnswer(replayed, rejected int) string {
	return fmt.Sprintf(`{"replayed":%d,"rejected":%d}`+"\n", replayed, rejected)
}

// TestReplayReportsRejected: the router's rejected count (records it
// quarantined again) used to be thrown away, and those records reported as
// replayed. Now it is in the file's line and the summary; an answer whose
// counts do not add up to the records sent stops the run, recording nothing.
func TestReplayReportsRejected(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "quarantine-20240101T00.ndjson")
	writeOld(t, p, qline("invalid_json", "a1")+qline("invalid_json", "a2")+qline("invalid_json", "a3"))
	a := newCountingAdmin(t, func(_ int, lines []string) (int, string) {
		return http.StatusOK, routerAnswer(len(lines)-1, 1)
	})
	out := replayOnce(t, a.srv.URL, dir, "", "")
	if !strings.Contains(out, "replayed 3 of 3 records (1 line quarantined again by the router)") ||
		!strings.Contains(out, "3 records selected, 3 replayed (1 line quarantined again by the router)") {
		t.Errorf("rejected count not reported:\n%s", out)
	}

	dir = t.TempDir()
	p = filepath.Join(dir, "quarantine-20240101T00.ndjson")
	writeOld(t, p, qline("invalid_json", "a1")+qline("invalid_json", "a2"))
	short := newCountingAdmin(t, func(_ int, lines []string) (int, string) {
		return http.StatusOK, routerAnswer(len(lines)-1, 0)
	})
	var b bytes.Buffer
	err := replayQuarantine(&b, short.srv.URL, []string{dir}, "", "", false)
	if err == nil || !strings.Contains(err.Error(), "answered for 1 records, 2 were sent") {
		t.Errorf("err = %v, want the count mismatch\n%s", err, b.String())
	}
	if pr, _ := loadProgress(p + progressSuffix); pr != nil && pr.replayedLines() > 0 {
		t.Errorf("progress recorded after an answer for fewer records than were sent")
	}
}

// TestReplayLeavesARecordTheRouterRefusesAlone: a record the router answers
// 413 even when it goes alone as one line used to end the run, and every
// later run, before the records after it. Now it is reported and recorded
// as left (not replayed, not sent again), and the run goes on.
func TestReplayLeavesARecordTheRouterRefusesAlone(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "quarantine-20240101T00.ndjson")
	writeOld(t, p, qline("invalid_json", "a1")+qline("invalid_json", "huge")+qline("invalid_json", "a3"))
	writeOld(t, filepath.Join(dir, "quarantine-20240101T01.ndjson"), qline("invalid_json", "b1"))
	a := newCountingAdmin(t, func(_ int, lines []string) (int, string) {
		for _, l := range lines {
			if l == "huge" {
				return http.StatusRequestEntityTooLarge, "replay request body exceeds 67108864 bytes: send fewer records per request"
			}
		}
		return http.StatusOK, routerAnswer(len(lines), 0)
	})
	out := replayOnce(t, a.srv.URL, dir, "", "")
	if g := a.lines(); strings.Join(g, " ") != "a1 a3 b1" {
		t.Errorf("replayed %v, want [a1 a3 b1]\n%s", g, out)
	}
	if !strings.Contains(out, "line 2: the router refuses this record even alone") ||
		!strings.Contains(out, "4 records selected, 3 replayed; left: 1 refused by the router as too large") {
		t.Errorf("the refused record is not reported:\n%s", out)
	}
	out = replayOnce(t, a.srv.URL, dir, "", "")
	if g := a.lines(); len(g) != 3 {
		t.Errorf("second run sent again: %v\n%s", a.lines(), out)
	}
	if !strings.Contains(out, "0 records selected, 0 replayed; 3 skipped (already replayed); left: 1 refused by the router as too large; 2 files finished earlier") {
		t.Errorf("second run:\n%s", out)
	}
}

// TestReplaySplitRecordResumes: a record of more lines than one request may
// carry is sent in parts; when the run stops after some parts were
// accepted, the next run sends only the rest of it, so each of its lines
// reaches the router once.
func TestReplaySplitRecordResumes(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := range 2*app.ReplayMaxRecords + 5 {
		lines = append(lines, fmt.Sprintf("l%d", i))
	}
	writeOld(t, filepath.Join(dir, "quarantine-20240101T00.ndjson"),
		qline("invalid_json", "a1")+qline("hec_not_processed", strings.Join(lines, "\n"))+qline("invalid_json", "a3"))
	fail := true
	a := newCountingAdmin(t, func(post int, lines []string) (int, string) {
		if len(lines) > app.ReplayMaxRecords {
			return http.StatusRequestEntityTooLarge, "replay request carries more than 10000 records"
		}
		if post == 3 && fail {
			return http.StatusServiceUnavailable, "not accepted, retry: queue full"
		}
		return http.StatusOK, routerAnswer(len(lines), 0)
	})
	var out bytes.Buffer
	if err := replayQuarantine(&out, a.srv.URL, []string{dir}, "", "", false); err == nil {
		t.Fatalf("the 503 does not stop the run\n%s", out.String())
	}
	a.mu.Lock()
	fail = false
	a.mu.Unlock()
	replayOnce(t, a.srv.URL, dir, "", "")
	got := a.lines()
	seen := map[string]int{}
	for _, l := range got {
		seen[l]++
	}
	if len(got) != len(lines)+2 || len(seen) != len(got) {
		t.Errorf("sent %d lines, %d distinct; want each of %d once", len(got), len(seen), len(lines)+2)
	}
}

// TestReplaySplitRecord: a record over the router's per-request limits is
// split at line boundaries into pieces within them (a line longer than
// replayChunkBytes alone), which together hold its lines once, in order;
// halve splits a piece the router still refuses.
func TestReplaySplitRecord(t *testing.T) {
	var lines []string
	for i := range app.ReplayMaxRecords + 30 {
		lines = append(lines, fmt.Sprintf("l%d", i))
	}
	lines[20] = strings.Repeat("x", replayChunkBytes+1)
	raw := strings.Join(lines, "\n")
	ps := splitRecord(replayRec{line: 7, raw: []byte(raw)}, 0)
	var got []string
	for i, p := range ps {
		n := p.rawLines()
		if p.line != 7 || p.from != len(got) || p.last != (i == len(ps)-1) {
			t.Errorf("piece %d: line %d, from %d (want %d), last %v", i, p.line, p.from, len(got), p.last)
		}
		if n > app.ReplayMaxRecords || (len(p.raw)+1 > replayChunkBytes && n > 1) {
			t.Errorf("piece %d: %d lines, %d bytes: over the limits", i, n, len(p.raw))
		}
		got = append(got, strings.Split(string(p.raw), "\n")...)
	}
	if len(ps) != 4 || strings.Join(got, "\n") != raw {
		t.Fatalf("%d pieces of %d lines, want 4 holding the record's %d lines", len(ps), len(got), len(lines))
	}
	// Resumed after the first two pieces: the rest only.
	rest := splitRecord(replayRec{line: 7, raw: []byte(raw)}, 21)
	if len(rest) != 2 || rest[0].from != 21 || !strings.HasPrefix(string(rest[0].raw), "l21\n") {
		t.Errorf("resumed at line 21: %d pieces, the first from %d", len(rest), rest[0].from)
	}
	h := ps[0].halve()
	if string(h[0].raw) != strings.Join(lines[:10], "\n") || h[0].from != 0 || h[0].last ||
		string(h[1].raw) != strings.Join(lines[10:20], "\n") || h[1].from != 10 || h[1].last {
		t.Errorf("halves of %q: %q from %d, %q from %d", ps[0].raw, h[0].raw, h[0].from, h[1].raw, h[1].from)
	}
}
