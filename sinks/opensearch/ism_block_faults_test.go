package opensearch

// Fault tests from a third review of the OpenSearch destination: each failed
// on the code as found, because of the fault its comment describes. The servers are httptest servers on
// loopback (or osfake behind one) answering as OpenSearch documents it.

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
)

// TestFloodStageBlockRetriedSilently: when a data node passes the
// flood-stage disk watermark (cluster.routing.allocation.disk.watermark.
// flood_stage, 95% by default), OpenSearch puts the read_only_allow_delete
// block on every index with a shard there, and every bulk item for those
// indices is refused with
//
//	{"status":429,"error":{"type":"cluster_block_exception","reason":"index [x]
//	  blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage
//	  watermark, index has read-only-allow-delete block];"}}
//
// Its status is 429, not 403: OpenSearch's IndexMetadata declares
// INDEX_READ_ONLY_ALLOW_DELETE_BLOCK with RestStatus.TOO_MANY_REQUESTS
// (taken from Elasticsearch #50166 before the fork), as seen from OpenSearch
// 1.1 (opensearch-project/OpenSearch#3498) and 2.x
// (open-telemetry/opentelemetry-collector-contrib#31343).
//
// doc.go's outcome table lists this state as "403 ... cluster_block_exception:
// read-only after the flood-stage disk watermark: retryable, logged at error
// level", and names a write block among "the refusals logged at error level
// [that] are the cluster's state ... they last until an operator acts".
// clusterState (response.go) only recognizes cluster_block_exception with
// status 403, so the real flood-stage answer is taken for an ordinary 429
// (a busy write queue): the events are retried (right), but nothing is
// logged, ever. The disk stays full, the destination's events pile up in the
// queue, and the operator is never told that the cluster needs disk space
// (429s are routine backpressure, so the retried counter says nothing either).
//
// Expected: retryable, as now, and one error-level line that names the write
// block, as for the 403 form.
func TestFloodStageBlockRetriedSilently(t *testing.T) {
	c := newRVCluster(t, func(w http.ResponseWriter, acts []rvAction) {
		rvBulkAnswer(w, acts, func(k int, a rvAction) (int, string) {
			return 429, `{"type":"cluster_block_exception","reason":"index [` + a.index +
				`] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];"}`
		})
	})
	logs := new(syncBuffer)
	s := rvSink(t, c, Config{}, logs)
	b := makeBatch(t, 1, 20, time.Second)
	defer b.Release()
	err := s.Write(context.Background(), b)
	perm, retry := rvOutcomes(err, len(b.Events))
	if len(perm) != 0 || len(retry) != len(b.Events) {
		t.Fatalf("flood-stage block: %d permanent, %d retryable of %d, want all retryable (err: %.300v)", len(perm), len(retry), len(b.Events), err)
	}
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("every event refused by the flood-stage read-only-allow-delete block (429 cluster_block_exception) and retried, "+
			"but nothing logged at error level; doc.go promises the write block is logged so an operator frees disk. Logs:\n%s", logs.String())
	}
}

// TestAliasWithoutWriteIndexQuarantined: "index" may name an alias
// (doc.go's own index_not_found message mentions "an alias or data stream
// [that] is missing"); the classic OpenSearch rollover setup writes to an
// alias whose current index has is_write_index true (ISM's rollover action
// needs index.plugins.index_state_management.rollover_alias). When the
// alias has no write index (a rollover that failed half-way, an operator who
// added a second index to the alias without is_write_index, a restore),
// OpenSearch's IndexNameExpressionResolver.concreteWriteIndex throws an
// IllegalArgumentException and every bulk item for the alias is answered
//
//	{"status":400,"error":{"type":"illegal_argument_exception","reason":"no
//	  write index is defined for alias [logs-write]. The write index may be
//	  explicitly disabled using is_write_index=false or the alias points to
//	  multiple indices without one being designated as a write index"}}
//
// (the message is OpenSearch's, asserted in its IndexAliasesIT; seen in the
// field from OpenShift logging's fluentd, "[400] ... no write index is
// defined for alias [infra-write]").
//
// Like the shard limit and index_not_found_exception (fixed after earlier
// reviews, see cluster_state_faults_test.go), this is the cluster's state,
// not the documents': it lasts until an operator fixes the alias, and then
// the same documents index fine. classifyItem/clusterState (response.go)
// make it an ordinary 400: every event of the destination is quarantined,
// and nothing is logged.
//
// Expected: retryable and logged at error level, like the other refusals
// "that are the cluster's state" in doc.go.
func TestAliasWithoutWriteIndexQuarantined(t *testing.T) {
	c := newRVCluster(t, func(w http.ResponseWriter, acts []rvAction) {
		rvBulkAnswer(w, acts, func(k int, a rvAction) (int, string) {
			return 400, `{"type":"illegal_argument_exception","reason":"no write index is defined for alias [` + a.index +
				`]. The write index may be explicitly disabled using is_write_index=false or the alias points to multiple indices without one being designated as a write index"}`
		})
	})
	logs := new(syncBuffer)
	s := rvSink(t, c, Config{Index: "logs-write"}, logs)
	b := makeBatch(t, 2, 20, time.Second)
	defer b.Release()
	err := s.Write(context.Background(), b)
	perm, retry := rvOutcomes(err, len(b.Events))
	if len(perm) != 0 {
		t.Fatalf("alias without a write index: %d of %d events quarantined (retryable: %d), want all retried until the alias is fixed (err: %.300v)",
			len(perm), len(b.Events), len(retry), err)
	}
	if len(retry) != len(b.Events) {
		t.Fatalf("%d of %d retryable, want all (err: %.300v)", len(retry), len(b.Events), err)
	}
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("alias without a write index: nothing logged at error level. Logs:\n%s", logs.String())
	}
}

