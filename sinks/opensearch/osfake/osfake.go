// Package osfake is a fake OpenSearch server for tests. It is not
// OpenSearch: it is an in-memory imitation of the parts of the REST API that
// logrouter's OpenSearch destination and its tests use, written from the
// documented behaviour of OpenSearch 2.x, with knobs to inject the failures a
// real cluster produces.
//
// What it implements:
//
//   - GET / (cluster information, version 2.x) and GET /_cluster/health, which
//     opensearch-go's health checks use;
//   - PUT, HEAD, GET and DELETE /{index};
//   - PUT, GET, HEAD and DELETE /_index_template/{name}; a new index takes the
//     field types of the highest-priority template whose index_patterns match
//     it (template.mappings.properties, with ignore_malformed);
//   - POST or PUT /_bulk and /{index}/_bulk, parsed strictly like OpenSearch's
//     bulk parser: a malformed action line, an unknown action or parameter, a
//     missing _index, a body not ending in a newline or without any action
//     fails the whole request with 400; index, create, delete and update
//     (doc, doc_as_upsert, upsert; a top-level merge) with _index and _id
//     (generated when absent); gzip bodies (Content-Encoding: gzip, decoded
//     with the standard library); ?refresh=true|false|wait_for (documents are
//     visible at once either way); per-item answers with _index, _id,
//     _version, result, status, _seq_no, _primary_term and _shards, and
//     "errors": true when any item failed;
//   - ?filter_path= on every endpoint (FilterPath): the successful answer
//     cut to the named fields, * and ** wildcards, - exclusions, arrays
//     transparent and emptied objects and array elements left out; an error
//     document is sent whole, as OpenSearch does;
//   - per-item errors: 409 version_conflict_engine_exception (create of an
//     existing id), 400 mapper_parsing_exception (a document that is not a
//     JSON object, a field whose value does not fit its mapped type, a
//     document containing the marker field, or an item picked by the 400
//     fault rate), 400 invalid_index_name_exception, 404
//     index_not_found_exception (auto-create off), 429
//     es_rejected_execution_exception (the 429 fault rate), 404
//     document_missing_exception (update);
//   - whole-request errors: 400 (malformed), 406 (Content-Type), 413 (a body
//     larger than the configured http.max_content_length, compressed or
//     not), 401 (basic auth configured and not given), and any status
//     scripted with FailNext or SetUnavailable;
//   - POST /_refresh and /{index}/_refresh, GET or POST /{index}/_count and
//     /{index}/_search with match_all, term, terms, match (any token,
//     case-insensitive), exists, ids and bool (must, filter, should,
//     must_not) queries, size and from, and hits.total.value; {index} may be
//     a comma-separated list with * wildcards; GET /{index}/_doc/{id}.
//
// What it does not: shards, replicas, analysis beyond lower-cased tokens,
// aggregations, scoring (every hit scores 1), data streams (a data stream
// name is an ordinary index), versioning parameters (if_seq_no, version),
// security beyond basic auth (SigV4 signatures are not checked; use
// SetRequestHook to look at them).
package osfake

import (
	"bytes"
	"cmp"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Version is the OpenSearch version the fake reports.
const Version = "2.19.1"

// DefaultMaxContentLength is OpenSearch's default http.max_content_length.
const DefaultMaxContentLength = 100 << 20

// Server is a running fake cluster. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:port".
	URL string
	ts  *httptest.Server

	mu         sync.Mutex
	indices    map[string]*index
	templates  map[string]*indexTemplate
	autoCreate bool
	maxBody    int64
	user, pass string
	fields     map[string]fieldMapping // SetFieldType, applied to every index
	marker     string
	faults     ItemFaults
	failNext   []scripted
	failAfter  []scripted
	down       int
	drop       bool
	delay      time.Duration
	discard    bool
	hook       func(*http.Request)
	tls        bool

	requests     map[string]int
	total        int
	bulkRequests int
	gzipRequests int
	bulkItems    int
	attempts     map[docKey]int
	rejected     []Rejection
	genID        uint64
}

