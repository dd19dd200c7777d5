package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// lcPost sends n NDJSON lines to /ingest and fails t unless 200.
func lcPost(t *testing.T, p *proc, tag string, n int) {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"event":{"dataset":"okta.system"},"id":"%s-%d"}`+"\n", tag, i)
	}
	res, err := http.Post("http://"+p.http+"/ingest", "application/x-ndjson", strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("ingest: %s", res.Status)
	}
}

// Fault: a destination that is down when SIGTERM comes makes the drain
// wait out its retry backoff to the shutdown deadline; the destinations
// after it in the config then get no drain at all (their queues are
// cancelled at once, the archive's open objects are left .partial), and
// the process exits 1 ("in-flight ... deadline") although nothing was in
// flight.
//
// Sequence: OpenSearch (listed first) is down (connection refused) and
// its queue's delivery is sleeping a retry backoff (retry_initial 20s
// stands for a destination down for a minute or more: the default backoff
// grows to retry_max 30s); the archive (archive_dir) is healthy. Events
// are acknowledged, then SIGTERM. Queue.Close sets draining, but the
// delivery goroutine sleeps in backoff.Sleep(ctx, ...) on the queue's run
// ctx, which draining does not end: deliver only checks draining after a
// write fails. So the OpenSearch queue's Close takes the whole
// shutdown_timeout; engine.Close closes the sinks one after the other
// with the same ctx, so the archive's queue is cancelled at once and its
// sink's Close gets an expired ctx.
//
// Expected: the code's own contract for a drain ("while draining for a
// shutdown, [deliver returns] at the first failure"; "shutting down:
// leave the rest queued for the next start", pipeline/queue) and
// docs/kubernetes.md Shutdown ("4. delivers what it can within
// shutdown_timeout"): the down destination's events stay queued at once,
// the healthy archive gets what was acknowledged and its objects are
// finalized, and the process exits 0 promptly (as
// TestSIGTERMDrainsAndExitsZero checks when every destination is up).
//
// Actual: shutdown takes the full shutdown_timeout, exits 1 ("close
// destination archive: context deadline exceeded"), and the archive's
// objects stay .partial (not finalized or visible until the next start;
// with an S3 archive, staged objects are not uploaded). On Kubernetes,
// during any SIEM/OpenSearch outage every rollout or drain of a pod takes
// preStop + shutdown_timeout (55 s) and leaves the healthy destinations
// undrained.
//
// Severity: medium (no loss; slow shutdowns and undelivered healthy
// destinations during outages, a non-zero exit on every stop).
func TestSIGTERMDoesNotWaitOutDownDestinationBackoff(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, `
log: {level: info, format: json}
admin: {address: "127.0.0.1:0"}
inputs:
  http: {address: "127.0.0.1:0"}
rules: {dir: RULES}
destinations:
  - name: opensearch
    type: opensearch
    opensearch: {urls: ["http://127.0.0.1:1"]}
    queue: {retry_initial: 20s, retry_max: 30s}
  - {name: archive, type: archive_dir, archive_dir: {dir: DATA/archive}}
routing: {all: [opensearch, archive]}
quarantine: {dir: DATA/quarantine}
queue: {dir: DATA/queue}
shutdown_timeout: 6s
`)
	p := startRouter(t, cfgPath)
	lcPost(t, p, "a", 20)
	// Let OpenSearch's first delivery fail: it now sleeps 10-20 s.
	time.Sleep(1500 * time.Millisecond)
	lcPost(t, p, "b", 20)

	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err, tail := p.wait(t, 20*time.Second)
	took := time.Since(start)
	partial, _ := filepath.Glob(filepath.Join(dir, "archive", "*", "*", "*", "*", "*", "*.partial"))
	logs := strings.Join(tail, "\n")
	if took > 4*time.Second || err != nil || len(partial) > 0 {
		t.Errorf("SIGTERM with OpenSearch down: took %v (shutdown_timeout 6s), exit %v, archive objects left .partial: %v\n%s",
			took.Round(100*time.Millisecond), err, partial, lcTail(logs, 2000))
	}
}

func lcTail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// lcMountTmpfs mounts a tmpfs of size bytes at dir (a volume that can
// fill), or skips t where mounting is not allowed.
func lcMountTmpfs(t *testing.T, dir string, size int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
}

// lcFakeOpenSearch answers _bulk with 503 while down, else success.
func lcFakeOpenSearch(t *testing.T) (url string, setDown func(bool)) {
	t.Helper()
	var down atomic.Bool
	down.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if down.Load() {
			http.Error(w, `{"error":"down"}`, http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			body, _ = io.ReadAll(zr)
		}
		// One item per action line (every other line), echoing its _id.
		var items []string
		lines := strings.Split(strings.TrimRight(string(body), "\n"), "\n")
		for i := 0; i < len(lines); i += 2 {
			var action map[string]struct {
				Index string `json:"_index"`
				ID    string `json:"_id"`
			}
			_ = json.Unmarshal([]byte(lines[i]), &action)
			for op, a := range action {
				items = append(items, fmt.Sprintf(`{%q:{"_index":%q,"_id":%q,"status":201,"result":"created"}}`, op, a.Index, a.ID))
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"took":1,"errors":false,"items":[%s]}`, strings.Join(items, ","))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, down.Store
}