// ismFront is an httptest server in front of an osfake cluster that answers
// the Index State Management API the way the ISM plugin (opensearch-project/
// index-management) does where it matters here: a policy is attached to an
// index only by the add API (POST _plugins/_ism/add/<index>) or, for indices
// created after it, by the policy's own ism_template (ManagedIndexCoordinator.
// createManagedIndexRequests: "build requests to create jobs for indices
// matching ISM templates"). Everything else goes to osfake.
type ismFront struct {
	srv *httptest.Server
	mu  sync.Mutex
	// added are the targets of add calls with their policy id.
	added map[string]string
	// tmplPatterns are the ism_template index patterns of each policy,
	// as stored by PUT _plugins/_ism/policies/<id>.
	tmplPatterns map[string][]string
	calls        []string
}

func newISMFront(t *testing.T, fake *osfake.Server, policy string) *ismFront {
	t.Helper()
	u, err := url.Parse(fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	f := &ismFront{added: map[string]string{}, tmplPatterns: map[string][]string{policy: nil}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_plugins/_ism/") && !strings.HasPrefix(r.URL.Path, "/_opendistro/_ism/") {
			proxy.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls = append(f.calls, r.Method+" "+r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		rest := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/_plugins/_ism/"), "/_opendistro/_ism/")
		switch {
		case strings.HasPrefix(rest, "add/"):
			var req struct {
				PolicyID string `json:"policy_id"`
			}
			_ = json.Unmarshal(body, &req)
			if _, ok := f.tmplPatterns[req.PolicyID]; !ok {
				w.WriteHeader(404)
				_, _ = io.WriteString(w, `{"error":{"type":"resource_not_found_exception","reason":"Could not find policy"},"status":404}`)
				return
			}
			f.added[strings.TrimPrefix(rest, "add/")] = req.PolicyID
			_, _ = io.WriteString(w, `{"updated_indices":1,"failures":false,"failed_indices":[]}`)
		case strings.HasPrefix(rest, "policies/"):
			id := strings.TrimPrefix(rest, "policies/")
			pats, ok := f.tmplPatterns[id]
			if !ok {
				w.WriteHeader(404)
				_, _ = io.WriteString(w, `{"error":{"type":"status_exception","reason":"Policy not found"},"status":404}`)
				return
			}
			if r.Method == http.MethodPut {
				var req struct {
					Policy struct {
						ISMTemplate json.RawMessage `json:"ism_template"`
					} `json:"policy"`
				}
				_ = json.Unmarshal(body, &req)
				var many []struct {
					IndexPatterns []string `json:"index_patterns"`
				}
				var one struct {
					IndexPatterns []string `json:"index_patterns"`
				}
				if json.Unmarshal(req.Policy.ISMTemplate, &many) == nil {
					for _, m := range many {
						pats = append(pats, m.IndexPatterns...)
					}
				} else if json.Unmarshal(req.Policy.ISMTemplate, &one) == nil {
					pats = append(pats, one.IndexPatterns...)
				}
				f.tmplPatterns[id] = pats
			}
			_, _ = io.WriteString(w, `{"_id":"`+id+`","_version":1,"_seq_no":0,"_primary_term":1,"policy":{"policy":{"policy_id":"`+id+`","description":"30 days","default_state":"hot","states":[{"name":"hot","actions":[],"transitions":[]}]}}}`)
		default:
			_, _ = io.WriteString(w, `{}`)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// managedBy returns the policy attached to index, "" when none.
func (f *ismFront) managedBy(index string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for target, id := range f.added {
		for _, p := range strings.Split(target, ",") {
			if ok, _ := path.Match(p, index); ok {
				return id
			}
		}
	}
	for id, pats := range f.tmplPatterns {
		for _, p := range pats {
			if ok, _ := path.Match(p, index); ok {
				return id
			}
		}
	}
	return ""
}

// TestISMPolicyNeverAttached: bootstrap.ism_policy is documented as
// "written into the template's settings as
// index.plugins.index_state_management.policy_id, so that new indices are
// managed by that Index State Management policy" (config.go; doc.go and
// docs/configuration.md show "ism_policy: logs-30d"). That setting has not
// attached a policy since Open Distro 1.13, before OpenSearch forked: ISM's
// ManagedIndexCoordinator creates a managed-index job for a new index only
// when a policy's ism_template matches its name (or when the add API is
// called); ManagedIndexSettings still registers the setting, so the PUT of
// the template succeeds and nothing complains ("I did not see that the
// setting index_state_management.policy_id has been removed and replaced by
// ism_template in the policy", opendistro-for-elasticsearch/
// index-management#409; OpenSearch's ISM docs attach policies only with
// ism_template or POST _plugins/_ism/add).
//
// So with the configuration the docs show, the sink reports the template
// ready (logrouter_opensearch_template_ready 1), every daily index carries
// the policy id in its settings, and none is managed: no rollover, no
// delete. A SOC that relies on "logs-30d" keeps every daily index of every
// source type forever, until the disk reaches the flood stage or the
// cluster reaches cluster.max_shards_per_node, when ingestion stops.
//
// The fake in front of osfake answers ISM like the plugin: a policy
// manages an index only through the add API or its ism_template. Expected:
// with bootstrap.ism_policy set, every index the sink writes to is managed
// by that policy (for example by adding an ism_template for the index
// patterns to the policy, or calling the add API), or else Validate/New
// refuse ism_policy with an explanation instead of accepting a setting that
// does nothing.
func TestISMPolicyNeverAttached(t *testing.T) {
	const policy = "logs-30d"
	fake := osfake.New()
	t.Cleanup(fake.Close)
	front := newISMFront(t, fake, policy)
	cfg := Config{
		URLs:      []string{front.srv.URL},
		Bootstrap: BootstrapConfig{Enabled: true, ISMPolicy: policy},
	}
	s, err := New("os", cfg, WithMetrics(NewMetrics(nil)), WithLogger(slog.New(slog.DiscardHandler)),
		withBootstrapTiming(10*time.Millisecond, 5*time.Second))
	if err != nil {
		return // refused up front: fixed
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	deadline := time.Now().Add(10 * time.Second)
	for !s.TemplateReady() {
		if time.Now().After(deadline) {
			t.Fatal("bootstrap never reported the template ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	b := makeBatch(t, 5, 50, time.Minute)
	defer b.Release()
	now := time.Now().UnixNano()
	for i := range b.Events {
		b.Events[i].Time, b.Events[i].Ingest = now, now
	}
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	indices := fake.Indices()
	if len(indices) == 0 {
		t.Fatal("no index created")
	}
	var unmanaged []string
	for _, ix := range indices {
		if front.managedBy(ix) != policy {
			unmanaged = append(unmanaged, ix)
		}
	}
	if len(unmanaged) > 0 {
		tmpl, _ := fake.Template(cfg.Bootstrap.TemplateName)
		if tmpl == nil {
			tmpl, _ = fake.Template(DefaultTemplateName)
		}
		front.mu.Lock()
		calls := front.calls
		front.mu.Unlock()
		t.Fatalf("bootstrap.ism_policy %q: template ready, yet %d of %d indices are managed by no ISM policy (%v): "+
			"the template only sets index.plugins.index_state_management.policy_id, which ISM ignores; ISM calls made: %v; template: %s",
			policy, len(unmanaged), len(indices), unmanaged, calls, tmpl)
	}
}