type scripted struct{ n, status int }

type docKey struct{ index, id string }

// Option configures New.
type Option func(*Server)

// WithBasicAuth makes every request require HTTP basic authentication with
// user and pass (401 security_exception otherwise).
func WithBasicAuth(user, pass string) Option {
	return func(s *Server) { s.user, s.pass = user, pass }
}

// WithMaxContentLength sets http.max_content_length: bulk bodies larger
// than n bytes (compressed or decompressed) answer 413. Default 100 MiB.
func WithMaxContentLength(n int64) Option { return func(s *Server) { s.maxBody = n } }

// WithAutoCreate sets action.auto_create_index (default true): when false,
// items for a missing index answer 404 index_not_found_exception.
func WithAutoCreate(on bool) Option { return func(s *Server) { s.autoCreate = on } }

// WithTLS serves https with a self-signed certificate (see Certificate).
func WithTLS() Option { return func(s *Server) { s.tls = true } }

// New starts a fake cluster on a loopback port. Close it when done.
func New(opts ...Option) *Server {
	s := &Server{
		indices:    map[string]*index{},
		templates:  map[string]*indexTemplate{},
		autoCreate: true,
		maxBody:    DefaultMaxContentLength,
		fields:     map[string]fieldMapping{},
		requests:   map[string]int{},
		attempts:   map[docKey]int{},
	}
	for _, o := range opts {
		o(s)
	}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if s.tls {
		s.ts.StartTLS()
	} else {
		s.ts.Start()
	}
	s.URL = s.ts.URL
	return s
}