// lcIngest posts n okta events of about pad bytes each; it returns the
// status (0 on a transport error) and the body.
func lcIngest(p *proc, tag string, n, pad int) (int, string) {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"event":{"dataset":"okta.system"},"id":"%s-%d","pad":"%s"}`+"\n", tag, i, strings.Repeat("x", pad))
	}
	res, err := http.Post("http://"+p.http+"/ingest", "application/x-ndjson", strings.NewReader(b.String()))
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// lcFillVolume ingests until the queue volume is full (ENOSPC) down
// to single small events, and returns the events acknowledged.
func lcFillVolume(t *testing.T, p *proc) int {
	t.Helper()
	acked := 0
	for _, size := range []struct{ n, pad int }{{100, 400}, {10, 100}, {1, 10}} {
		for i := 0; ; i++ {
			code, body := lcIngest(p, fmt.Sprintf("f%d-%d", size.n, i), size.n, size.pad)
			if code == 200 {
				acked += size.n
				continue
			}
			if !strings.Contains(body, "no space left") {
				t.Fatalf("refused for another reason than a full volume: %d %s", code, body)
			}
			break
		}
	}
	if acked < 1000 {
		t.Fatalf("only %d events acknowledged before the volume filled", acked)
	}
	return acked
}

// lcFullVolumeConfig is a router whose one destination, OpenSearch at
// url, has its queue on the volume mounted at DATA/vol.
func lcFullVolumeConfig(t *testing.T, dir, url string) string {
	return writeConfig(t, dir, `
log: {level: info, format: json}
admin: {address: "127.0.0.1:0"}
inputs:
  http: {address: "127.0.0.1:0"}
rules: {dir: RULES}
destinations:
  - name: opensearch
    type: opensearch
    opensearch: {urls: ["`+url+`"]}
    queue: {retry_initial: 50ms, retry_max: 200ms, segment_bytes: 65536}
routing: {all: [opensearch]}
quarantine: {dir: DATA/quarantine}
queue: {dir: DATA/vol/queue}
shutdown_timeout: 5s
`)
}

// Fault (the process-level view of pipeline/queue
// TestDiskFullFreesDeliveredSegments): the real binary, its
// queue on a small volume (tmpfs, 4 MiB) that an OpenSearch outage fills.
// Once OpenSearch is back and every queued event delivered (the ledger
// shows nothing queued), the router still answers every request 503
// "no space left on device", for ever: the delivered segments are never
// deleted because the cursor save that must come first needs a new file
// on the full volume.
//
// Expected: once the backlog is delivered the space comes back and input
// is accepted again (docs/kubernetes.md: a full queue "answers HTTP
// 503/429 ... instead of dropping" while the destination is down; the
// queue drains when it returns; internal/wal: "Errors are not sticky:
// after a full disk (ENOSPC) ... later Appends succeed once the cause is
// gone").
//
// Actual: 503 on every request after the drain; /readyz still 200.
//
// Severity: high. Skipped where a tmpfs cannot be mounted (not root).
func TestFullQueueVolumeFreedAfterDrain(t *testing.T) {
	dir := t.TempDir()
	vol := filepath.Join(dir, "vol")
	lcMountTmpfs(t, vol, 4<<20)
	url, setDown := lcFakeOpenSearch(t)
	cfgPath := lcFullVolumeConfig(t, dir, url)
	p := startRouter(t, cfgPath)
	acked := lcFillVolume(t, p)
	setDown(false)
	waitDrained(t, p.admin)

	var code int
	var body string
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if code, body = lcIngest(p, "after", 1, 10); code == 200 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code != 200 {
		t.Errorf("all %d acknowledged events delivered and nothing queued, yet 5 s later input is still refused: %d %s", acked, code, body)
	}
}

// Fault: while the queue volume is full (ENOSPC) and the router refuses
// every request with 503, its HEC health endpoint answers 200 "HEC is
// healthy" (and /readyz 200 "ready"), so a load balancer that checks
// /services/collector/health keeps sending this replica its share of the
// traffic, all of it refused.
//
// Sequence: OpenSearch down, input fills the queue's volume (tmpfs,
// 4 MiB; queue.max_bytes is the default 1 GiB, larger than the volume, as
// docs/kubernetes.md warns can happen: "Bounds that add up to more than
// the volume fill it (ENOSPC) before any of them refuses anything"). Every
// ingest answers 503 "no space left on device". GET
// /services/collector/health.
//
// Expected: README: "GET /services/collector/health ... 503 code 18 while
// shutting down, or while a destination's queue is full and input is
// refused (as Splunk's "queues are full": a load balancer sends
// elsewhere)". The queue can take nothing and input is refused.
//
// Actual: 200 code 17. queue.Full (pipeline.FullReporter) only knows
// refusals for max_bytes (fullErr); a refusal because the append failed
// for want of disk space does not count.
//
// Severity: medium (health lies during a disk-full outage; with the fault
// above, for good). Skipped where a tmpfs cannot be mounted (not root).
func TestHECHealthBusyWhileVolumeFullRefusesAll(t *testing.T) {
	dir := t.TempDir()
	vol := filepath.Join(dir, "vol")
	lcMountTmpfs(t, vol, 4<<20)
	url, _ := lcFakeOpenSearch(t)
	p := startRouter(t, lcFullVolumeConfig(t, dir, url))
	lcFillVolume(t, p)
	code, body := lcIngest(p, "check", 1, 10)
	if code == 200 {
		t.Fatalf("the volume is not full: %s", body)
	}
	res, err := http.Get("http://" + p.http + "/services/collector/health")
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("every ingest refused (%d %s), yet HEC health answers %d %s", code, lcTail(body, 200), res.StatusCode, hb)
	}
}
