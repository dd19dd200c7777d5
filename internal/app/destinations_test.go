package app

import (
	"bytes"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/internal/conservation"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/opensearch"
	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
	"github.com/logrouter/logrouter/sinks/s3"
	"github.com/logrouter/logrouter/sinks/s3/s3test"
	"github.com/logrouter/logrouter/sinks/siem"
	"github.com/logrouter/logrouter/sinks/siem/hecfake"
)

// destApp starts a router with an HTTP input (token "fw" types events
// fw.generic: P2; "edr" edr: P1; "app" app.generic: P3), the local archive for
// every event (unless dests has one named "archive"), and the given
// destinations routed by priority.
func destApp(t *testing.T, data string, dests []config.Destination, r config.Routing) *App {
	t.Helper()
	cfg := &config.Config{
		Node:  "node1",
		Log:   config.Log{Level: "error", Format: "text"},
		Admin: config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{HTTP: &httpin.Config{Address: "127.0.0.1:0", Tokens: []httpin.Token{
			{Name: "fw", Token: "fwsecret", SourceType: "fw.generic"},
			{Name: "edr", Token: "edrsecret", SourceType: "edr"},
			{Name: "app", Token: "appsecret", SourceType: "app.generic"},
		}}},
		Destinations: dests,
		Routing:      r,
	}
	if !slices.ContainsFunc(dests, func(d config.Destination) bool { return d.Name == "archive" }) {
		cfg.Destinations = append([]config.Destination{{Name: "archive", Type: "archive_dir",
			ArchiveDir: &s3.Config{Dir: filepath.Join(data, "archive"), TimeSource: "ingest"}}}, dests...)
	}
	cfg.Routing.All = append(cfg.Routing.All, "archive")
	cfg.Quarantine.Dir, cfg.Queue.Dir = filepath.Join(data, "quarantine"), filepath.Join(data, "queue")
	cfg.SetDefaults()
	cfg.Queue.RetryInitial, cfg.Queue.RetryMax = 20*time.Millisecond, 200*time.Millisecond
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, cfg)
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
	day := func(at time.Time) string { return "logs-fw.generic-" + at.UTC().Format("2006.01.02") }
	firstDay := day(time.Now()) // the index is the ingest day: the test may cross midnight UTC
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
		if idx != firstDay && idx != day(time.Now()) {
			t.Errorf("unexpected index %s", idx)
		}
	}
}

// TestRoutingToSIEMAndOpenSearch: P1 goes to the SIEM (the fake Splunk HEC,
// indexer acknowledgement on, busy for its first requests), P2 to the fake
// OpenSearch, nothing else goes to either, and every event is archived.
func TestRoutingToSIEMAndOpenSearch(t *testing.T) {
	osrv := osfake.New()
	defer osrv.Close()
	hec := hecfake.New(hecfake.Config{Tokens: []string{"hec-token"}, Ack: true})
	defer hec.Close()
	hec.FailNext(3, http.StatusServiceUnavailable, 9)
	data := t.TempDir()
	a := destApp(t, data, []config.Destination{
		{Name: "siem", Type: "splunk_hec", SplunkHEC: &siem.HECConfig{URL: hec.URL(), Token: "hec-token",
			Ack: siem.HECAckConfig{Enabled: true, PollInterval: 20 * time.Millisecond}}},
		{Name: "opensearch", Type: "opensearch", OpenSearch: &opensearch.Config{URLs: []string{osrv.URL}}},
	}, config.Routing{P1: []string{"siem"}, P2: []string{"opensearch"}})
	p1, p2, p3 := conservation.NewSender("p1"), conservation.NewSender("p2"), conservation.NewSender("p3")
	sendBatches(t, a, p1, "edrsecret", 5, 100)
	sendBatches(t, a, p2, "fwsecret", 5, 100)
	sendBatches(t, a, p3, "appsecret", 5, 100)

	hecDocs := func(run string) func() (map[uint64]int, error) {
		return func() (map[uint64]int, error) {
			var ev [][]byte
			for _, e := range hec.Events() {
				ev = append(ev, e.Event)
			}
			return conservation.CountDocs(run, ev)
		}
	}
	osDocs := func(run string) func() (map[uint64]int, error) {
		return func() (map[uint64]int, error) {
			var src [][]byte
			for _, d := range osrv.Docs() {
				src = append(src, d.Source)
			}
			return conservation.CountDocs(run, src)
		}
	}
	gotP1 := waitFor(t, "siem", 500, hecDocs("p1"))
	gotP2 := waitFor(t, "opensearch", 500, osDocs("p2"))
	stopApp(t, a)
	if r := conservation.Check(p1.Acked(), gotP1); len(r.Missing) > 0 || r.Acked != 500 {
		t.Errorf("P1 at the SIEM: %s", r)
	}
	if r := conservation.Check(p2.Acked(), gotP2); len(r.Missing) > 0 || r.Duplicates > 0 || r.Acked != 500 {
		t.Errorf("P2 at OpenSearch: %s", r)
	}
	for _, c := range []struct {
		what string
		fn   func() (map[uint64]int, error)
	}{{"P2 at the SIEM", hecDocs("p2")}, {"P3 at the SIEM", hecDocs("p3")},
		{"P1 at OpenSearch", osDocs("p1")}, {"P3 at OpenSearch", osDocs("p3")}} {
		if got, _ := c.fn(); len(got) > 0 {
			t.Errorf("%s: %d events", c.what, len(got))
		}
	}
	for _, s := range []*conservation.Sender{p1, p2, p3} {
		if r := conservation.Check(s.Acked(), waitAll(t, s.Run, 500, filepath.Join(data, "archive"))); len(r.Missing) > 0 || r.Acked != 500 {
			t.Errorf("%s in the archive: %s", s.Run, r)
		}
	}
	if st := hec.Stats(); st.Injected != 3 || st.AcksConfirmed == 0 {
		t.Errorf("HEC fake: %+v (want 3 injected 503s and confirmed acks)", st)
	}
	for _, e := range hec.Events() {
		if e.SourceType != "edr" {
			t.Errorf("HEC event with sourcetype %q, want edr", e.SourceType)
			break
		}
	}
}

