package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	"github.com/logrouter/logrouter/internal/backoff"
)

// Bootstrap retry delays.
const (
	bootstrapRetryFirst = time.Second
	bootstrapRetryMax   = time.Minute
)

// TemplateBody returns the index template bootstrap installs for cfg (with
// defaults applied): JSON for PUT _index_template/<template_name>.
func TemplateBody(cfg Config) []byte {
	cfg.SetDefaults()
	b := cfg.Bootstrap
	keyword := map[string]any{"type": "keyword", "ignore_above": 1024}
	settings := map[string]any{}
	if b.ISMPolicy != "" {
		settings["index.plugins.index_state_management.policy_id"] = b.ISMPolicy
	}
	endpoint := func() map[string]any {
		return map[string]any{"properties": map[string]any{
			"ip":   map[string]any{"type": "ip", "ignore_malformed": true},
			"port": map[string]any{"type": "integer", "ignore_malformed": true},
		}}
	}
	mappings := map[string]any{
		"dynamic_templates": []any{
			map[string]any{"logrouter_metadata": map[string]any{
				"path_match": "logrouter.*", "match_mapping_type": "string",
				"mapping": map[string]any{"type": "keyword", "ignore_above": 1024},
			}},
			map[string]any{"messages": map[string]any{
				"match": "*message", "match_mapping_type": "string",
				"mapping": map[string]any{"type": "keyword", "ignore_above": 1024,
					"fields": map[string]any{"text": map[string]any{"type": "text"}}},
			}},
			map[string]any{"strings_as_keyword": map[string]any{
				"match_mapping_type": "string",
				"mapping":            keyword,
			}},
		},
		"properties": map[string]any{
			"@timestamp": map[string]any{"type": "date"},
			"message":    map[string]any{"type": "text"},
			"event": map[string]any{"properties": map[string]any{
				"ingested": map[string]any{"type": "date"},
				"dataset":  map[string]any{"type": "keyword"},
			}},
			"host": map[string]any{"properties": map[string]any{
				"name": map[string]any{"type": "keyword"},
			}},
			"source":      endpoint(),
			"destination": endpoint(),
			"logrouter": map[string]any{"properties": map[string]any{
				"input":    keyword,
				"protocol": keyword,
				"peer":     keyword,
				"token":    keyword,
				"index":    keyword,
				"source":   keyword,
			}},
		},
	}
	tmpl := map[string]any{"mappings": mappings}
	if len(settings) > 0 {
		tmpl["settings"] = settings
	}
	doc := map[string]any{
		"index_patterns": b.IndexPatterns,
		"priority":       b.Priority,
		"template":       tmpl,
		"_meta":          map[string]any{"managed_by": "logrouter"},
	}
	if b.DataStream {
		doc["data_stream"] = map[string]any{}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		panic(err) // maps of strings and numbers always marshal
	}
	return out
}

// bootstrapper installs the index template, retrying in the background.
type bootstrapper struct {
	s     *Sink
	api   *opensearchapi.Client
	body  []byte
	retry time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	ok     atomic.Bool
}

func newBootstrapper(s *Sink, retry time.Duration) *bootstrapper {
	if retry <= 0 {
		retry = bootstrapRetryFirst
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &bootstrapper{
		s: s, api: opensearchapi.NewFromClient(s.client), body: TemplateBody(s.cfg),
		retry: retry, ctx: ctx, cancel: cancel, done: make(chan struct{}),
	}
}

// start runs the bootstrap loop and waits up to wait for its first attempt.
func (b *bootstrapper) start(wait time.Duration) {
	first := make(chan struct{})
	b.s.templateReady.Set(0)
	go b.run(first)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-first:
	case <-t.C:
		b.s.log.Warn("OpenSearch index template bootstrap is taking long; continuing in the background")
	}
}