// CertificatePEM returns the PEM of the server's certificate with WithTLS
// (nil otherwise), for a client's CA file.
func (s *Server) CertificatePEM() []byte {
	c := s.ts.Certificate()
	if c == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// Close shuts the server down and closes its connections.
func (s *Server) Close() {
	s.ts.CloseClientConnections()
	s.ts.Close()
}

// ItemFaults makes a fraction of bulk items fail, deterministically for a
// seed. Rate400 picks documents by (seed, index, id): the same document is
// refused every time with 400 mapper_parsing_exception. Rate429 picks items
// by (seed, index, id, attempt): an item refused with 429
// es_rejected_execution_exception has the same chance again on its next
// attempt, so retries eventually get through. Items without an id are
// never picked.
type ItemFaults struct {
	Seed    uint64
	Rate429 float64
	Rate400 float64
}

// SetItemFaults sets the item fault rates (the zero value turns them off).
func (s *Server) SetItemFaults(f ItemFaults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// FailNext makes the next k requests (of any kind) answer status with an
// OpenSearch error body, without processing them.
func (s *Server) FailNext(k, status int) {
	s.mu.Lock()
	s.failNext = append(s.failNext, scripted{k, status})
	s.mu.Unlock()
}

// FailAfterIndexingNext makes the next k bulk requests process every item
// and then answer status instead of the bulk answer: the client cannot know
// what was indexed (a lost answer).
func (s *Server) FailAfterIndexingNext(k, status int) {
	s.mu.Lock()
	s.failAfter = append(s.failAfter, scripted{k, status})
	s.mu.Unlock()
}

// SetUnavailable makes every request answer status (503 for "cluster
// down"); 0 restores service.
func (s *Server) SetUnavailable(status int) {
	s.mu.Lock()
	s.down = status
	s.mu.Unlock()
}

// SetDropConnections makes the server close every connection without an
// answer (the client sees a transport error) while on.
func (s *Server) SetDropConnections(on bool) {
	s.mu.Lock()
	s.drop = on
	s.mu.Unlock()
}

// SetDelay delays every answer by d.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// SetAutoCreate sets action.auto_create_index (see WithAutoCreate).
func (s *Server) SetAutoCreate(on bool) {
	s.mu.Lock()
	s.autoCreate = on
	s.mu.Unlock()
}

// SetMaxContentLength sets http.max_content_length (see
// WithMaxContentLength).
func (s *Server) SetMaxContentLength(n int64) {
	s.mu.Lock()
	s.maxBody = n
	s.mu.Unlock()
}

// SetRejectMarker makes every document that has the top-level field name
// answer 400 mapper_parsing_exception ("" turns it off).
func (s *Server) SetRejectMarker(name string) {
	s.mu.Lock()
	s.marker = name
	s.mu.Unlock()
}

// SetFieldType maps the field at path (dotted, like "source.port") to typ
// (date, ip, integer, long, short, byte, float, double, boolean, keyword,
// text) in every index, as if its mapping said so: documents whose value
// does not fit answer 400 mapper_parsing_exception.
func (s *Server) SetFieldType(path, typ string) {
	s.mu.Lock()
	s.fields[path] = fieldMapping{typ: typ}
	s.mu.Unlock()
}

// SetDiscard makes bulk create and index items succeed without storing or
// checking the documents (for benchmarks; conflicts are not detected).
func (s *Server) SetDiscard(on bool) {
	s.mu.Lock()
	s.discard = on
	s.mu.Unlock()
}

// SetRequestHook calls fn with every request before it is handled (fn must
// not read the body).
func (s *Server) SetRequestHook(fn func(*http.Request)) {
	s.mu.Lock()
	s.hook = fn
	s.mu.Unlock()
}

// Doc is a stored document.
type Doc struct {
	Index, ID string
	Source    []byte
	Version   int64
	SeqNo     int64
}

// Rejection is a bulk item the fake refused with a 4xx other than 409.
type Rejection struct {
	Index, ID string
	Status    int
	Type      string
}

// Docs returns every stored document, sorted by index and id.
func (s *Server) Docs() []Doc {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Doc
	for _, ix := range s.indices {
		for id, d := range ix.docs {
			out = append(out, Doc{Index: ix.name, ID: id, Source: d.source, Version: d.version, SeqNo: d.seqNo})
		}
	}
	slices.SortFunc(out, func(a, b Doc) int {
		return cmp.Or(strings.Compare(a.Index, b.Index), strings.Compare(a.ID, b.ID))
	})
	return out
}

// Doc returns one stored document.
func (s *Server) Doc(indexName, id string) (Doc, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.indices[indexName]
	if ix == nil {
		return Doc{}, false
	}
	d := ix.docs[id]
	if d == nil {
		return Doc{}, false
	}
	return Doc{Index: indexName, ID: id, Source: d.source, Version: d.version, SeqNo: d.seqNo}, true
}

// Indices returns the names of the existing indices, sorted.
func (s *Server) Indices() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.indices))
	for n := range s.indices {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Count returns the number of documents in an index (0 when missing).
func (s *Server) Count(indexName string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ix := s.indices[indexName]; ix != nil {
		return len(ix.docs)
	}
	return 0
}

// Template returns the body an index template was stored with.
func (s *Server) Template(name string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.templates[name]
	if t == nil {
		return nil, false
	}
	return t.raw, true
}

// Requests returns how many requests matched route, which is the method and
// the route pattern: "GET /", "POST /_bulk", "POST /{index}/_bulk",
// "PUT /_index_template/{name}", "GET /_index_template/{name}",
// "PUT /{index}", "POST /{index}/_search", ... Requests refused by a
// scripted failure, SetUnavailable or authentication count under
// "refused".
func (s *Server) Requests(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[route]
}

// TotalRequests returns the number of requests received.
func (s *Server) TotalRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// BulkRequests returns the number of bulk requests whose items were
// processed, and how many of them had a gzip body.
func (s *Server) BulkRequests() (all, gzipped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bulkRequests, s.gzipRequests
}

// BulkItems returns the number of bulk items processed (every action of
// every processed bulk request, whatever its outcome).
func (s *Server) BulkItems() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bulkItems
}

// Attempts returns how many bulk items named this index and id.
func (s *Server) Attempts(indexName, id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[docKey{indexName, id}]
}

