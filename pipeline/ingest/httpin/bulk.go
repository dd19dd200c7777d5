package httpin

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline/normalize"
)

// maxIndexName is the longest index name Elasticsearch accepts, in bytes.
const maxIndexName = 255

// bulkItem is the outcome of one action of a _bulk request.
type bulkItem struct {
	op       string // "index" or "create" (or the unsupported op named)
	index    []byte
	id       []byte
	status   int // 0 while waiting for delivery
	errType  string
	errMsg   string
	eventIdx int // index in the batch, -1 if not an event
}

// handleBulk serves the Elasticsearch/OpenSearch bulk API as Beats, Logstash,
// Fluent Bit and Vector send it: NDJSON pairs of an action line
// ({"index":{...}} or {"create":{...}}) and a source line. An update's
// source line holds the event as "doc" (Fluent Bit's update/upsert,
// Logstash's doc_as_upsert) or "upsert", which is taken as an event too; a
// delete has no source line and is refused per item.
//
// A 200 means every item was dealt with, each with its own status: 201
// accepted, 400 mapper_parsing_exception for a source line that is not a
// JSON object (stored in quarantine, so final), 400 for delete. When
// nothing could be accepted (delivery failed, or the invalid lines could not
// be quarantined: a batch is all or nothing), the whole request fails with
// Retry-After: 429 es_rejected_execution_exception when a queue is full,
// else 503. Beats, Logstash, Fluent Bit and Vector retry both, whereas
// per-item 429/503 inside a 200 are dropped by Vector's default and per-item
// 400s by all of them. A malformed action line fails the whole request with
// 400, as Elasticsearch does, and so does an action it does not know (a
// line skipped would pair every later line wrongly); its documents are
// quarantined one record each, with their action's index (rejectBulkBody). An index name in the URL longer than Elasticsearch's 255
// bytes is refused with 400. Past
// max_events_per_request items or max_normalized_bytes the answer is 413, as
// Elasticsearch answers a request over its size limit.
// esAuthHint is the reason of the Elasticsearch-style 401: what to send.
const esAuthHint = "missing or invalid credentials: use Basic auth with a configured token as the password (any user), 'Authorization: Bearer <token>', or 'Authorization: ApiKey <base64 of id:token>' (Beats: api_key: \"id:<token>\")"

