package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReplayForeign413NotLeft: a 413 that is not the router's (a proxy's
// body limit, a wrong --admin) used to record every record as left, for
// good; it now stops the run and records nothing.
func TestReplayForeign413NotLeft(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "quarantine-20240101T00.ndjson")
	writeOld(t, p, qline("invalid_json", "a1")+qline("invalid_json", "a2"))
	proxy := newCountingAdmin(t, func(int, []string) (int, string) {
		return http.StatusRequestEntityTooLarge, "<html><body><h1>413 Request Entity Too Large</h1>nginx</body></html>"
	})
	var out bytes.Buffer
	err := replayQuarantine(&out, proxy.srv.URL, []string{dir}, "", "", false)
	t.Logf("err=%v\n%s", err, out.String())
	router := newCountingAdmin(t, func(_ int, lines []string) (int, string) {
		return http.StatusOK, routerAnswer(len(lines), 0)
	})
	out.Reset()
	_ = replayQuarantine(&out, router.srv.URL, []string{dir}, "", "", false)
	if g := router.lines(); len(g) != 2 {
		t.Errorf("after a foreign 413, the router got %v; want a1 a2\n%s", g, out.String())
	}
}

// TestReplayUnsavableProgressSendsNothing: when progress cannot be saved
// (the quarantine volume full or read-only), the chunk the router accepted
// used to be sent again by every later run; progress is now written once
// before anything is sent, so such a run sends nothing.
func TestReplayUnsavableProgressSendsNothing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "quarantine-20240101T00.ndjson")
	writeOld(t, p, qline("invalid_json", "a1")+qline("invalid_json", "a2"))
	// Stands for an unwritable directory (tests run as root).
	if err := os.Mkdir(p+progressSuffix+".tmp", 0o755); err != nil {
		t.Fatal(err)
	}
	a := newCountingAdmin(t, func(_ int, lines []string) (int, string) {
		return http.StatusOK, routerAnswer(len(lines), 0)
	})
	for range 3 {
		var out bytes.Buffer
		if err := replayQuarantine(&out, a.srv.URL, []string{dir}, "", "", false); err == nil || !strings.Contains(err.Error(), "cannot record replay progress") {
			t.Errorf("err = %v, want the progress failure", err)
		}
	}
	if g := a.lines(); len(g) != 0 {
		t.Errorf("3 runs that cannot record progress sent %v; want nothing until progress can be recorded", g)
	}
}
