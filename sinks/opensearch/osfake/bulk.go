package osfake

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/valyala/fastjson"
)

// bulkItem is one parsed action.
type bulkItem struct {
	op     string // index, create, delete, update
	index  string
	id     string
	source []byte // nil for delete
}

// badRequest is a whole-request failure.
type badRequest struct {
	status       int
	typ, reason  string
	extraK, extV string
}

func (e *badRequest) Error() string { return e.typ + ": " + e.reason }

func malformed(format string, args ...any) *badRequest {
	return &badRequest{status: http.StatusBadRequest, typ: "illegal_argument_exception", reason: fmt.Sprintf(format, args...)}
}

// knownParams are the action line parameters OpenSearch accepts.
var knownParams = map[string]bool{
	"_index": true, "_id": true, "routing": true, "_routing": true, "if_seq_no": true, "if_primary_term": true,
	"version": true, "version_type": true, "pipeline": true, "require_alias": true, "retry_on_conflict": true,
	"_source": true, "op_type": true, "dynamic_templates": true,
}

// parseBulk parses an NDJSON bulk body strictly.
func parseBulk(body []byte, defIndex string) ([]bulkItem, *badRequest) {
	if len(body) == 0 {
		return nil, &badRequest{status: 400, typ: "parse_exception", reason: "request body is required"}
	}
	if body[len(body)-1] != '\n' {
		return nil, malformed("The bulk request must be terminated by a newline [\\n]")
	}
	var p fastjson.Parser
	var items []bulkItem
	line := 0
	for len(body) > 0 {
		nl := bytes.IndexByte(body, '\n')
		action := body[:nl]
		body = body[nl+1:]
		line++
		if len(bytes.TrimSpace(action)) == 0 {
			continue // OpenSearch skips empty action lines
		}
		v, err := p.ParseBytes(action)
		if err != nil {
			return nil, &badRequest{status: 400, typ: "x_content_parse_exception",
				reason: fmt.Sprintf("[%d:1] Malformed action/metadata line [%d]: %v", line, line, err)}
		}
		o, err := v.Object()
		if err != nil {
			return nil, malformed("Malformed action/metadata line [%d], expected START_OBJECT but found [%s]", line, tokenName(v))
		}
		if o.Len() != 1 {
			if o.Len() == 0 {
				return nil, malformed("Malformed action/metadata line [%d], expected FIELD_NAME but found [END_OBJECT]", line)
			}
			return nil, malformed("Malformed action/metadata line [%d], expected END_OBJECT but found [FIELD_NAME]", line)
		}
		var it bulkItem
		var meta *fastjson.Value
		o.Visit(func(k []byte, x *fastjson.Value) { it.op, meta = string(k), x })
		switch it.op {
		case "index", "create", "delete", "update":
		default:
			return nil, malformed("Malformed action/metadata line [%d], expected field [create], [delete], [index] or [update] but found [%s]", line, it.op)
		}
		mo, err := meta.Object()
		if err != nil {
			return nil, malformed("Malformed action/metadata line [%d], expected START_OBJECT but found [%s]", line, tokenName(meta))
		}
		var perr *badRequest
		mo.Visit(func(k []byte, x *fastjson.Value) {
			if perr != nil {
				return
			}
			key := string(k)
			if !knownParams[key] {
				perr = malformed("Action/metadata line [%d] contains an unknown parameter [%s]", line, key)
				return
			}
			if t := x.Type(); (t == fastjson.TypeObject || t == fastjson.TypeArray) && key != "_source" && key != "dynamic_templates" {
				perr = malformed("Malformed action/metadata line [%d], expected a simple value for field [%s] but found [%s]", line, key, tokenName(x))
				return
			}
			switch key {
			case "_index":
				it.index = scalar(x)
			case "_id":
				it.id = scalar(x)
			}
		})
		if perr != nil {
			return nil, perr
		}
		if it.index == "" {
			it.index = defIndex
		}
		if it.op != "delete" {
			if len(body) == 0 {
				return nil, malformed("The bulk request must be terminated by a newline [\\n]")
			}
			nl := bytes.IndexByte(body, '\n')
			it.source = body[:nl]
			body = body[nl+1:]
			line++
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil, &badRequest{status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: no requests added;"}
	}
	var missing []string
	for _, it := range items {
		if it.index == "" {
			missing = append(missing, strconv.Itoa(len(missing)+1)+": index is missing")
		}
		if it.id == "" && (it.op == "delete" || it.op == "update") {
			missing = append(missing, strconv.Itoa(len(missing)+1)+": id is missing")
		}
	}
	if len(missing) > 0 {
		return nil, &badRequest{status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: " + strings.Join(missing, ";") + ";"}
	}
	return items, nil
}

func scalar(v *fastjson.Value) string {
	if v.Type() == fastjson.TypeString {
		return string(v.GetStringBytes())
	}
	return v.String()
}

func tokenName(v *fastjson.Value) string {
	switch v.Type() {
	case fastjson.TypeArray:
		return "START_ARRAY"
	case fastjson.TypeObject:
		return "START_OBJECT"
	case fastjson.TypeString:
		return "VALUE_STRING"
	case fastjson.TypeNumber:
		return "VALUE_NUMBER"
	case fastjson.TypeNull:
		return "VALUE_NULL"
	}
	return "VALUE_BOOLEAN"
}

func gunzip(b []byte, limit int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(out)) > limit {
		return nil, errTooLarge
	}
	return out, zr.Close()
}

var errTooLarge = errors.New("request body too large")

// bulk serves /_bulk and /{index}/_bulk.
func (s *Server) bulk(w http.ResponseWriter, r *http.Request, defIndex string) {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/x-ndjson" && mt != "application/json") {
		writeJSON(w, http.StatusNotAcceptable, map[string]any{"error": "Content-Type header [" + ct + "] is not supported", "status": 406})
		return
	}
	switch r.URL.Query().Get("refresh") {
	case "", "true", "false", "wait_for":
	default:
		writeError(w, http.StatusBadRequest, "illegal_argument_exception", "Unknown value for refresh: ["+r.URL.Query().Get("refresh")+"].")
		return
	}
	s.mu.Lock()
	limit := s.maxBody
	s.mu.Unlock()
	gz := strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip")
	raw, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "parse_exception", "reading the request body: "+err.Error())
		return
	}
	if int64(len(raw)) > limit {
		writeError(w, http.StatusRequestEntityTooLarge, "content_too_long_exception", fmt.Sprintf("request body is larger than http.max_content_length [%d]", limit))
		return
	}
	body := raw
	if gz {
		body, err = gunzip(raw, limit)
		if errors.Is(err, errTooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, "content_too_long_exception", fmt.Sprintf("decompressed request body is larger than http.max_content_length [%d]", limit))
			return
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "parse_exception", "invalid gzip body: "+err.Error())
			return
		}
	}
	items, bad := parseBulk(body, defIndex)
	if bad != nil {
		writeError(w, bad.status, bad.typ, bad.reason)
		return
	}
	start := time.Now()
	out := make([]byte, 0, len(items)*220)
	anyErr := false

	s.mu.Lock()
	s.bulkRequests++
	if gz {
		s.gzipRequests++
	}
	s.bulkItems += len(items)
	for i := range items {
		if i > 0 {
			out = append(out, ',')
		}
		var failed bool
		out, failed = s.applyLocked(out, &items[i])
		anyErr = anyErr || failed
	}
	status := http.StatusOK
	if len(s.failAfter) > 0 {
		f := &s.failAfter[0]
		status = f.status
		if f.n--; f.n <= 0 {
			s.failAfter = s.failAfter[1:]
		}
	}
	s.mu.Unlock()

	if status != http.StatusOK {
		writeError(w, status, statusErrorType(status), "scripted failure after indexing (osfake)")
		return
	}
	resp := make([]byte, 0, len(out)+64)
	resp = append(resp, `{"took":`...)
	resp = strconv.AppendInt(resp, time.Since(start).Milliseconds(), 10)
	resp = append(resp, `,"errors":`...)
	resp = strconv.AppendBool(resp, anyErr)
	resp = append(resp, `,"items":[`...)
	resp = append(resp, out...)
	resp = append(resp, "]}"...)
	writeRaw(w, http.StatusOK, resp)
}

