package app

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/internal/conservation"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/opensearch"
	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
	"github.com/logrouter/logrouter/sinks/s3"
)

// destApp starts a router with an HTTP input (token "fw" types events
// fw.generic: P2; token "edr" types them edr: P1), the local archive for
// every event, and the given destinations routed by priority.
func destApp(t *testing.T, data string, dests []config.Destination, r config.Routing) *App {
	t.Helper()
	cfg := &config.Config{
		Node:  "node1",
		Log:   config.Log{Level: "error", Format: "text"},
		Admin: config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{HTTP: &httpin.Config{Address: "127.0.0.1:0", Tokens: []httpin.Token{
			{Name: "fw", Token: "fwsecret", SourceType: "fw.generic"},
			{Name: "edr", Token: "edrsecret", SourceType: "edr"},
		}}},
		Destinations: append([]config.Destination{{Name: "archive", Type: "archive_dir",
			ArchiveDir: &s3.Config{Dir: filepath.Join(data, "archive"), TimeSource: "ingest"}}}, dests...),
		Routing: r,
	}
	cfg.Routing.All = append(cfg.Routing.All, "archive")
	cfg.Quarantine.Dir, cfg.Queue.Dir = filepath.Join(data, "quarantine"), filepath.Join(data, "queue")
	cfg.SetDefaults()
	cfg.Queue.RetryInitial, cfg.Queue.RetryMax = 20*time.Millisecond, 200*time.Millisecond
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, RulesSource{FS: testRules, Dir: "."}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	return a
}

// sendBatches posts n bodies of per events with token, recording what was
// acknowledged.
func sendBatches(t *testing.T, a *App, s *conservation.Sender, token string, n, per int) {
	t.Helper()
	for i := 0; i < n; i++ {
		body, ids := s.Body(per, "")
		req, _ := http.NewRequest(http.MethodPost, "http://"+a.HTTPAddr()+"/ingest", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			s.Ack(ids)
		}
	}
}

// waitFor polls count until it has n events or a minute passes.
func waitFor(t *testing.T, what string, n int, count func() (map[uint64]int, error)) map[uint64]int {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := count()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestOpenSearchDestination: P2 events reach the (fake) OpenSearch through a
// 503 outage and 30% per-item 429s, each stored once, and every event is in
// the archive.
func TestOpenSearchDestination(t *testing.T) {
	srv := osfake.New()
	defer srv.Close()
	srv.FailNext(3, http.StatusServiceUnavailable)
	srv.SetItemFaults(osfake.ItemFaults{Seed: 7, Rate429: 0.3})
	data := t.TempDir()
	a := destApp(t, data, []config.Destination{{Name: "opensearch", Type: "opensearch",
		OpenSearch: &opensearch.Config{URLs: []string{srv.URL}, Bootstrap: opensearch.BootstrapConfig{Enabled: true}}}},
		config.Routing{P2: []string{"opensearch"}})
	s := conservation.NewSender("os")
	sendBatches(t, a, s, "fwsecret", 20, 100)
	docs := func() (map[uint64]int, error) {
		var src [][]byte
		for _, d := range srv.Docs() {
			src = append(src, d.Source)
		}
		return conservation.CountDocs("os", src)
	}
	got := waitFor(t, "opensearch", len(s.Acked()), docs)
	srv.SetItemFaults(osfake.ItemFaults{})
	// The 503s may have met the template bootstrap, which then retries in
	// the background (1s, doubling).
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, ok := srv.Template("logrouter"); ok {
			break
		}
	}
	stopApp(t, a)
	if r := conservation.Check(s.Acked(), got); len(r.Missing) > 0 || r.Duplicates > 0 || r.Acked != 2000 {
		t.Errorf("opensearch: %s", r)
	}
	if r := conservation.Check(s.Acked(), waitAll(t, "os", 2000, filepath.Join(data, "archive"))); len(r.Missing) > 0 {
		t.Errorf("archive: %s", r)
	}
	if n := srv.BulkItems(); n < 2300 {
		t.Errorf("the fake saw %d bulk items: the 429s were not retried item by item", n)
	}
	if _, ok := srv.Template("logrouter"); !ok {
		t.Error("bootstrap did not install the index template")
	}
	for _, idx := range srv.Indices() {
		if idx != "logs-fw.generic-"+time.Now().UTC().Format("2006.01.02") && idx != "logs-fw.generic-"+time.Now().UTC().Add(-time.Minute).Format("2006.01.02") {
			t.Errorf("unexpected index %s", idx)
		}
	}
}