func (s *Server) handleBulk(w http.ResponseWriter, r *http.Request, c *charge) int {
	start := time.Now()
	tok, ar := s.authenticate(r, false)
	if ar != authOK {
		w.Header().Set("WWW-Authenticate", `Basic realm="logrouter"`)
		return writeJSONError(w, http.StatusUnauthorized, "security_exception", esAuthHint)
	}
	bp, status, msg := s.readBody(w, r, c)
	if status != 0 {
		typ := "parse_exception"
		if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
			typ = esRetryType(status)
		}
		return writeJSONError(w, status, typ, msg)
	}
	defer putBuf(bp)
	body := *bp
	urlIndex := []byte(r.PathValue("index"))
	if len(urlIndex) > maxIndexName {
		// Elasticsearch's own limit. Unbounded, the index (a request line
		// may be ~64 KiB) would be copied into every item of the answer.
		return writeJSONError(w, http.StatusBadRequest, "invalid_index_name_exception",
			"Invalid index name ["+strconv.Itoa(len(urlIndex))+" bytes], must not be longer than 255 bytes")
	}
	q := s.newRequest(r, ProtoBulk, tok, len(body), c)
	defST := q.defaultSourceType()
	var pa fastjson.Parser // action lines are tiny; a local parser keeps source values valid
	items := make([]bulkItem, 0, 64)
	ids := make([]byte, 0, 1024) // backing store for copied _index/_id values
	lineNo := 0
	for rest := body; len(rest) > 0; {
		var line []byte
		line, rest = nextLine(rest)
		lineNo++
		if len(skipWS(line)) == 0 {
			continue
		}
		if q.full(len(items)) {
			break
		}
		var ao *fastjson.Object
		err := errActionTooLong
		if len(line) <= q.s.cfg.MaxEventBytes {
			var a *fastjson.Value
			if tooDense(line) {
				err = errTooManyValues
			} else if a, err = pa.ParseBytes(line); err == nil {
				ao, err = a.Object()
			}
		}
		var it bulkItem
		var meta *fastjson.Value
		if err == nil && ao.Len() == 1 {
			ao.Visit(func(k []byte, v *fastjson.Value) {
				it.op = string(k)
				meta = v
			})
		}
		switch it.op {
		case "index", "create", "update", "delete":
		default:
			// Malformed, or an action Elasticsearch does not know: the
			// whole request is refused, as Elasticsearch does (skipping a
			// line would pair every later line wrongly), and its body
			// quarantined.
			q.rejected = q.rejected[:0]
			q.b.Events = q.b.Events[:0]
			q.rejectBulkBody(body, urlIndex, defST, lineNo)
			if _, derr := q.deliver(r.Context()); derr != nil {
				st, msg := deliveryStatus(derr)
				w.Header().Set("Retry-After", "1")
				return writeJSONError(w, st, esRetryType(st), msg)
			}
			return writeJSONError(w, http.StatusBadRequest, "illegal_argument_exception",
				"Malformed action/metadata line ["+strconv.Itoa(lineNo)+"], expected a JSON object with one of index, create, update, delete")
		}
		it.eventIdx = -1
		idx := urlIndex
		if meta != nil && meta.Type() == fastjson.TypeObject {
			if v := meta.GetStringBytes("_index"); len(v) > 0 {
				idx = v
			}
			if v := meta.GetStringBytes("_id"); len(v) > 0 {
				start := len(ids)
				ids = append(ids, v...)
				it.id = ids[start:len(ids):len(ids)]
			}
		}
		start := len(ids)
		ids = append(ids, idx...)
		it.index = ids[start:len(ids):len(ids)]

		if it.op == "delete" { // no source line
			it.status, it.errType, it.errMsg = http.StatusBadRequest, "action_request_validation_exception", "logrouter ingests events: delete is not supported"
			items = append(items, it)
			continue
		}
		var src []byte
		src, rest = nextLine(rest)
		lineNo++
		if q.oversized(src) {
			it.status, it.errType, it.errMsg = http.StatusBadRequest, "illegal_argument_exception", q.rejected[len(q.rejected)-1].Detail
			items = append(items, it)
			continue
		}
		v, err := q.parse(src)
		if err == nil && v.Type() == fastjson.TypeObject && it.op == "update" {
			// Fluent Bit's update/upsert and Logstash's action => update
			// carry the log event as the partial document ("doc", with
			// doc_as_upsert) or the document to create ("upsert"): it is
			// the event. An update with neither (a script alone) has none.
			if d := v.Get("doc"); d != nil && d.Type() == fastjson.TypeObject {
				v = d
			} else if u := v.Get("upsert"); u != nil && u.Type() == fastjson.TypeObject {
				v = u
			} else {
				err = errors.New(`an update's source line holds the event in "doc" or "upsert"; this one has neither`)
			}
		}
		if err != nil || v.Type() != fastjson.TypeObject {
			if err == nil {
				err = errors.New("the source line is not a JSON object")
			}
			it.status, it.errType, it.errMsg = http.StatusBadRequest, "mapper_parsing_exception", "failed to parse: "+detail(err)
			q.reject(src, parseReason(err), err)
			q.itemDefaults(it.index, defST)
			items = append(items, it)
			continue
		}
		q.em = normalize.EventMeta{Index: it.index, DefaultSourceType: defST}
		if len(defST) == 0 {
			q.em.DefaultSourceType = indexSourceType(it.index)
		}
		if q.addOne(src, v, nil) {
			it.eventIdx = len(q.b.Events) - 1
			if it.id == nil {
				start := len(ids)
				ids = strconv.AppendUint(ids, q.b.Events[it.eventIdx].Hash, 16)
				it.id = ids[start:len(ids):len(ids)]
			}
		} else {
			q.itemDefaults(it.index, defST)
			last := q.rejected[len(q.rejected)-1]
			it.status, it.errType, it.errMsg = http.StatusBadRequest, "mapper_parsing_exception", last.Detail
		}
		items = append(items, it)
	}
	if q.full(0) {
		return q.refuse(w)
	}
	if _, derr := q.deliver(r.Context()); derr != nil {
		// Nothing was accepted: not the valid items (a batch is delivered
		// whole or not at all), nor the invalid ones when their quarantine
		// write failed. The request as a whole is retryable.
		st, msg := deliveryStatus(derr)
		w.Header().Set("Retry-After", "1")
		return writeJSONError(w, st, esRetryType(st), msg)
	}
	out := make([]byte, 0, 64+len(items)*96)
	out = append(out, `{"took":`...)
	out = strconv.AppendInt(out, time.Since(start).Milliseconds(), 10)
	errorsAny := false
	for i := range items {
		if items[i].status >= 300 {
			errorsAny = true
		}
	}
	out = append(out, `,"errors":`...)
	out = strconv.AppendBool(out, errorsAny)
	out = append(out, `,"items":[`...)
	for i := range items {
		it := &items[i]
		if it.status == 0 {
			it.status = http.StatusCreated
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '{')
		out = normalize.AppendString(out, []byte(it.op))
		out = append(out, `:{"_index":`...)
		out = normalize.AppendString(out, it.index)
		if it.id != nil {
			out = append(out, `,"_id":`...)
			out = normalize.AppendString(out, it.id)
		}
		if it.status == http.StatusCreated {
			// No _shards, _seq_no or _primary_term: no shipper reads
			// them, and at ~190 bytes an item the answer to a 2 MB chunk
			// outgrew Fluent Bit's default 512 KB response buffer.
			out = append(out, `,"_version":1,"result":"created"`...)
		}
		out = append(out, `,"status":`...)
		out = strconv.AppendInt(out, int64(it.status), 10)
		if it.errType != "" {
			out = append(out, `,"error":{"type":`...)
			out = normalize.AppendString(out, []byte(it.errType))
			out = append(out, `,"reason":`...)
			out = normalize.AppendString(out, []byte(it.errMsg))
			out = append(out, '}')
		}
		out = append(out, `}}`...)
	}
	out = append(out, "]}"...)
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	return writeRaw(w, http.StatusOK, out)
}