// unitFloat hashes its inputs to a uniform number in [0, 1).
func unitFloat(seed uint64, parts ...string) float64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	_, _ = h.Write(b[:])
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	x := h.Sum64()
	// splitmix64 finalizer
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

// applyLocked applies one item and appends its answer to out.
func (s *Server) applyLocked(out []byte, it *bulkItem) ([]byte, bool) {
	itemErr := func(status int, typ, reason string, cause ...string) ([]byte, bool) {
		out = append(out, `{"`...)
		out = append(out, it.op...)
		out = append(out, `":{"_index":`...)
		out = appendString(out, it.index)
		out = append(out, `,"_id":`...)
		out = appendString(out, it.id)
		out = append(out, `,"status":`...)
		out = strconv.AppendInt(out, int64(status), 10)
		out = append(out, `,"error":{"type":`...)
		out = appendString(out, typ)
		out = append(out, `,"reason":`...)
		out = appendString(out, reason)
		if len(cause) == 2 {
			out = append(out, `,"caused_by":{"type":`...)
			out = appendString(out, cause[0])
			out = append(out, `,"reason":`...)
			out = appendString(out, cause[1])
			out = append(out, '}')
		}
		if status != http.StatusTooManyRequests {
			out = append(out, `,"index":`...)
			out = appendString(out, it.index)
			out = append(out, `,"index_uuid":"osfake"`...)
		}
		out = append(out, "}}}"...)
		if status != http.StatusConflict && status != http.StatusTooManyRequests && status < 500 {
			s.rejected = append(s.rejected, Rejection{Index: it.index, ID: it.id, Status: status, Type: typ})
		}
		return out, true
	}
	if it.id != "" && !s.discard {
		s.attempts[docKey{it.index, it.id}]++
	}
	if msg := validIndexName(it.index); msg != "" {
		return itemErr(400, "invalid_index_name_exception", "Invalid index name ["+it.index+"], "+msg)
	}
	ix := s.indices[it.index]
	if ix == nil {
		if !s.autoCreate || it.op == "delete" {
			return itemErr(404, "index_not_found_exception", "no such index ["+it.index+"]")
		}
		ix = s.createIndexLocked(it.index)
	}
	f := s.faults
	if it.id != "" && f.Rate429 > 0 &&
		unitFloat(f.Seed, "429", it.index, it.id, strconv.Itoa(s.attempts[docKey{it.index, it.id}])) < f.Rate429 {
		return itemErr(429, "es_rejected_execution_exception",
			"rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=1, max_coordinating_and_primary_bytes=0]")
	}
	if it.id != "" && f.Rate400 > 0 && unitFloat(f.Seed, "400", it.index, it.id) < f.Rate400 {
		return itemErr(400, "mapper_parsing_exception", "failed to parse field [osfake.fault] of type [long] in document with id '"+it.id+"'",
			"illegal_argument_exception", "injected by osfake.ItemFaults.Rate400")
	}
	if s.discard && it.op != "delete" && it.op != "update" {
		if it.id == "" {
			it.id = s.nextIDLocked()
		}
		return s.itemOK(out, it, 1, 1, "created", 201), false
	}
	switch it.op {
	case "delete":
		d := ix.docs[it.id]
		ix.seqNo++
		if d == nil {
			return s.itemOK(out, it, 1, ix.seqNo, "not_found", 404), false
		}
		delete(ix.docs, it.id)
		return s.itemOK(out, it, d.version+1, ix.seqNo, "deleted", 200), false
	case "update":
		return s.updateLocked(out, ix, it, itemErr)
	}
	src, ctype, creason := s.checkDocLocked(ix, it.source)
	if ctype != "" {
		return itemErr(400, "mapper_parsing_exception", creason[0], ctype, creason[1])
	}
	if it.id == "" {
		it.id = s.nextIDLocked()
	}
	old := ix.docs[it.id]
	if old != nil && it.op == "create" {
		return itemErr(409, "version_conflict_engine_exception",
			"["+it.id+"]: version conflict, document already exists (current version ["+strconv.FormatInt(old.version, 10)+"])",
		)
	}
	ix.seqNo++
	d := &doc{source: src, version: 1, seqNo: ix.seqNo}
	result, status := "created", 201
	if old != nil {
		d.version = old.version + 1
		result, status = "updated", 200
	}
	ix.docs[it.id] = d
	return s.itemOK(out, it, d.version, d.seqNo, result, status), false
}

