package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/file"
)

// TestReloadDuplicateTestNameHidesFailure
//
// What is wrong: a reload tells the rule tests that already failed with the
// running rules (reloader.known, taken at start) from new failures by
// caseKey: the file and the case NAME only; and rules.ParseTests accepts
// two cases with the same name in one file. When a file holds a case that
// fails at start (an expectation written for another routing, say) and a
// second, passing case that carries the same name (a copy-pasted case whose
// name was not edited), a rule edit that breaks the second case is taken
// for the "known" failure of the first, and the reload is ACCEPTED: the
// broken rule goes live and logrouter_rules_last_reload_successful stays 1.
//
// Expected: rules/README.md, "Running the tests": a running router "runs
// these same tests first: a change that fails one is refused, logged with
// the failing case, and the rules already running stay";
// docs/configuration.md: rules that "fail a test that passes with the
// running rules (or a new test), are refused and the running rules stay".
// Either the duplicate name is refused when the tests load, or each case is
// told apart (by its line, say): either way this reload must fail.
func TestReloadDuplicateTestNameHidesFailure(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "rules")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The running rules: kind alert is P1. Case 1 fails with them (it wants
	// P2: known at start), case 2 passes; both are named the same.
	const tests = `tests:
  - name: alert is classified
    event: {"kind": "alert"}
    expect: {priority: P2}
  - name: alert is classified
    event: {"kind": "alert"}
    expect: {priority: P1}
`
	write("10-p1.yaml", "rules:\n  - name: alerts\n    priority: P1\n    expr: kind == \"alert\"\n")
	write("10-p1_test.yaml", tests)
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
	cfg.Queue.Dir = filepath.Join(data, "queue")
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, RulesSource{FS: os.DirFS(dir), Dir: ".", Name: dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.eng.Close(ctx)
	})
	// The edit breaks case 2: kind alert no longer matches any rule (P3).
	write("10-p1.yaml", "rules:\n  - name: alerts\n    priority: P1\n    expr: kind == \"other\"\n")
	if res, err := a.ReloadRules(); err == nil {
		t.Errorf("a rule edit that makes a passing rule test fail (the second case %q: want P1, now P3) was accepted (%+v): "+
			"its failure was taken for the known failure of the other case of that name", "alert is classified", res)
	}
}