var errActionTooLong = errors.New("action line longer than max_event_bytes")

// esRetryType is the Elasticsearch error type of a retryable status: 429
// es_rejected_execution_exception (a full queue: back off), which Beats,
// Logstash, Fluent Bit and Vector all retry, else 503.
func esRetryType(status int) string {
	if status == http.StatusTooManyRequests {
		return "es_rejected_execution_exception"
	}
	return "unavailable_shards_exception"
}

// writeJSONError answers with an Elasticsearch-style error body.
func writeJSONError(w http.ResponseWriter, status int, typ, reason string) int {
	out := make([]byte, 0, 96+len(reason))
	out = append(out, `{"error":{"type":`...)
	out = normalize.AppendString(out, []byte(typ))
	out = append(out, `,"reason":`...)
	out = normalize.AppendString(out, []byte(reason))
	out = append(out, `},"status":`...)
	out = strconv.AppendInt(out, int64(status), 10)
	out = append(out, '}')
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	return writeRaw(w, status, out)
}

// handleESInfo answers GET / like an Elasticsearch node, which Beats,
// Logstash and Vector check before sending bulk requests.
func (s *Server) handleESInfo(w http.ResponseWriter, r *http.Request) {
	if _, ar := s.authenticate(r, false); ar != authOK {
		writeJSONError(w, http.StatusUnauthorized, "security_exception", esAuthHint)
		return
	}
	out := []byte(`{"name":"logrouter","cluster_name":"logrouter","cluster_uuid":"logrouter","version":{"number":`)
	out = normalize.AppendString(out, []byte(s.cfg.ESVersion))
	out = append(out, `,"build_flavor":"default","build_type":"logrouter","lucene_version":"9.8.0","minimum_wire_compatibility_version":"7.17.0","minimum_index_compatibility_version":"7.0.0"},"tagline":"You Know, for Search"}`...)
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeRaw(w, http.StatusOK, out)
}