// TestS3ArchiveDestination: every event reaches the (in-process, gofakes3)
// S3 archive through a burst of 500s on uploads, in Hive-style keys, and the
// staging directory is empty after shutdown.
func TestS3ArchiveDestination(t *testing.T) {
	srv := s3test.New(t, "archive")
	var failed atomic.Int32
	srv.SetFault(func(r *s3test.Request) s3test.Fault {
		if (r.Op == s3test.OpPutObject || r.Op == s3test.OpUploadPart) && failed.Add(1) <= 3 {
			return s3test.Status500
		}
		return s3test.Forward
	})
	data := t.TempDir()
	staging := filepath.Join(data, "staging")
	a := destApp(t, data, []config.Destination{{Name: "archive", Type: "s3", S3: &s3.S3Config{
		Bucket: "archive", Endpoint: srv.URL, PathStyle: true, Region: s3test.Region,
		AccessKeyID: s3test.AccessKeyID, SecretAccessKey: s3test.SecretAccessKey,
		StagingDir: staging, MaxObjectAge: 200 * time.Millisecond, TimeSource: "ingest"}}}, config.Routing{})
	s := conservation.NewSender("s3")
	sendBatches(t, a, s, "fwsecret", 10, 100)
	sendBatches(t, a, s, "edrsecret", 10, 100)
	stopApp(t, a) // uploads what is still staged
	dec, _ := zstd.NewReader(nil)
	defer dec.Close()
	var lines [][]byte
	for key, body := range srv.Objects(t, "archive") {
		if !strings.HasPrefix(key, "logs/priority=") || !strings.Contains(key, "/dt=") || !strings.HasSuffix(key, ".ndjson.zst") {
			t.Errorf("unexpected key %s", key)
		}
		raw, err := dec.DecodeAll(body, nil)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		lines = append(lines, bytes.Split(bytes.TrimSpace(raw), []byte("\n"))...)
	}
	got, err := conservation.CountDocs("s3", lines)
	if err != nil {
		t.Fatal(err)
	}
	if r := conservation.Check(s.Acked(), got); len(r.Missing) > 0 || r.Acked != 2000 {
		t.Errorf("S3 archive: %s", r)
	}
	if failed.Load() < 3 {
		t.Errorf("only %d faults were injected", failed.Load())
	}
	left := 0
	_ = filepath.WalkDir(staging, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != ".start-lease" { // the key lease stays (sinks/s3)
			left++
		}
		return nil
	})
	if left > 0 {
		t.Errorf("%d files left in staging after shutdown", left)
	}
}