func (b *bootstrapper) run(first chan struct{}) {
	defer close(b.done)
	delay := b.retry
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(b.ctx, b.s.cfg.RequestTimeout)
		created, err := b.once(ctx)
		cancel()
		if err == nil {
			if created {
				b.s.log.Info("OpenSearch index template created", "template", b.s.cfg.Bootstrap.TemplateName, "index_patterns", b.s.cfg.Bootstrap.IndexPatterns)
			} else {
				b.s.log.Info("OpenSearch index template exists; left unchanged", "template", b.s.cfg.Bootstrap.TemplateName)
			}
			// The ISM policy's first attempt before the template is
			// reported ready and start stops waiting: ISM manages only
			// indices created after the policy's ism_template lists their
			// pattern, so the sink's first writes should come after it.
			ismDone := b.ismOnce(1, b.retry)
			b.ok.Store(true)
			b.s.templateReady.Set(1)
			if first != nil {
				close(first)
				first = nil
			}
			if !ismDone {
				b.runISM()
			}
			return
		}
		if first != nil {
			close(first)
			first = nil
		}
		if b.ctx.Err() != nil {
			return
		}
		b.s.log.Warn("OpenSearch index template bootstrap failed; retrying in the background (events are indexed meanwhile, new indices get dynamic mappings)",
			"template", b.s.cfg.Bootstrap.TemplateName, "attempt", attempt, "retry_in", delay, "err", err)
		if !backoff.Sleep(b.ctx, delay) {
			return
		}
		delay = min(2*delay, bootstrapRetryMax)
	}
}

// once makes sure the template exists: GET, then PUT when it is missing. It
// reports whether it created it.
func (b *bootstrapper) once(ctx context.Context) (created bool, err error) {
	name := b.s.cfg.Bootstrap.TemplateName
	resp, err := b.api.IndexTemplate.Get(ctx, &opensearchapi.IndexTemplateGetReq{IndexTemplates: name})
	status := 0
	if resp != nil && resp.Inspect().Response != nil {
		status = resp.Inspect().Response.StatusCode
	}
	switch {
	case status == http.StatusOK:
		return false, nil
	case status == http.StatusNotFound:
	case err != nil:
		return false, fmt.Errorf("GET _index_template/%s: %w", name, err)
	default:
		return false, fmt.Errorf("GET _index_template/%s: status %d", name, status)
	}
	// create=true: one created since the GET (another replica, an
	// operator) makes this PUT fail rather than be replaced; the retry's GET
	// then finds it.
	create := true
	cr, err := b.api.IndexTemplate.Create(ctx, opensearchapi.IndexTemplateCreateReq{
		IndexTemplate: name,
		Body:          bytes.NewReader(b.body),
		Params:        opensearchapi.IndexTemplateCreateParams{Create: &create},
	})
	if err != nil {
		return false, fmt.Errorf("PUT _index_template/%s: %w", name, err)
	}
	if !cr.Acknowledged {
		return false, errors.New("PUT _index_template/" + name + ": not acknowledged")
	}
	return true, nil
}

// runISM retries ensureISM in the background until it succeeds or the sink
// closes; the template is ready meanwhile (events are indexed either way).
func (b *bootstrapper) runISM() {
	delay := b.retry
	for attempt := 2; ; attempt++ {
		if !backoff.Sleep(b.ctx, delay) {
			return
		}
		delay = min(2*delay, bootstrapRetryMax)
		if b.ismOnce(attempt, delay) || b.ctx.Err() != nil {
			return
		}
	}
}

// ismOnce makes one attempt of ensureISM and reports whether nothing is
// left to do (no policy configured, or it worked); a failure is logged
// with the delay before the next (retryIn).
func (b *bootstrapper) ismOnce(attempt int, retryIn time.Duration) bool {
	if b.s.cfg.Bootstrap.ISMPolicy == "" {
		return true
	}
	ctx, cancel := context.WithTimeout(b.ctx, b.s.cfg.RequestTimeout)
	err := b.ensureISM(ctx)
	cancel()
	if err == nil {
		return true
	}
	if b.ctx.Err() == nil {
		b.s.log.Error("OpenSearch ISM policy not attached to the template's indices; retrying in the background (new indices are not managed until it works)",
			"policy", b.s.cfg.Bootstrap.ISMPolicy, "attempt", attempt, "retry_in", retryIn, "err", err)
	}
	return false
}