// handleESClusterHealth answers GET/HEAD /_cluster/health, Vector's
// elasticsearch healthcheck (only a 200 passes; `vector --require-healthy`
// will not start without one): green, red (503) once shutting down.
func (s *Server) handleESClusterHealth(w http.ResponseWriter, r *http.Request) {
	if _, ar := s.authenticate(r, false); ar != authOK {
		writeJSONError(w, http.StatusUnauthorized, "security_exception", esAuthHint)
		return
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	status, code := "green", http.StatusOK
	if closed {
		status, code = "red", http.StatusServiceUnavailable
	}
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	if r.Method == http.MethodHead {
		w.WriteHeader(code)
		return
	}
	writeRaw(w, code, []byte(`{"cluster_name":"logrouter","status":"`+status+`","timed_out":false,"number_of_nodes":1,"number_of_data_nodes":1,"active_primary_shards":0,"active_shards":0,"relocating_shards":0,"initializing_shards":0,"unassigned_shards":0,"delayed_unassigned_shards":0,"number_of_pending_tasks":0,"number_of_in_flight_fetch":0,"task_max_waiting_in_queue_millis":0,"active_shards_percent_as_number":100.0}`))
}

// handleESXPack answers GET /_xpack, which Logstash's elasticsearch output
// asks (ilm_enabled auto) after connecting: no ILM here, so it sends plain
// indices.
func (s *Server) handleESXPack(w http.ResponseWriter, r *http.Request) {
	if _, ar := s.authenticate(r, false); ar != authOK {
		writeJSONError(w, http.StatusUnauthorized, "security_exception", esAuthHint)
		return
	}
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	writeRaw(w, http.StatusOK, []byte(`{"build":{"hash":"logrouter"},"license":{"uid":"logrouter","type":"basic","mode":"basic","status":"active"},"features":{"ilm":{"available":false,"enabled":false}}}`))
}

// handleESIngestPipeline answers /_ingest/pipeline/{id} as a cluster that
// stores the pipeline: Winlogbeat 8 and Filebeat with modules load their
// ingest pipelines on every connect (GET, then PUT unless it answered 200;
// DELETE to roll back) and treat a failure as a failed connection, so they
// would never send a _bulk. logrouter runs no ingest pipeline (its
// profiles normalize the events; a _bulk's pipeline parameter is ignored):
// GET says the pipeline exists, PUT and DELETE are acknowledged.
func (s *Server) handleESIngestPipeline(w http.ResponseWriter, r *http.Request) {
	if _, ar := s.authenticate(r, false); ar != authOK {
		writeJSONError(w, http.StatusUnauthorized, "security_exception", esAuthHint)
		return
	}
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	if r.Method != http.MethodGet {
		// The pipeline definition is not used; read (bounded) so the
		// connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		writeRaw(w, http.StatusOK, []byte(`{"acknowledged":true}`))
		return
	}
	out := []byte{'{'}
	out = normalize.AppendString(out, []byte(r.PathValue("id")))
	out = append(out, `:{"description":"logrouter: ingest pipelines are accepted and not run; logrouter's profiles normalize events","processors":[]}}`...)
	writeRaw(w, http.StatusOK, out)
}

// handleESNodesIngest answers GET /_nodes/ingest, which Filebeat asks when a
// module names processors it requires (geoip, user_agent): one node that
// has them.
func (s *Server) handleESNodesIngest(w http.ResponseWriter, r *http.Request) {
	if _, ar := s.authenticate(r, false); ar != authOK {
		writeJSONError(w, http.StatusUnauthorized, "security_exception", esAuthHint)
		return
	}
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	writeRaw(w, http.StatusOK, []byte(`{"_nodes":{"total":1,"successful":1,"failed":0},"cluster_name":"logrouter","nodes":{"logrouter":{"name":"logrouter","ingest":{"processors":[{"type":"append"},{"type":"convert"},{"type":"date"},{"type":"dissect"},{"type":"geoip"},{"type":"grok"},{"type":"json"},{"type":"kv"},{"type":"lowercase"},{"type":"pipeline"},{"type":"remove"},{"type":"rename"},{"type":"script"},{"type":"set"},{"type":"split"},{"type":"user_agent"}]}}}}`))
}

// handleNotFound answers every other path as Elasticsearch answers an
// unknown one: a JSON error (Logstash's client parses 404 bodies as JSON)
// with X-Elastic-Product; HEC paths get an HEC-style answer.
func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/services/") {
		writeRaw(w, http.StatusNotFound, []byte(`{"text":"The requested URL was not found on this server.","code":404}`))
		return
	}
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	reason := "no handler found for uri [" + r.URL.Path + "] and method [" + r.Method + "]"
	if len(reason) > maxDetail {
		reason = reason[:maxDetail]
	}
	out := []byte(`{"error":{"root_cause":[{"type":"resource_not_found_exception","reason":`)
	out = normalize.AppendString(out, []byte(reason))
	out = append(out, `}],"type":"resource_not_found_exception","reason":`...)
	out = normalize.AppendString(out, []byte(reason))
	out = append(out, `},"status":404}`...)
	writeRaw(w, http.StatusNotFound, out)
}

