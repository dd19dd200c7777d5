package opensearch

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
)

func bootCfg() Config {
	return Config{Bootstrap: BootstrapConfig{Enabled: true, TemplateName: "lr", ISMPolicy: "logs-30d"}}
}

func TestBootstrapCreatesTemplateOnce(t *testing.T) {
	srv := osfake.New()
	t.Cleanup(srv.Close)
	e := newEnvOn(t, srv, bootCfg())
	if !e.sink.TemplateReady() {
		t.Fatal("template not ready after New with the cluster up")
	}
	if g, p := srv.Requests("GET /_index_template/{name}"), srv.Requests("PUT /_index_template/{name}"); g != 1 || p != 1 {
		t.Fatalf("GET %d PUT %d, want 1 1", g, p)
	}
	raw, ok := srv.Template("lr")
	if !ok || string(raw) != string(TemplateBody(bootCfg())) {
		t.Fatalf("stored template %s", raw)
	}
	var tmpl struct {
		IndexPatterns []string `json:"index_patterns"`
		Template      struct {
			Settings map[string]string `json:"settings"`
			Mappings struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	if len(tmpl.IndexPatterns) != 1 || tmpl.IndexPatterns[0] != "logs-*" ||
		tmpl.Template.Settings["index.plugins.index_state_management.policy_id"] != "logs-30d" {
		t.Fatalf("template %s", raw)
	}
	for _, f := range []string{"@timestamp", "event", "source", "destination", "host", "message", "logrouter"} {
		if _, ok := tmpl.Template.Mappings.Properties[f]; !ok {
			t.Fatalf("template lacks a mapping for %s", f)
		}
	}
	// A second instance finds the template and leaves it alone.
	e2 := newEnvOn(t, srv, bootCfg())
	if !e2.sink.TemplateReady() {
		t.Fatal("second sink: template not ready")
	}
	if g, p := srv.Requests("GET /_index_template/{name}"), srv.Requests("PUT /_index_template/{name}"); g != 2 || p != 1 {
		t.Fatalf("GET %d PUT %d, want 2 1", g, p)
	}
	// The template's mappings apply: a bad address or port is ignored
	// (ignore_malformed), a bad @timestamp is refused.
	b := pipeline.NewBatch()
	defer b.Release()
	for i, raw := range []string{
		`{"@timestamp":"2026-11-28T10:00:00.123456789Z","source":{"ip":"10.1.2.3","port":22},"message":"ok"}`,
		`{"@timestamp":"2026-11-28T10:00:00Z","source":{"ip":"not-an-ip","port":"ssh"}}`,
		`{"@timestamp":"not a date"}`,
	} {
		b.Commit(append(b.Arena(), raw...), pipeline.Event{Hash: uint64(i + 1), Time: baseTime.UnixNano(), Ingest: baseTime.UnixNano(), SourceType: "linux.auth"})
	}
	err := e.sink.Write(t.Context(), b)
	be, ok := err.(*pipeline.BatchError)
	if !ok || len(be.Items) != 1 || be.Items[0].Index != 2 || !pipeline.IsPermanent(be.Items[0].Err) {
		t.Fatalf("Write = %v, want only the bad @timestamp refused", err)
	}
}

func TestBootstrapClusterDownAtStart(t *testing.T) {
	srv := osfake.New()
	t.Cleanup(srv.Close)
	srv.SetUnavailable(http.StatusServiceUnavailable)
	start := time.Now()
	e := newEnvOn(t, srv, bootCfg(), withBootstrapTiming(20*time.Millisecond, 2*time.Second))
	if d := time.Since(start); d > time.Second {
		t.Fatalf("New took %s with the cluster down", d)
	}
	if e.sink.TemplateReady() {
		t.Fatal("template ready while the cluster is down")
	}
	time.Sleep(100 * time.Millisecond)
	srv.SetUnavailable(0)
	deadline := time.Now().Add(5 * time.Second)
	for !e.sink.TemplateReady() {
		if time.Now().After(deadline) {
			t.Fatalf("template never created after the cluster came back; logs:\n%s", e.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, ok := srv.Template("lr"); !ok || srv.Requests("PUT /_index_template/{name}") != 1 {
		t.Fatal("template not stored exactly once")
	}
	if !strings.Contains(e.logs.String(), "bootstrap failed") {
		t.Fatalf("the failed attempts were not logged:\n%s", e.logs.String())
	}
}

func TestBootstrapStopsAtClose(t *testing.T) {
	srv := osfake.New()
	t.Cleanup(srv.Close)
	srv.SetDropConnections(true)
	e := newEnvOn(t, srv, bootCfg(), withBootstrapTiming(10*time.Millisecond, 50*time.Millisecond))
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if err := e.sink.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %s", d)
	}
	if e.sink.TemplateReady() {
		t.Fatal("ready without a cluster")
	}
	// goleak (TestMain) checks that the retry goroutine is gone.
}