// checkDocLocked validates a document against the marker and the field
// types; it returns a copy of the source, or the error's cause type and the
// [reason, cause reason] pair.
func (s *Server) checkDocLocked(ix *index, source []byte) ([]byte, string, [2]string) {
	var p fastjson.Parser
	v, err := p.ParseBytes(source)
	if err != nil {
		return nil, "json_parse_exception", [2]string{"failed to parse", err.Error()}
	}
	if v.Type() != fastjson.TypeObject {
		return nil, "not_x_content_exception", [2]string{"failed to parse", "Compressor detection can only be called on some xcontent bytes or compressed xcontent bytes"}
	}
	if s.marker != "" && lookup(v, s.marker) != nil {
		return nil, "illegal_argument_exception", [2]string{"failed to parse field [" + s.marker + "]", "document carries the reject marker field [" + s.marker + "] (osfake)"}
	}
	if ct, r := checkNames(v.GetObject(), true); ct != "" {
		return nil, ct, r
	}
	check := func(fields map[string]fieldMapping) (string, [2]string) {
		for path, fm := range fields {
			x := lookup(v, path)
			if x == nil {
				continue
			}
			if ct, r := checkType(x, fm.typ); ct != "" && !fm.ignoreMalformed {
				return ct, [2]string{"failed to parse field [" + path + "] of type [" + fm.typ + "] in document. Preview of field's value: '" + strings.Trim(x.String(), `"`) + "'", r}
			}
		}
		return "", [2]string{}
	}
	if ct, r := check(s.fields); ct != "" {
		return nil, ct, r
	}
	if ct, r := check(ix.fields); ct != "" {
		return nil, ct, r
	}
	return bytes.Clone(source), "", [2]string{}
}

