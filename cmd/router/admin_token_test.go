package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/logrouter/logrouter/internal/app"
)

const cliAdminToken = "cli-admin-token-0123456789"

// tokenAdmin fakes the admin listener of a router with admin.token set: it
// records the Authorization header of every request and answers 401 to
// those without the token, like the router.
type tokenAdmin struct {
	srv   *httptest.Server
	mu    sync.Mutex
	auths []string
	posts []string // bodies of the accepted replays
}

func newTokenAdmin(t *testing.T) *tokenAdmin {
	a := &tokenAdmin{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		defer a.mu.Unlock()
		a.auths = append(a.auths, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		if r.Header.Get("Authorization") != "Bearer "+cliAdminToken {
			http.Error(w, "requires the admin token", http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/admin/stats" {
			_, _ = w.Write([]byte(`{"inputs":[]}`))
			return
		}
		a.posts = append(a.posts, string(b))
		fmt.Fprintf(w, `{"replayed":%d,"rejected":0}`, strings.Count(string(b), "\n"))
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *tokenAdmin) seen() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.auths...)
}

// TestAdminCommandsSendToken: router quarantine replay and router stats
// send the admin token as "Authorization: Bearer", from --token or else
// $LOGROUTER_ADMIN_TOKEN; without one the router's 401 ends the run with
// its message.
func TestAdminCommandsSendToken(t *testing.T) {
	a := newTokenAdmin(t)
	quarantineDir := func() string {
		dir := t.TempDir()
		writeOld(t, filepath.Join(dir, "quarantine-20240101T00.ndjson"), qline("invalid_json", `{"n":1}`)+qline("invalid_json", `{"n":2}`))
		return dir
	}

	t.Setenv(adminTokenEnv, "")
	out, err := run(t, "", "quarantine", "replay", "--admin", a.srv.URL, quarantineDir())
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "requires the admin token") {
		t.Fatalf("replay without a token: %v\n%s", err, out)
	}
	if out, err := run(t, "", "quarantine", "replay", "--admin", a.srv.URL, "--token", cliAdminToken, quarantineDir()); err != nil || !strings.Contains(out, "2 replayed") {
		t.Fatalf("replay with --token: %v\n%s", err, out)
	}
	t.Setenv(adminTokenEnv, cliAdminToken)
	if out, err := run(t, "", "quarantine", "replay", "--admin", a.srv.URL, quarantineDir()); err != nil || !strings.Contains(out, "2 replayed") {
		t.Fatalf("replay with $%s: %v\n%s", adminTokenEnv, err, out)
	}
	if out, err := run(t, "", "stats", "--json", "--admin", a.srv.URL+"/"); err != nil || !strings.Contains(out, `"inputs"`) {
		t.Fatalf("stats with $%s: %v\n%s", adminTokenEnv, err, out)
	}
	// The flag wins over the environment.
	t.Setenv(adminTokenEnv, "stale-token-from-the-environment")
	if out, err := run(t, "", "quarantine", "replay", "--admin", a.srv.URL, "--token", cliAdminToken, quarantineDir()); err != nil {
		t.Fatalf("replay with --token over a stale $%s: %v\n%s", adminTokenEnv, err, out)
	}
	if out, err := run(t, "", "stats", "--admin", a.srv.URL, "--token", cliAdminToken); err != nil || !strings.Contains(out, "DESTINATION") {
		t.Fatalf("stats with --token: %v\n%s", err, out)
	}
	want := []string{
		"POST /admin/replay ",
		"POST /admin/replay Bearer " + cliAdminToken,
		"POST /admin/replay Bearer " + cliAdminToken,
		"GET /admin/stats Bearer " + cliAdminToken,
		"POST /admin/replay Bearer " + cliAdminToken,
		"GET /admin/stats Bearer " + cliAdminToken,
	}
	if got := a.seen(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestQuarantineReplayToRouterWithToken: against a real router with
// admin.token, the replay needs the token even from loopback, and works
// with it.
func TestQuarantineReplayToRouterWithToken(t *testing.T) {
	a, _ := startReplayRouter(t, cliAdminToken)
	dir := t.TempDir()
	writeOld(t, filepath.Join(dir, "quarantine-20240101T00.ndjson"), qline("invalid_json", `{"n":1}`)+qline("invalid_json", `{"n":2}`))
	admin := "http://" + a.AdminAddr()

	t.Setenv(adminTokenEnv, "")
	out, err := run(t, "", "quarantine", "replay", "--admin", admin, dir)
	if err == nil || !strings.Contains(err.Error(), "401 Unauthorized") || !strings.Contains(err.Error(), "LOGROUTER_ADMIN_TOKEN") {
		t.Fatalf("replay without the token: %v\n%s", err, out)
	}
	out, err = run(t, "", "quarantine", "replay", "--admin", admin, "--token", cliAdminToken, dir)
	if err != nil || !strings.Contains(out, "2 records selected, 2 replayed") {
		t.Fatalf("replay with the token: %v\n%s", err, out)
	}
}

// TestReplayChunksWithinRouterLimits: router quarantine replay splits what
// it sends so that every POST stays within the router's per-request bounds:
// at most replayChunk records, app.ReplayMaxRecords lines (a record may hold
// several) and replayChunkBytes bytes; every record is sent once.
func TestReplayChunksWithinRouterLimits(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	lines := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		n := strings.Count(string(b), "\n")
		mu.Lock()
		sizes = append(sizes, len(b))
		lines += n
		mu.Unlock()
		if n > app.ReplayMaxRecords {
			http.Error(w, "too many records", http.StatusRequestEntityTooLarge)
			return
		}
		fmt.Fprintf(w, `{"replayed":%d,"rejected":0}`, n)
	}))
	defer srv.Close()
	dir := t.TempDir()
	big := strings.Repeat("b", 3<<20+512<<10) // 3.5 MiB: two fit in a chunk, not three
	many := strings.TrimSuffix(strings.Repeat(`{"m":1}`+"\n", 4000), "\n")
	var content strings.Builder
	for range 3 {
		content.WriteString(qline("invalid_json", big))
	}
	for range 3 {
		content.WriteString(qline("invalid_json", many))
	}
	for i := range 2500 {
		content.WriteString(qline("invalid_json", fmt.Sprintf(`{"i":%d}`, i)))
	}
	writeOld(t, filepath.Join(dir, "quarantine-20240101T00.ndjson"), content.String())
	out := replayOnce(t, srv.URL, dir, "", "")
	if !strings.Contains(out, "2506 records selected, 2506 replayed") {
		t.Fatalf("replay: %s", out)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, n := range sizes {
		if n > replayChunkBytes {
			t.Errorf("a POST of %d bytes (limit %d)", n, replayChunkBytes)
		}
	}
	// In file order: 2 big records (7 MiB; a third passes 8 MiB); the
	// third and 2 of 4000 lines (the third would pass 10,000 lines); it
	// and 999 small ones (1000 records); 1000; the last 501.
	if len(sizes) != 5 {
		t.Errorf("%d POSTs of %v bytes, want 5", len(sizes), sizes)
	}
	if want := 3 + 3*4000 + 2500; lines != want {
		t.Errorf("%d lines received, want %d", lines, want)
	}
	if n := replayChunkOf([]replayRec{{raw: []byte(many)}, {raw: []byte(many)}, {raw: []byte(many)}}); n != 2 {
		t.Errorf("chunk of 3 records of 4000 lines: %d records, want 2 (at most %d lines)", n, app.ReplayMaxRecords)
	}
	if n := replayChunkOf([]replayRec{{raw: []byte(big + big + big)}}); n != 1 {
		t.Errorf("a record over the byte limit goes alone: %d", n)
	}
}