// Rejected returns the bulk items refused with a 4xx other than 409, in
// the order they were refused.
func (s *Server) Rejected() []Rejection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rejected)
}

// ResetCounters zeroes the request, item and attempt counters and the
// rejection list (the documents stay).
func (s *Server) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.requests)
	clear(s.attempts)
	s.total, s.bulkRequests, s.gzipRequests, s.bulkItems = 0, 0, 0, 0
	s.rejected = nil
}

// serve is the HTTP handler.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.total++
	hook, drop, delay := s.hook, s.drop, s.delay
	refused := 0
	switch {
	case drop:
	case s.down != 0:
		refused = s.down
	case len(s.failNext) > 0:
		f := &s.failNext[0]
		refused = f.status
		if f.n--; f.n <= 0 {
			s.failNext = s.failNext[1:]
		}
	}
	authOK := s.user == "" || checkAuth(r, s.user, s.pass)
	if refused != 0 || !authOK {
		s.requests["refused"]++
	}
	s.mu.Unlock()

	if hook != nil {
		hook(r)
	}
	if drop {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				_ = c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if refused != 0 {
		writeError(w, refused, statusErrorType(refused), "scripted failure (osfake)")
		return
	}
	if !authOK {
		w.Header().Set("WWW-Authenticate", `Basic realm="OpenSearch Security"`)
		writeError(w, http.StatusUnauthorized, "security_exception", "missing authentication credentials for REST request ["+r.URL.Path+"]")
		return
	}
	if f := ParseFilterPath(r.URL.Query().Get("filter_path")); f != nil {
		fw := &filterWriter{ResponseWriter: w, f: f}
		s.route(fw, r)
		fw.finish()
		return
	}
	s.route(w, r)
}

func checkAuth(r *http.Request, user, pass string) bool {
	u, p, ok := r.BasicAuth()
	return ok && u == user && p == pass
}

func statusErrorType(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "es_rejected_execution_exception"
	case http.StatusServiceUnavailable:
		return "cluster_block_exception"
	case http.StatusUnauthorized, http.StatusForbidden:
		return "security_exception"
	case http.StatusRequestEntityTooLarge:
		return "content_too_long_exception"
	case http.StatusBadRequest:
		return "illegal_argument_exception"
	}
	return "status_exception"
}

// count records a routed request.
func (s *Server) count(route string) {
	s.mu.Lock()
	s.requests[route]++
	s.mu.Unlock()
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	path := strings.Trim(r.URL.Path, "/")
	var seg []string
	if path != "" {
		seg = strings.Split(path, "/")
	}
	m := r.Method
	switch {
	case len(seg) == 0:
		s.count(m + " /")
		if m == http.MethodGet || m == http.MethodHead {
			s.info(w)
			return
		}
	case len(seg) == 1 && seg[0] == "_bulk":
		s.count(m + " /_bulk")
		if m == http.MethodPost || m == http.MethodPut {
			s.bulk(w, r, "")
			return
		}
	case len(seg) == 1 && seg[0] == "_refresh":
		s.count(m + " /_refresh")
		writeJSON(w, http.StatusOK, shardsOK())
		return
	case len(seg) == 2 && seg[0] == "_cluster" && seg[1] == "health":
		s.count(m + " /_cluster/health")
		writeJSON(w, http.StatusOK, map[string]any{"cluster_name": "osfake", "status": "green", "timed_out": false,
			"number_of_nodes": 1, "number_of_data_nodes": 1, "active_primary_shards": len(s.Indices()), "active_shards": len(s.Indices())})
		return
	case len(seg) == 2 && seg[0] == "_index_template":
		s.count(m + " /_index_template/{name}")
		s.indexTemplate(w, r, seg[1])
		return
	case len(seg) == 1 && !strings.HasPrefix(seg[0], "_"):
		s.count(m + " /{index}")
		s.indexAdmin(w, r, seg[0])
		return
	case len(seg) == 2 && (!strings.HasPrefix(seg[0], "_") || seg[0] == "_all"):
		s.count(m + " /{index}/" + seg[1])
		switch {
		case seg[1] == "_bulk" && (m == http.MethodPost || m == http.MethodPut):
			s.bulk(w, r, seg[0])
			return
		case seg[1] == "_refresh" && (m == http.MethodPost || m == http.MethodGet):
			s.refresh(w, seg[0])
			return
		case seg[1] == "_count" && (m == http.MethodPost || m == http.MethodGet):
			s.search(w, r, seg[0], true)
			return
		case seg[1] == "_search" && (m == http.MethodPost || m == http.MethodGet):
			s.search(w, r, seg[0], false)
			return
		}
	case len(seg) == 3 && seg[1] == "_doc" && !strings.HasPrefix(seg[0], "_"):
		s.count(m + " /{index}/_doc/{id}")
		if m == http.MethodGet || m == http.MethodHead {
			s.getDoc(w, r, seg[0], seg[2])
			return
		}
	default:
		s.count(m + " other")
	}
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"error":  "no handler found for uri [" + r.URL.RequestURI() + "] and method [" + m + "]",
		"status": http.StatusBadRequest,
	})
}

