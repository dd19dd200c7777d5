package opensearch

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"bytes"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
)

// TestBootstrapNeverOverwritesTemplate: BootstrapConfig.Enabled and
// the package doc promise that an existing index template "is never
// overwritten" ("GET, then PUT when it is missing; an existing template is
// left alone"). bootstrapper.once checks with a GET and then sends a plain
// PUT _index_template/<name>, which replaces whatever was created in
// between (another replica of a different version starting at the same
// time, or an operator installing their own template). OpenSearch's
// ?create=true makes the PUT fail instead of replacing (400
// "already exists"), which bootstrap can take as "exists".
//
// Expected: the template created between the GET and the PUT is kept, and
// the sink reports the template ready.
func TestBootstrapNeverOverwritesTemplate(t *testing.T) {
	srv := osfake.New()
	t.Cleanup(srv.Close)
	operator := []byte(`{"index_patterns":["logs-*"],"priority":200,"template":{"mappings":{"properties":{"@timestamp":{"type":"date"}}}},"_meta":{"managed_by":"operator"}}`)
	var armed atomic.Bool
	armed.Store(true)
	// Just before the sink's PUT is handled, someone else creates the
	// template (after the sink's GET found none).
	srv.SetRequestHook(func(r *http.Request) {
		if r.Method != http.MethodPut || r.URL.Path != "/_index_template/lr" || !armed.CompareAndSwap(true, false) {
			return
		}
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/_index_template/lr", bytes.NewReader(operator))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		res.Body.Close()
	})
	e := newEnvOn(t, srv, bootCfg(), withBootstrapTiming(20*time.Millisecond, 2*time.Second))
	if armed.Load() {
		t.Fatal("the sink sent no PUT")
	}
	got, ok := srv.Template("lr")
	if !ok || !bytes.Equal(got, operator) {
		t.Errorf("bootstrap replaced the template another party created after its GET:\nwant %s\ngot  %s", operator, got)
	}
	// Found at once or at a retry (bootstrap retries in the background).
	for deadline := time.Now().Add(5 * time.Second); !e.sink.TemplateReady() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if !e.sink.TemplateReady() {
		t.Errorf("template not reported ready although it exists; logs:\n%s", e.logs.String())
	}
}