// methodNotAllowed answers a served path asked with another method: 405
// with Allow, as ServeMux did before the catch-all (and Elasticsearch),
// ES- or HEC-style.
func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		reason := "Incorrect HTTP method for uri [" + r.URL.Path + "] and method [" + r.Method + "], allowed: [" + allow + "]"
		if len(reason) > maxDetail {
			reason = reason[:maxDetail]
		}
		if strings.HasPrefix(r.URL.Path, "/services/") {
			writeRaw(w, http.StatusMethodNotAllowed, append(normalize.AppendString([]byte(`{"text":`), []byte(reason)), `,"code":405}`...))
			return
		}
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		writeRaw(w, http.StatusMethodNotAllowed, append(normalize.AppendString([]byte(`{"error":`), []byte(reason)), `,"status":405}`...))
	}
}

// handleESLicense answers GET /_license as Elasticsearch does: Beats
// (licenser) and Logstash's elasticsearch output (license_checker) ask for
// the license before their first _bulk and will not send without an active
// one. logrouter has none to offer; this is the shape they check.
func (s *Server) handleESLicense(w http.ResponseWriter, r *http.Request) {
	if _, ar := s.authenticate(r, false); ar != authOK {
		writeJSONError(w, http.StatusUnauthorized, "security_exception", esAuthHint)
		return
	}
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	writeRaw(w, http.StatusOK, []byte(`{"license":{"status":"active","uid":"logrouter","type":"basic","issue_date":"2026-01-01T00:00:00.000Z","issue_date_in_millis":1767225600000,"max_nodes":1000,"max_resource_units":null,"issued_to":"logrouter","issuer":"logrouter","start_date_in_millis":-1}}`))
}

// actionOp returns the operation of an action line ({"index":{...}} and
// the like: one member, one of the four operations, its value an object),
// its metadata, and whether the line is one.
func actionOp(p *fastjson.Parser, line []byte) (op string, meta *fastjson.Value, ok bool) {
	if tooDense(line) {
		return "", nil, false
	}
	v, err := p.ParseBytes(line)
	if err != nil {
		return "", nil, false
	}
	o, err := v.Object()
	if err != nil || o.Len() != 1 {
		return "", nil, false
	}
	o.Visit(func(k []byte, m *fastjson.Value) { op, meta = string(k), m })
	switch op {
	case "index", "create", "update", "delete":
		return op, meta, meta.Type() == fastjson.TypeObject
	}
	return op, meta, false
}