func (s *Server) info(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, map[string]any{
		"name":         "osfake-node-1",
		"cluster_name": "osfake",
		"cluster_uuid": "osfake-cluster-uuid",
		"version": map[string]any{
			"distribution":                        "opensearch",
			"number":                              Version,
			"build_type":                          "tar",
			"lucene_version":                      "9.12.1",
			"minimum_wire_compatibility_version":  "7.10.0",
			"minimum_index_compatibility_version": "7.0.0",
		},
		"tagline": "The OpenSearch Project: https://opensearch.org/",
	})
}

func shardsOK() map[string]any {
	return map[string]any{"_shards": map[string]any{"total": 1, "successful": 1, "failed": 0}}
}

// writeJSON writes v as the JSON answer (no body for HEAD).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError writes OpenSearch's error document.
func writeError(w http.ResponseWriter, status int, typ, reason string, extra ...string) {
	cause := map[string]any{"type": typ, "reason": reason}
	for i := 0; i+1 < len(extra); i += 2 {
		cause[extra[i]] = extra[i+1]
	}
	writeJSON(w, status, map[string]any{
		"error":  map[string]any{"root_cause": []any{cause}, "type": typ, "reason": reason},
		"status": status,
	})
}

// validIndexName checks OpenSearch's index name rules; "" when valid.
func validIndexName(n string) string {
	switch {
	case n == "":
		return "must not be empty"
	case n == "." || n == "..":
		return "must not be '.' or '..'"
	case len(n) > 255:
		return "index name is too long, (" + itoa(len(n)) + " > 255)"
	case strings.ContainsAny(n[:1], "-_+"):
		return "must not start with '_', '-', or '+'"
	case strings.ToLower(n) != n:
		return "must be lowercase"
	case strings.ContainsAny(n, `\/*?"<>| ,#:`):
		return `must not contain the following characters [ , ", *, \, <, |, ,, >, /, ?, #, :]`
	}
	return ""
}

