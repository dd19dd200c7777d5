package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
	"github.com/logrouter/logrouter/sinks/file"
)

// reloadRig is a router whose rules live in a directory on disk: an HTTP and
// a syslog TCP input, P1 to a "siem" file destination, everything to
// "archive".
type reloadRig struct {
	t     *testing.T
	cfg   *config.Config
	app   *App
	rules string
	data  string
}

const reloadRule = `rules:
  - name: alerts
    priority: P1
    expr: kind == %q
`

const reloadTest = `tests:
  - name: %s is P1
    event: {"kind": %q}
    expect: {priority: P1}
`

func newReloadRig(t *testing.T, interval time.Duration, tweak ...func(*config.Config)) *reloadRig {
	t.Helper()
	data := t.TempDir()
	r := &reloadRig{t: t, data: data, rules: filepath.Join(data, "rules")}
	if err := os.MkdirAll(r.rules, 0o755); err != nil {
		t.Fatal(err)
	}
	r.write("detection")
	cfg := &config.Config{
		Log:    config.Log{Level: "error", Format: "text"},
		Admin:  config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{HTTP: &httpin.Config{Address: "127.0.0.1:0", Tokens: []httpin.Token{{Name: "t", Token: "s3cret"}}}, Syslog: &syslog.Config{TCP: &syslog.TCPConfig{Address: "127.0.0.1:0"}, BatchWait: time.Millisecond}},
		Destinations: []config.Destination{
			{Name: "archive", Type: "file", File: &file.Config{Dir: filepath.Join(data, "archive")}},
			{Name: "siem", Type: "file", File: &file.Config{Dir: filepath.Join(data, "siem")}},
		},
		Routing: config.Routing{P1: []string{"siem"}, All: []string{"archive"}},
	}
	cfg.Rules.ReloadInterval = interval
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Queue.Dir = filepath.Join(data, "queue")
	for _, f := range tweak {
		f(cfg)
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r.cfg = cfg
	a, err := r.newApp()
	if err != nil {
		t.Fatal(err)
	}
	r.app = a
	return r
}

// newApp builds another app of the rig's configuration and rules (a
// restart, after stop).
func (r *reloadRig) newApp() (*App, error) {
	return New(r.cfg, RulesSource{FS: os.DirFS(r.rules), Dir: ".", Name: r.rules}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// write makes the P1 rule match kind == kind, with a test that says so.
func (r *reloadRig) write(kind string) {
	r.writeFiles(fmt.Sprintf(reloadRule, kind), fmt.Sprintf(reloadTest, kind, kind))
}

func (r *reloadRig) writeFiles(rule, test string) {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.rules, "10-p1.yaml"), []byte(rule), 0o644); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.rules, "10-p1_test.yaml"), []byte(test), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *reloadRig) post(id, kind string) {
	r.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+r.app.HTTPAddr()+"/ingest", strings.NewReader(fmt.Sprintf(`{"id":%q,"kind":%q}`, id, kind)))
	req.Header.Set("Authorization", "Bearer s3cret")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		r.t.Fatalf("post %s: %d %s", id, res.StatusCode, b)
	}
}

