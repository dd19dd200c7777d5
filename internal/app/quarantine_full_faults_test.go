package app

// Fault tests from an acceptance run: each failed before the fix of the bug
// it describes (the comments describe the code as it was found).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/file"
)

// TestQuarantineFullRefusalsAreCounted: past quarantine.max_total_bytes an
// HTTP request with a bad record is answered 503 and nothing of it is
// taken, its good events included: the sender is told to retry. That is
// what logrouter_input_refused_events_total counts ("Events of an input
// that were not acknowledged (the sender was told to retry)"), what the
// ledger's REFUSED column shows and what LogrouterInputRefusing alerts on.
// Observed: the counter, the ledger's received and refused stay where they
// were, so an input refused for hours by a full quarantine shows nothing
// (quarantined_events_total stops growing too: nothing is stored).
func TestQuarantineFullRefusalsAreCounted(t *testing.T) {
	data := t.TempDir()
	rulesDir := filepath.Join(data, "rules")
	if err := os.MkdirAll(rulesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rulesDir, "10-p1.yaml"), []byte(fmt.Sprintf(reloadRule, "detection")), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{
		Log:    config.Log{Level: "error", Format: "text"},
		Admin:  config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{HTTP: &httpin.Config{Address: "127.0.0.1:0", Tokens: []httpin.Token{{Name: "t", Token: "s3cret"}}}},
		Destinations: []config.Destination{
			{Name: "archive", Type: "file", File: &file.Config{Dir: filepath.Join(data, "archive")}},
		},
		Routing: config.Routing{All: []string{"archive"}},
	}
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Quarantine.MaxTotalBytes = 2000
	cfg.Queue.Dir = filepath.Join(data, "queue")
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, RulesSource{FS: os.DirFS(rulesDir), Dir: ".", Name: rulesDir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	}()
	post := func(body string) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+a.HTTPAddr()+"/ingest", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer s3cret")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	// Flood the quarantine with malformed records until it is full.
	for i := 0; ; i++ {
		code := post(fmt.Sprintf("not json %d %s\n", i, strings.Repeat("x", 200)))
		if code == http.StatusServiceUnavailable {
			break
		}
		if code != http.StatusBadRequest || i > 100 {
			t.Fatalf("flood record %d: %d", i, code)
		}
	}
	l0, err := BuildLedger(a.eng.Metrics().Registry)
	if err != nil {
		t.Fatal(err)
	}
	// A request with one good event and one bad record: refused whole.
	if code := post("{\"id\":\"good-1\",\"kind\":\"x\"}\nnot json again " + strings.Repeat("x", 400) + "\n"); code != http.StatusServiceUnavailable {
		t.Fatalf("good+bad request with the quarantine full: %d, want 503", code)
	}
	l1, err := BuildLedger(a.eng.Metrics().Registry)
	if err != nil {
		t.Fatal(err)
	}
	in := func(l *Ledger) InputLedger {
		for _, i := range l.Inputs {
			if i.Input == "http" {
				return i
			}
		}
		return InputLedger{}
	}
	before, after := in(l0), in(l1)
	if after.Refused <= before.Refused {
		t.Errorf("a request refused (503, retry) because the quarantine is full: ledger refused %v -> %v, logrouter_input_refused_events_total unchanged; want the events the sender was told to retry counted (received %v -> %v)",
			before.Refused, after.Refused, before.Received, after.Received)
	}
}