// indexAdmin serves PUT, HEAD, GET and DELETE /{index}.
func (s *Server) indexAdmin(w http.ResponseWriter, r *http.Request, name string) {
	switch r.Method {
	case http.MethodHead, http.MethodGet:
		s.mu.Lock()
		ix := s.indices[name]
		s.mu.Unlock()
		if ix == nil {
			if r.Method == http.MethodHead {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			writeError(w, http.StatusNotFound, "index_not_found_exception", "no such index ["+name+"]", "index", name)
			return
		}
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusOK)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{name: map[string]any{
			"aliases": map[string]any{}, "mappings": ix.mappingsJSON(), "settings": map[string]any{},
		}})
	case http.MethodPut:
		if msg := validIndexName(name); msg != "" {
			writeError(w, http.StatusBadRequest, "invalid_index_name_exception", "Invalid index name ["+name+"], "+msg, "index", name)
			return
		}
		var body struct {
			Mappings map[string]any `json:"mappings"`
		}
		if raw, err := readBody(r, 10<<20); err != nil {
			writeError(w, http.StatusBadRequest, "parse_exception", err.Error())
			return
		} else if len(bytes.TrimSpace(raw)) > 0 {
			if err := json.Unmarshal(raw, &body); err != nil {
				writeError(w, http.StatusBadRequest, "mapper_parsing_exception", "failed to parse mapping: "+err.Error())
				return
			}
		}
		s.mu.Lock()
		if s.indices[name] != nil {
			s.mu.Unlock()
			writeError(w, http.StatusBadRequest, "resource_already_exists_exception", "index ["+name+"/osfake] already exists", "index", name)
			return
		}
		ix := s.createIndexLocked(name)
		flattenMapping(body.Mappings, "", ix.fields)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true, "shards_acknowledged": true, "index": name})
	case http.MethodDelete:
		s.mu.Lock()
		ix := s.indices[name]
		delete(s.indices, name)
		s.mu.Unlock()
		if ix == nil {
			writeError(w, http.StatusNotFound, "index_not_found_exception", "no such index ["+name+"]", "index", name)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true})
	default:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{
			"error": "Incorrect HTTP method for uri [/" + name + "] and method [" + r.Method + "], allowed: [DELETE, HEAD, GET, PUT]", "status": 405})
	}
}

func (s *Server) refresh(w http.ResponseWriter, expr string) {
	s.mu.Lock()
	_, missing := s.resolveLocked(expr)
	s.mu.Unlock()
	if missing != "" {
		writeError(w, http.StatusNotFound, "index_not_found_exception", "no such index ["+missing+"]", "index", missing)
		return
	}
	writeJSON(w, http.StatusOK, shardsOK())
}

func (s *Server) getDoc(w http.ResponseWriter, r *http.Request, name, id string) {
	s.mu.Lock()
	ix := s.indices[name]
	var d *doc
	if ix != nil {
		d = ix.docs[id]
	}
	s.mu.Unlock()
	switch {
	case ix == nil:
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		writeError(w, http.StatusNotFound, "index_not_found_exception", "no such index ["+name+"]", "index", name)
	case d == nil:
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		writeJSON(w, http.StatusNotFound, map[string]any{"_index": name, "_id": id, "found": false})
	default:
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusOK)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"_index": name, "_id": id, "_version": d.version,
			"_seq_no": d.seqNo, "_primary_term": 1, "found": true, "_source": json.RawMessage(d.source)})
	}
}

// indexTemplate serves /_index_template/{name}.
func (s *Server) indexTemplate(w http.ResponseWriter, r *http.Request, name string) {
	notFound := func() {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		writeError(w, http.StatusNotFound, "resource_not_found_exception", "index template matching ["+name+"] not found")
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.mu.Lock()
		t := s.templates[name]
		s.mu.Unlock()
		if t == nil {
			notFound()
			return
		}
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusOK)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"index_templates": []any{
			map[string]any{"name": name, "index_template": json.RawMessage(t.raw)},
		}})
	case http.MethodPut, http.MethodPost:
		raw, err := readBody(r, 10<<20)
		if err != nil {
			writeError(w, http.StatusBadRequest, "parse_exception", err.Error())
			return
		}
		t, err := parseTemplate(raw)
		if err != nil {
			writeError(w, http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: "+err.Error()+";")
			return
		}
		s.mu.Lock()
		if r.URL.Query().Get("create") == "true" && s.templates[name] != nil {
			s.mu.Unlock()
			writeError(w, http.StatusBadRequest, "illegal_argument_exception", "index template ["+name+"] already exists")
			return
		}
		s.templates[name] = t
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true})
	case http.MethodDelete:
		s.mu.Lock()
		t := s.templates[name]
		delete(s.templates, name)
		s.mu.Unlock()
		if t == nil {
			notFound()
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true})
	default:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "Incorrect HTTP method", "status": 405})
	}
}