func (r *reloadRig) reload() (int, string) {
	r.t.Helper()
	res, err := http.Post("http://"+r.app.AdminAddr()+"/admin/reload", "", nil)
	if err != nil {
		r.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, string(b)
}

// siem returns the ids delivered to the SIEM so far, waiting until want is
// among them (or a few seconds passed).
func (r *reloadRig) siemHas(want string) bool {
	r.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(r.data, "siem", "*.ndjson"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if strings.Contains(string(b), `"id":"`+want+`"`) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *reloadRig) metric(name string) string {
	r.t.Helper()
	for _, l := range strings.Split(scrapeText(r.t, "http://"+r.app.AdminAddr()+"/metrics"), "\n") {
		if strings.HasPrefix(l, name+" ") {
			return strings.TrimPrefix(l, name+" ")
		}
	}
	return ""
}

func scrapeText(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func (r *reloadRig) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.app.Shutdown(ctx); err != nil {
		r.t.Error(err)
	}
}

// TestReloadRules: POST /admin/reload makes the next events classify with
// the rule files as they are now, on a syslog connection opened before the
// reload too; rules that do not compile, or fail their own tests, are
// refused with the reason and the running rules stay.
func TestReloadRules(t *testing.T) {
	r := newReloadRig(t, 0)
	if err := r.app.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.stop()
	_, tcpAddr, _ := r.app.SyslogAddrs()
	conn, err := net.Dial("tcp", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	syslogLine := func(id, kind string) {
		t.Helper()
		if _, err := fmt.Fprintf(conn, "<14>1 2026-11-30T10:00:00Z h app - - - {\"id\":%q,\"kind\":%q}\n", id, kind); err != nil {
			t.Fatal(err)
		}
	}

	r.post("before", "alert")
	syslogLine("sl-before", "alert")
	if r.siemHas("before") || r.siemHas("sl-before") {
		t.Fatal("kind alert reached the SIEM before the rule matched it")
	}

	r.write("alert")
	if code, body := r.reload(); code != 200 || !strings.Contains(body, `"rules":1`) || !strings.Contains(body, `"rule_tests":1`) {
		t.Fatalf("reload: %d %s", code, body)
	}
	r.post("after", "alert")
	syslogLine("sl-after", "alert") // the connection opened before the reload
	if !r.siemHas("after") {
		t.Fatal("after the reload, kind alert over HTTP did not reach the SIEM")
	}
	if !r.siemHas("sl-after") {
		t.Fatal("after the reload, kind alert did not reach the SIEM (HTTP or the open syslog connection)")
	}

	// Does not compile: refused, the running rules stay.
	r.writeFiles("rules:\n  - name: alerts\n    priority: P1\n    expr: kind ==\n", fmt.Sprintf(reloadTest, "alert", "alert"))
	if code, body := r.reload(); code != 422 || !strings.Contains(body, "10-p1.yaml") {
		t.Errorf("reload of a rule that does not compile: %d %s, want 422 naming the file", code, body)
	}
	// Compiles, but its own test fails: refused.
	r.writeFiles(fmt.Sprintf(reloadRule, "other"), fmt.Sprintf(reloadTest, "alert", "alert"))
	if code, body := r.reload(); code != 422 || !strings.Contains(body, "rule tests fail") {
		t.Errorf("reload of rules failing their tests: %d %s, want 422", code, body)
	}
	r.post("still", "alert")
	if !r.siemHas("still") {
		t.Error("a refused reload changed the running rules")
	}
	if got := r.metric(`logrouter_rules_reloads_total{result="error"}`); got != "2" {
		t.Errorf("reloads error = %q, want 2", got)
	}
	if got := r.metric("logrouter_rules_last_reload_successful"); got != "0" {
		t.Errorf("last_reload_successful = %q, want 0", got)
	}
	if got := r.metric(`logrouter_rule_matches_total{rule="alerts"}`); got != "3" {
		t.Errorf("rule alerts matched %q, want 3 (after, sl-after, still: one counter across reloads)", got)
	}
}

// TestReloadRulesWatchAndSIGHUP: with rules.reload_interval the router
// notices a changed file by itself; SIGHUP reloads at once.
func TestReloadRulesWatchAndSIGHUP(t *testing.T) {
	t.Run("interval", func(t *testing.T) {
		r := newReloadRig(t, time.Second)
		if err := r.app.Start(); err != nil {
			t.Fatal(err)
		}
		defer r.stop()
		r.write("alert")
		deadline := time.Now().Add(10 * time.Second)
		for r.metric(`logrouter_rules_reloads_total{result="ok"}`) != "1" {
			if time.Now().After(deadline) {
				t.Fatal("the changed rule file was not reloaded within 10s (reload_interval 1s)")
			}
			time.Sleep(100 * time.Millisecond)
		}
		r.post("watched", "alert")
		if !r.siemHas("watched") {
			t.Error("after the periodic reload, kind alert did not reach the SIEM")
		}
		time.Sleep(1500 * time.Millisecond) // unchanged files: no more reloads
		if got := r.metric(`logrouter_rules_reloads_total{result="ok"}`); got != "1" {
			t.Errorf("reloads = %s with the files unchanged since the first, want 1", got)
		}
	})
	t.Run("SIGHUP", func(t *testing.T) {
		r := newReloadRig(t, 0)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.app.Run(ctx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}()
		deadline := time.Now().Add(10 * time.Second)
		for !r.app.ready.Load() {
			if time.Now().After(deadline) {
				t.Fatal("not ready")
			}
			time.Sleep(10 * time.Millisecond)
		}
		r.write("alert")
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		for r.metric(`logrouter_rules_reloads_total{result="ok"}`) != "1" {
			if time.Now().After(deadline) {
				t.Fatal("SIGHUP did not reload the rules")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