// metadataFields are the fields OpenSearch keeps for itself: a document
// that holds one at its top level is refused ("Field [_id] is a metadata
// field and cannot be added inside a document").
var metadataFields = map[string]bool{"_id": true, "_index": true, "_source": true, "_routing": true,
	"_field_names": true, "_ignored": true, "_seq_no": true, "_version": true, "_primary_term": true, "_doc_count": true, "_data_stream_timestamp": true, "_nested_path": true}

// checkNames refuses the field names OpenSearch 2.x refuses, each with
// mapper_parsing_exception: a metadata field at the top level, an empty
// name, one that ends with '.' or is only dots, and a key repeated in one
// object (its JSON parser is strict about duplicates).
func checkNames(o *fastjson.Object, top bool) (string, [2]string) {
	if o == nil {
		return "", [2]string{}
	}
	var ct string
	var r [2]string
	seen := make(map[string]bool, o.Len())
	o.Visit(func(k []byte, v *fastjson.Value) {
		if ct != "" {
			return
		}
		name := string(k)
		switch {
		case top && metadataFields[name]:
			ct, r = "mapper_parsing_exception", [2]string{"failed to parse", "Field [" + name + "] is a metadata field and cannot be added inside a document. Use the index API request parameters."}
		case strings.Trim(name, ".") == "": // empty, or only dots
			ct, r = "mapper_parsing_exception", [2]string{"failed to parse", "field name cannot be an empty string"}
		case javaBlank(name):
			ct, r = "mapper_parsing_exception", [2]string{"failed to parse", "field name cannot contain only whitespace: ['" + name + "']"}
		case strings.HasSuffix(name, "."):
			ct, r = "mapper_parsing_exception", [2]string{"failed to parse", "field name cannot contain only whitespace or end with a dot: ['" + name + "']"}
		case blankSegment(name):
			ct, r = "mapper_parsing_exception", [2]string{"failed to parse", "object field starting or ending with a [.] makes object resolution ambiguous: [" + name + "]"}
		case seen[name]:
			ct, r = "mapper_parsing_exception", [2]string{"failed to parse", "Duplicate field '" + name + "'"}
		}
		seen[name] = true
		if ct == "" && v.Type() == fastjson.TypeObject {
			ct, r = checkNames(v.GetObject(), false)
		}
		if ct == "" && v.Type() == fastjson.TypeArray {
			for _, el := range v.GetArray() {
				if ct == "" && el.Type() == fastjson.TypeObject {
					ct, r = checkNames(el.GetObject(), false)
				}
			}
		}
	})
	return ct, r
}