// ensureISM makes bootstrap.ism_policy manage the indices of the template's
// patterns. The template's policy_id setting does not: since Open Distro
// 1.13 ISM attaches a policy to a new index only when the policy's
// ism_template matches the index's name (or by the add API). So the
// policy's ism_template must list the patterns: missing ones are added
// (with the template's priority), the rest of the policy is kept, and the
// write is conditional on the version read (if_seq_no, if_primary_term),
// so a concurrent edit is never overwritten (the retry reads it again).
func (b *bootstrapper) ensureISM(ctx context.Context) error {
	id := b.s.cfg.Bootstrap.ISMPolicy
	if id == "" {
		return nil
	}
	path := "/_plugins/_ism/policies/" + url.PathEscape(id)
	status, body, err := b.perform(ctx, http.MethodGet, path, nil)
	switch {
	case err != nil:
		return fmt.Errorf("GET %s: %w", path, err)
	case status == http.StatusNotFound:
		return fmt.Errorf("ISM policy %q does not exist: create it (PUT _plugins/_ism/policies/%s); until then new indices are managed by no policy", id, id)
	case status != http.StatusOK:
		return fmt.Errorf("GET %s: status %d: %s", path, status, trimBody(body))
	}
	var got struct {
		SeqNo       *int64                     `json:"_seq_no"`
		PrimaryTerm *int64                     `json:"_primary_term"`
		Policy      map[string]json.RawMessage `json:"policy"`
	}
	if err := json.Unmarshal(body, &got); err != nil || got.Policy == nil || got.SeqNo == nil || got.PrimaryTerm == nil {
		return fmt.Errorf("GET %s: an answer that is no ISM policy: %s", path, trimBody(body))
	}
	type ismTemplate struct {
		IndexPatterns []string `json:"index_patterns"`
	}
	var tmpls []json.RawMessage
	if raw := got.Policy["ism_template"]; len(raw) > 0 && string(raw) != "null" {
		if raw[0] == '[' {
			if err := json.Unmarshal(raw, &tmpls); err != nil {
				return fmt.Errorf("ISM policy %q: unreadable ism_template: %w", id, err)
			}
		} else {
			tmpls = []json.RawMessage{raw}
		}
	}
	have := map[string]bool{}
	for _, t := range tmpls {
		var it ismTemplate
		if json.Unmarshal(t, &it) == nil {
			for _, p := range it.IndexPatterns {
				have[p] = true
			}
		}
	}
	var missing []string
	for _, p := range b.s.cfg.Bootstrap.IndexPatterns {
		if !have[p] {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	add, _ := json.Marshal(map[string]any{"index_patterns": missing, "priority": b.s.cfg.Bootstrap.Priority})
	tmpls = append(tmpls, add)
	all, _ := json.Marshal(tmpls)
	pol := got.Policy
	pol["ism_template"] = all
	// Read-only members the API writes itself.
	delete(pol, "policy_id")
	delete(pol, "last_updated_time")
	put, _ := json.Marshal(map[string]any{"policy": pol})
	q := fmt.Sprintf("%s?if_seq_no=%d&if_primary_term=%d", path, *got.SeqNo, *got.PrimaryTerm)
	status, body, err = b.perform(ctx, http.MethodPut, q, put)
	switch {
	case err != nil:
		return fmt.Errorf("PUT %s: %w", path, err)
	case status/100 != 2:
		return fmt.Errorf("PUT %s (adding ism_template %v): status %d: %s", path, missing, status, trimBody(body))
	}
	b.s.log.Info("ISM policy now manages the template's new indices (ism_template added)", "policy", id, "index_patterns", missing)
	return nil
}

// perform sends one request through the sink's client (its nodes, auth and
// TLS) and reads the answer.
func (b *bootstrapper) perform(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.s.client.Perform(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, out, err
}

func trimBody(b []byte) string {
	if len(b) > 300 {
		b = b[:300]
	}
	return string(b)
}

func (b *bootstrapper) stop() { b.cancel() }

func (b *bootstrapper) wait() { <-b.done }

// TemplateReady reports whether bootstrap found or created the index
// template (false when bootstrap is disabled or still retrying).
func (s *Sink) TemplateReady() bool { return s.boot != nil && s.boot.ok.Load() }
