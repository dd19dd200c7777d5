package app

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/file"
	"github.com/logrouter/logrouter/sinks/s3"
)

const testAdminToken = "0123456789abcdef-admin"

// forged is an event nobody should be able to put into the SIEM without
// credentials: an EDR all-clear for a domain controller.
const forged = `{"@timestamp":"2024-01-01T00:00:00Z","host":{"name":"dc01"},"event":{"dataset":"edr","action":"all-clear"},"message":"FORGED by an admin client"}`

// newAdminHarness is newHarness with admin.token set to token ("" for
// none).
func newAdminHarness(t *testing.T, token string) *harness {
	t.Helper()
	data := t.TempDir()
	cfg := &config.Config{
		Node:   "node1",
		Log:    config.Log{Level: "error", Format: "text"},
		Admin:  config.Admin{Address: "127.0.0.1:0", Token: token},
		Inputs: config.Inputs{HTTP: &httpin.Config{Address: "127.0.0.1:0", Tokens: []httpin.Token{{Name: "team-a", Token: "s3cret"}}}},
		Destinations: []config.Destination{
			{Name: "archive", Type: "archive_dir", ArchiveDir: &s3.Config{Dir: filepath.Join(data, "archive"), TimeSource: "ingest"}},
			{Name: "siem", Type: "file", File: &file.Config{Dir: filepath.Join(data, "siem")}},
		},
		Routing: config.Routing{P1: []string{"siem"}, All: []string{"archive"}},
	}
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Queue.Dir = filepath.Join(data, "queue")
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, cfg)
	return &harness{t: t, app: a, data: data, base: "http://" + a.HTTPAddr()}
}

// adminDo sends a request over the network to the admin listener (a
// loopback peer), with auth as the Authorization header when not "".
func (h *harness) adminDo(method, path, auth string, body io.Reader) resp {
	h.t.Helper()
	req, err := http.NewRequest(method, "http://"+h.app.AdminAddr()+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, body: string(b), header: res.Header}
}

// adminServe serves one request from peer (host:port) through the admin
// handler, in the calling goroutine: the way to test a non-loopback peer.
func (h *harness) adminServe(method, path, peer, auth string, body io.Reader) resp {
	req := httptest.NewRequest(method, path, body)
	req.RemoteAddr = peer
	req.Host = "localhost:8686" // as the CLI or a port-forward addresses it
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.app.adminHandler().ServeHTTP(rec, req)
	return resp{status: rec.Code, body: rec.Body.String(), header: rec.Header()}
}