// blankSegment reports whether a dotted name has an empty or blank
// segment (".a", "a..b", "a. .b"), which OpenSearch's path split refuses.
func blankSegment(name string) bool {
	if !strings.Contains(name, ".") {
		return false
	}
	for _, seg := range strings.Split(name, ".") {
		if javaBlank(seg) {
			return true
		}
	}
	return false
}

// javaBlank is Java's String.isBlank, which OpenSearch's name checks use:
// Character.isWhitespace for every rune (not Go's unicode.IsSpace, which
// counts the non-breaking spaces and U+0085 too).
func javaBlank(s string) bool {
	for _, r := range s {
		switch {
		case r >= '\t' && r <= '\r', r >= 0x1c && r <= ' ':
		case r == 0xA0 || r == 0x2007 || r == 0x202F:
			return false
		case unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp):
		default:
			return false
		}
	}
	return true
}

func (s *Server) updateLocked(out []byte, ix *index, it *bulkItem, itemErr func(int, string, string, ...string) ([]byte, bool)) ([]byte, bool) {
	var p fastjson.Parser
	v, err := p.ParseBytes(it.source)
	if err != nil || v.Type() != fastjson.TypeObject {
		return itemErr(400, "x_content_parse_exception", "failed to parse the update request")
	}
	partial := v.Get("doc")
	old := ix.docs[it.id]
	var src []byte
	switch {
	case old != nil && partial != nil:
		var op fastjson.Parser
		base, err := op.ParseBytes(old.source)
		if err != nil {
			return itemErr(500, "exception", "stored document unreadable")
		}
		po, err := partial.Object()
		if err != nil {
			return itemErr(400, "illegal_argument_exception", "[doc] must be an object")
		}
		bo, _ := base.Object()
		po.Visit(func(k []byte, x *fastjson.Value) { bo.Set(string(k), x) })
		src = base.MarshalTo(nil)
	case old != nil:
		return itemErr(400, "action_request_validation_exception", "Validation Failed: 1: script or doc is missing;")
	case partial != nil && v.GetBool("doc_as_upsert"):
		src = partial.MarshalTo(nil)
	case v.Get("upsert") != nil:
		src = v.Get("upsert").MarshalTo(nil)
	default:
		return itemErr(404, "document_missing_exception", "["+it.id+"]: document missing")
	}
	checked, ctype, creason := s.checkDocLocked(ix, src)
	if ctype != "" {
		return itemErr(400, "mapper_parsing_exception", creason[0], ctype, creason[1])
	}
	ix.seqNo++
	d := &doc{source: checked, version: 1, seqNo: ix.seqNo}
	result, status := "created", 201
	if old != nil {
		d.version, result, status = old.version+1, "updated", 200
	}
	ix.docs[it.id] = d
	return s.itemOK(out, it, d.version, d.seqNo, result, status), false
}

func (s *Server) nextIDLocked() string {
	s.genID++
	return fmt.Sprintf("osfake%014d", s.genID)
}

// itemOK appends a successful item answer.
func (s *Server) itemOK(out []byte, it *bulkItem, version, seqNo int64, result string, status int) []byte {
	out = append(out, `{"`...)
	out = append(out, it.op...)
	out = append(out, `":{"_index":`...)
	out = appendString(out, it.index)
	out = append(out, `,"_id":`...)
	out = appendString(out, it.id)
	out = append(out, `,"_version":`...)
	out = strconv.AppendInt(out, version, 10)
	out = append(out, `,"result":"`...)
	out = append(out, result...)
	out = append(out, `","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":`...)
	out = strconv.AppendInt(out, seqNo-1, 10)
	out = append(out, `,"_primary_term":1,"status":`...)
	out = strconv.AppendInt(out, int64(status), 10)
	out = append(out, "}}"...)
	return out
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, `\u00`...)
			dst = append(dst, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