// rejectBulkBody quarantines the documents of a _bulk body refused whole
// for its malformed action line bad (a line number): one record per
// document, as a refused item is (its action's index as the record's
// index, see itemDefaults), so that a replay makes of them the events the
// body would have given, and of the action lines none. Pairing follows
// Elasticsearch's: an action line, then its source line (none for a
// delete, which is not an event). A malformed action's next line is taken
// as its source unless it is itself an action line; the malformed line
// is kept in the record's detail, or is the record when no source line
// follows it, so that no byte of the body is lost. Past
// max_events_per_request records the rest of the body is one record.
func (q *request) rejectBulkBody(body, urlIndex, defST []byte, bad int) {
	type line struct {
		b       []byte
		no, off int // line number (from 1), offset in body
	}
	var ls []line
	no := 0
	for rest := body; len(rest) > 0; {
		off := len(body) - len(rest)
		var l []byte
		l, rest = nextLine(rest)
		no++
		if len(skipWS(l)) > 0 { // blank lines pair with nothing
			ls = append(ls, line{l, no, off})
		}
	}
	var pa, ps fastjson.Parser // actions, sources: an action's index outlives its source's parse
	why := "the request was refused whole (400): its action/metadata line " + strconv.Itoa(bad) + " is malformed"
	for i := 0; i < len(ls); i++ {
		if len(q.rejected) >= q.s.cfg.MaxEventsPerRequest {
			q.reject(body[ls[i].off:], "bulk_malformed_action", errors.New(why+"; this is the rest of the body from line "+strconv.Itoa(ls[i].no)+", past max_events_per_request documents"))
			return
		}
		act := ls[i]
		op, meta, ok := actionOp(&pa, act.b)
		if ok && op == "delete" {
			continue // no source line, no event
		}
		var src line
		hasSrc := i+1 < len(ls)
		if hasSrc {
			src = ls[i+1]
		}
		if !ok {
			if hasSrc {
				_, _, next := actionOp(&pa, src.b)
				hasSrc = !next
			}
			if !hasSrc {
				// No source line follows the malformed one: it is the
				// record, and the action line after it pairs anew.
				q.reject(act.b, "bulk_malformed_action", errors.New(why+"; this is line "+strconv.Itoa(act.no)+", malformed, with no source line after it"))
				q.itemDefaults(urlIndex, defST)
				continue
			}
			i++
			q.reject(src.b, "bulk_malformed_action", errors.New(why+"; this is the source line "+strconv.Itoa(src.no)+" of the malformed line "+strconv.Itoa(act.no)+": "+string(act.b)))
			q.itemDefaults(urlIndex, defST)
			continue
		}
		if !hasSrc {
			continue // an action without its source line: no document
		}
		i++
		idx := urlIndex
		if v := meta.GetStringBytes("_index"); len(v) > 0 {
			idx = v
		}
		raw := src.b
		if op == "update" {
			// The event of an update is its doc or upsert (see handleBulk).
			if v, err := parseUnlessDense(&ps, src.b); err == nil {
				if d := v.Get("doc"); d != nil && d.Type() == fastjson.TypeObject {
					raw = d.MarshalTo(nil)
				} else if u := v.Get("upsert"); u != nil && u.Type() == fastjson.TypeObject {
					raw = u.MarshalTo(nil)
				}
			}
		}
		q.reject(raw, "bulk_malformed_action", errors.New(why+"; this is the source line "+strconv.Itoa(src.no)+" of action line "+strconv.Itoa(act.no)+" ("+op+")"))
		q.itemDefaults(idx, defST)
	}
}

// itemDefaults gives the record just quarantined its action's index, as
// the index and, without a token's source type, the source type it was
// mapped by: a replay maps and routes it as the item would have been.
func (q *request) itemDefaults(index, defST []byte) {
	r := &q.rejected[len(q.rejected)-1]
	r.DefaultIndex = string(index)
	if len(defST) == 0 {
		r.DefaultSourceType = string(indexSourceType(index))
	}
}

// indexSourceType is the source type an action's index gives its event
// when the token names none: the index without a trailing date, the daily
// or monthly suffix shippers add by default (Vector's vector-%Y.%m.%d,
// Logstash's logstash-%{+YYYY.MM.dd}, Fluent Bit's Logstash_Format):
// "vector-2026.12.02" is "vector", not a source type of its own each day
// (an archive partition, a profile lookup and a counter label per day).
// The index itself stays in logrouter.index.
func indexSourceType(index []byte) []byte {
	n := len(index)
	sep := func(c byte) bool { return c == '.' || c == '-' || c == '_' }
	// The longest date suffix first: -YYYY.MM.DD, -YYYYMMDD, -YYYY.MM.
	for _, shape := range [...]string{"0000.00.00", "00000000", "0000.00"} {
		k := len(shape)
		if n <= k+1 || !sep(index[n-k-1]) {
			continue
		}
		d, ok := index[n-k:], true
		for i := range k {
			if shape[i] == '0' && (d[i] < '0' || d[i] > '9') || shape[i] == '.' && !sep(d[i]) {
				ok = false
				break
			}
		}
		if ok && plausibleDate(d, k) {
			return index[:n-k-1]
		}
	}
	return index
}

// plausibleDate reports whether d, a date of shape length k (10:
// YYYY.MM.DD, 8: YYYYMMDD, 7: YYYY.MM), has a year 1900-2099, a month
// 01-12 and a day 01-31.
func plausibleDate(d []byte, k int) bool {
	two := func(b []byte) int { return int(b[0]-'0')*10 + int(b[1]-'0') }
	if c := two(d[:2]); c != 19 && c != 20 {
		return false
	}
	var month, day int
	switch k {
	case 10:
		month, day = two(d[5:7]), two(d[8:10])
	case 8:
		month, day = two(d[4:6]), two(d[6:8])
	default:
		month, day = two(d[5:7]), 1
	}
	return month >= 1 && month <= 12 && day >= 1 && day <= 31
}