// siemHas reports whether a line of the SIEM destination holds s; it waits
// up to wait for one to appear.
func (h *harness) siemHas(s string, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for {
		for _, l := range readLines(h.t, filepath.Join(h.data, "siem")) {
			if strings.Contains(l, s) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAdminReplayRefusesRemotePeerWithoutToken: the admin listener is on
// all interfaces by default, and POST /admin/replay used to deliver whatever
// it was sent to any destination with no credentials, while the ingest port
// requires a token for the very same bytes: anyone who reached :8686 could
// forge events into the SIEM or the Object Lock archive. With no admin.token
// it now answers only loopback peers, and says so; what only reads stays
// open to all.
func TestAdminReplayRefusesRemotePeerWithoutToken(t *testing.T) {
	var def config.Config
	def.SetDefaults()
	if def.Admin.Address != ":8686" || def.Admin.Token != "" {
		t.Fatalf("defaults: admin %+v", def.Admin)
	}
	h := newAdminHarness(t, "")
	defer h.stop()
	expect(t, "ingest without token", h.post("/ingest", "", "", forged+"\n"), http.StatusUnauthorized, "")

	for _, peer := range []string{"203.0.113.7:40000", "10.0.0.5:1234", "[2001:db8::1]:5555", "[fe80::1%eth0]:80"} {
		r := h.adminServe(http.MethodPost, "/admin/replay?destination=siem", peer, "", strings.NewReader(forged+"\n"))
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "only from loopback (127.0.0.0/8, ::1)") || !strings.Contains(r.body, "admin.token") {
			t.Errorf("replay from %s without admin.token: %d %s", peer, r.status, r.body)
		}
		// A token proves nothing when none is configured.
		r = h.adminServe(http.MethodPost, "/admin/replay?destination=siem", peer, "Bearer "+testAdminToken, strings.NewReader(forged+"\n"))
		if r.status != http.StatusForbidden {
			t.Errorf("replay from %s with a token the router does not have: %d %s", peer, r.status, r.body)
		}
	}
	if h.siemHas("FORGED", time.Second) {
		t.Fatal("a replay from a remote peer reached the SIEM")
	}
	for _, path := range []string{"/metrics", "/healthz", "/readyz", "/admin/stats"} {
		if r := h.adminServe(http.MethodGet, path, "203.0.113.7:40000", "", nil); r.status != http.StatusOK {
			t.Errorf("GET %s from a remote peer: %d %s (read-only endpoints stay open)", path, r.status, r.body)
		}
	}
}

// TestAdminReplayFromLoopbackWithoutToken: with no admin.token, router
// quarantine replay on the router's host (or in its pod) works as before.
func TestAdminReplayFromLoopbackWithoutToken(t *testing.T) {
	h := newAdminHarness(t, "")
	defer h.stop()
	r := h.adminDo(http.MethodPost, "/admin/replay?destination=siem", "", strings.NewReader(forged+"\n"))
	if r.status != http.StatusOK || !strings.Contains(r.body, `"replayed":1`) {
		t.Fatalf("replay from loopback: %d %s", r.status, r.body)
	}
	if !h.siemHas("FORGED", 10*time.Second) {
		t.Fatal("replayed event not delivered")
	}
	for _, peer := range []string{"127.0.0.1:1", "127.1.2.3:1", "[::1]:1", "[::ffff:127.0.0.1]:1"} {
		if r := h.adminServe(http.MethodPost, "/admin/replay", peer, "", strings.NewReader("")); r.status != http.StatusOK {
			t.Errorf("replay from %s: %d %s", peer, r.status, r.body)
		}
	}
}

// TestAdminReplayRequiresToken: with admin.token configured, a replay needs
// "Authorization: Bearer <token>" from every peer, loopback included (a
// sidecar shares the pod's loopback): none or a wrong one is 401 and
// delivers nothing; the right one works from anywhere.
func TestAdminReplayRequiresToken(t *testing.T) {
	h := newAdminHarness(t, testAdminToken)
	defer h.stop()
	const path = "/admin/replay?destination=siem"
	for _, auth := range []string{"", "Bearer", "Bearer ", "Bearer wrong", "Bearer " + testAdminToken + "x",
		"Bearer " + strings.ToUpper(testAdminToken), "Bearer " + testAdminToken[:len(testAdminToken)-1] + "X",
		"Splunk " + testAdminToken, "Basic " + base64Std("admin:"+testAdminToken), testAdminToken} {
		r := h.adminDo(http.MethodPost, path, auth, strings.NewReader(forged+"\n"))
		if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), "Bearer") ||
			!strings.Contains(r.body, "LOGROUTER_ADMIN_TOKEN") {
			t.Errorf("Authorization %q: %d %q %s", auth, r.status, r.header.Get("WWW-Authenticate"), r.body)
		}
		if r := h.adminServe(http.MethodPost, path, "203.0.113.7:1", auth, strings.NewReader(forged+"\n")); r.status != http.StatusUnauthorized {
			t.Errorf("Authorization %q from a remote peer: %d %s", auth, r.status, r.body)
		}
	}
	if h.siemHas("FORGED", time.Second) {
		t.Fatal("a replay without the right token reached the SIEM")
	}
	r := h.adminServe(http.MethodPost, path, "203.0.113.7:1", "bearer  "+testAdminToken, strings.NewReader(forged+"\n"))
	if r.status != http.StatusOK {
		t.Fatalf("replay with the token from a remote peer: %d %s", r.status, r.body)
	}
	r = h.adminDo(http.MethodPost, path, "Bearer "+testAdminToken, strings.NewReader(strings.Replace(forged, "FORGED", "LOOPBACK", 1)+"\n"))
	if r.status != http.StatusOK {
		t.Fatalf("replay with the token from loopback: %d %s", r.status, r.body)
	}
	if !h.siemHas("FORGED", 10*time.Second) || !h.siemHas("LOOPBACK", 10*time.Second) {
		t.Fatal("authenticated replays not delivered")
	}
	if r := h.adminDo(http.MethodGet, "/admin/stats", "", nil); r.status != http.StatusOK {
		t.Errorf("GET /admin/stats without token: %d %s (it stays open like /metrics)", r.status, r.body)
	}
}

// TestAdminReplayRecordLimit: POST /admin/replay used to take any number
// of records up to a 256 MiB body: 400,000 lines of 8 bytes (3.2 MB) held
// ~500 MiB of heap, so one request at the body limit could kill the
// process. It now refuses more than ReplayMaxRecords with 413 naming the
// limit, takes nothing, and holds little memory doing so.
func TestAdminReplayRecordLimit(t *testing.T) {
	h := newAdminHarness(t, "")
	defer h.stop()
	const n = 400_000
	body := bytes.Repeat([]byte("{\"a\":1}\n"), n)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			default:
			}
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	r := h.adminDo(http.MethodPost, "/admin/replay?destination=siem", "", bytes.NewReader(body))
	close(stop)
	<-sampled
	grow := int64(peak.Load()) - int64(base.HeapAlloc)
	t.Logf("replay of %d records: %d %s; heap grew by ~%d MiB", n, r.status, strings.TrimSpace(r.body), grow>>20)
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "more than 10000 records") {
		t.Fatalf("replay of %d records: %d %s", n, r.status, r.body)
	}
	if grow > 100<<20 {
		t.Errorf("heap grew by %d MiB refusing %d KiB of body", grow>>20, len(body)>>10)
	}
	l, err := BuildLedger(h.app.eng.Metrics().Registry)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range l.Inputs {
		if in.Input == "replay" && (in.Received > 0 || in.Quarantined > 0) {
			t.Errorf("a refused replay took records: %+v", in)
		}
	}
}

// TestAdminReplayBounds: each bound of one replay request, at and past its
// limit (lowered here).
func TestAdminReplayBounds(t *testing.T) {
	h := newAdminHarness(t, "")
	defer h.stop()
	const peer = "127.0.0.1:9"
	replay := func(body string) resp {
		t.Helper()
		return h.adminServe(http.MethodPost, "/admin/replay?destination=siem", peer, "", strings.NewReader(body))
	}
	lines := func(n int, line string) string { return strings.Repeat(line+"\n", n) }

	h.app.replay.records = 5
	if r := replay(lines(5, `{"a":1}`) + "\n\r\n"); r.status != http.StatusOK || !strings.Contains(r.body, `"replayed":5`) {
		t.Errorf("5 records (and blank lines) at a limit of 5: %d %s", r.status, r.body)
	}
	if r := replay(lines(6, `{"a":1}`)); r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "more than 5 records") {
		t.Errorf("6 records at a limit of 5: %d %s", r.status, r.body)
	}
	h.app.replay = defaultReplayLimits

	// A record over the event limit is quarantined, not parsed; the rest
	// is taken.
	h.app.replay.eventBytes = 100
	long := `{"message":"` + strings.Repeat("x", 200) + `"}`
	r := replay(`{"n":"before"}` + "\n" + long + "\r\n" + `{"n":"after"}`)
	if r.status != http.StatusOK || !strings.Contains(r.body, `"replayed":2`) || !strings.Contains(r.body, `"rejected":1`) {
		t.Errorf("a record over the event limit: %d %s", r.status, r.body)
	}
	q := strings.Join(readLines(t, filepath.Join(h.data, "quarantine")), "\n")
	if !strings.Contains(q, `"too_large"`) || !strings.Contains(q, "exceeds the replay limit of 100 bytes") {
		t.Errorf("quarantine lacks the too_large record:\n%s", q)
	}
	h.app.replay = defaultReplayLimits

	h.app.replay.normalizedBytes = 4 << 10
	if r := replay(lines(20, `{"message":"`+strings.Repeat("y", 300)+`"}`)); r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "exceed 4096 bytes once normalized") {
		t.Errorf("past the normalized limit: %d %s", r.status, r.body)
	}
	h.app.replay = defaultReplayLimits

	h.app.replay.bodyBytes = 1 << 10
	if r := replay(lines(100, `{"a":1}`+strings.Repeat(" ", 20))); r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "body exceeds 1024 bytes") {
		t.Errorf("past the body limit: %d %s", r.status, r.body)
	}
	h.app.replay = defaultReplayLimits
}

// TestAdminServerTimeouts: the admin server bounds a request's headers,
// body and answer, and its header size.
func TestAdminServerTimeouts(t *testing.T) {
	h := newAdminHarness(t, "")
	defer h.stop()
	s := h.app.admin
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout < s.ReadTimeout || s.IdleTimeout <= 0 || s.MaxHeaderBytes <= 0 {
		t.Fatalf("admin server: ReadHeaderTimeout %v ReadTimeout %v WriteTimeout %v IdleTimeout %v MaxHeaderBytes %d",
			s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout, s.MaxHeaderBytes)
	}
}

func TestReadLine(t *testing.T) {
	in := "a\r\n\n" + strings.Repeat("z", 50) + "\nlast"
	br := bufio.NewReaderSize(strings.NewReader(in), 16)
	type got struct {
		line string
		n    int
		err  error
	}
	want := []got{{"a", 1, nil}, {"", 0, nil}, {strings.Repeat("z", 12), 51, nil}, {"last", 4, io.EOF}}
	var buf []byte
	for i, w := range want {
		line, n, err := readLine(br, buf, 10)
		if string(line) != w.line || n != w.n || err != w.err {
			t.Errorf("line %d: got %q %d %v, want %q %d %v", i, line, n, err, w.line, w.n, w.err)
		}
		buf = line[:0]
	}
}

func TestLoopbackPeerAndBearer(t *testing.T) {
	for peer, want := range map[string]bool{"127.0.0.1:1": true, "127.255.0.1:1": true, "[::1]:1": true, "[::ffff:127.0.0.1]:1": true,
		"10.0.0.1:1": false, "[::]:1": false, "0.0.0.0:1": false, "[fe80::1%lo]:1": false, "localhost:1": false, "": false} {
		if got := loopbackPeer(peer); got != want {
			t.Errorf("loopbackPeer(%q) = %v", peer, got)
		}
	}
	for header, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "BEARER abc": "abc",
		"Bearer": "", "Bearer ": "", "Basic abc": "", "abc": "", "": ""} {
		if got, ok := bearerToken(header); got != want || ok != (want != "") {
			t.Errorf("bearerToken(%q) = %q, %v", header, got, ok)
		}
	}
}
