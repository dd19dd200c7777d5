package httpin

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/logrouter/logrouter/internal/jsonscan"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// ProtoOTLP is the protocol of the OTLP/HTTP logs endpoint (POST
// /v1/logs). A log record it refuses is quarantined as the HEC envelope it
// was made into (see handleOTLP), so that POST /admin/replay/hec replays
// it as the endpoint took it.
const ProtoOTLP = "otlp"

// The attributes the OpenTelemetry Collector's splunk_hec exporter reads
// as HEC metadata (its otel_attrs_to_hec_metadata defaults), and the
// access-token attribute it never forwards: a log record sent over OTLP
// becomes the event the same record sent through that exporter becomes.
const (
	otlpHostKey       = "host.name"
	otlpSourceKey     = "com.splunk.source"
	otlpSourceTypeKey = "com.splunk.sourcetype"
	otlpIndexKey      = "com.splunk.index"
	otlpTokenKey      = "com.splunk.hec.access_token"
)

// otlpEnc is the encoding of an OTLP request, and of its answer.
type otlpEnc uint8

const (
	otlpProtobuf otlpEnc = iota + 1
	otlpJSON
)

// otlpEncoding is the encoding a Content-Type names, 0 for any other.
func otlpEncoding(ct string) otlpEnc {
	mt, _, _ := strings.Cut(ct, ";")
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case "application/x-protobuf", "application/protobuf":
		return otlpProtobuf
	case "application/json":
		return otlpJSON
	}
	return 0
}

// errOTLPEmpty refuses a log record with neither a body nor attributes:
// nothing of it could become an event.
var errOTLPEmpty = errors.New("log record has neither a body nor attributes")

// handleOTLP serves POST /v1/logs, the OTLP/HTTP logs endpoint
// (OpenTelemetry Protocol 1.x: an ExportLogsServiceRequest in binary
// protobuf, Content-Type application/x-protobuf, or in OTLP/JSON,
// application/json; gzip, deflate or zstd bodies). The OpenTelemetry
// Collector's otlphttp exporter, Fluent Bit's opentelemetry output,
// Vector's opentelemetry sink and Grafana Alloy send it.
//
// Each log record becomes the event the Collector's splunk_hec exporter
// would have sent for it to /services/collector/event
// (pkg/translator/splunk), so that switching exporters changes no event,
// hash or rule: the body is the event (a string its text, a map its
// object), the record's time, else its observed time, in milliseconds, its
// time; host.name and com.splunk.source, .sourcetype and .index (resource,
// then record; a value that is not a string counts as none) its
// metadata; the other resource and record attributes (the record's
// replacing the resource's), flattened as the exporter flattens them,
// trace_id, span_id, otel.log.severity.text and .number (and event.name,
// from the record's event_name) its indexed fields, which become labels.
// Two deliberate differences: a record without host.name gets no host
// (the exporter writes "unknown"), and a record without a body is its
// attributes (an OpenTelemetry event; the exporter drops it). The
// com.splunk.hec.access_token attribute is never kept: not in an event, not
// in a quarantined record; only a body that is not a request at all is
// quarantined as received. The record is made into that HEC envelope once
// (the one copy of its bytes) and taken as the event endpoint takes an
// envelope.
//
// Bounds: a record (with its resource's attributes) over max_event_bytes
// is quarantined as too_large without being converted, one nested too
// deep as too_deep; an OTLP/JSON body is never parsed whole, only each
// resource and record in turn; what the request quarantines counts against
// max_normalized_bytes with its events.
//
// The answer follows the OTLP/HTTP specification, in the request's
// encoding: 200 with an empty ExportLogsServiceResponse when every record
// was taken, or with partial_success naming how many were quarantined
// (the client must not resend them); 400 with a google.rpc.Status when
// the body is not an ExportLogsServiceRequest (quarantined whole, reason
// invalid_otlp); 429 or 503 with Retry-After, which OTLP clients retry,
// when nothing was taken; 401 without a valid token ('Authorization:
// Bearer <token>', as the bearertokenauth extension sends it, or Splunk
// and Basic as on the other endpoints); 415 for another Content-Type.
func (s *Server) handleOTLP(w http.ResponseWriter, r *http.Request, c *charge) int {
	enc := otlpEncoding(r.Header.Get("Content-Type"))
	if enc == 0 {
		return writeOTLPStatus(w, otlpJSON, http.StatusUnsupportedMediaType,
			"Content-Type must be application/x-protobuf or application/json (OTLP/HTTP); got "+strconv.Quote(r.Header.Get("Content-Type")))
	}
	tok, ar := s.authenticate(r, false)
	if ar != authOK {
		w.Header().Set("WWW-Authenticate", `Bearer realm="logrouter"`)
		return writeOTLPStatus(w, enc, http.StatusUnauthorized, "missing or invalid credentials: send 'Authorization: Bearer <token>' with a configured token (the bearertokenauth extension, or headers: {Authorization: ...} on the exporter)")
	}
	bp, status, msg := s.readBody(w, r, c)
	if status != 0 {
		return writeOTLPStatus(w, enc, status, msg)
	}
	defer putBuf(bp)
	q := s.newRequest(r, ProtoOTLP, tok, len(*bp), c)
	out := s.exportOTLP(r.Context(), q, enc, *bp)
	switch {
	case out.refused:
		return q.refuse(w)
	case out.status == http.StatusOK:
		return writeOTLPResponse(w, enc, out.rejected, out.first)
	case out.status != http.StatusBadRequest:
		w.Header().Set("Retry-After", "1")
	}
	return writeOTLPStatus(w, enc, out.status, out.msg)
}

// otlpOutcome is how an OTLP export request ended, for its answer.
type otlpOutcome struct {
	// refused: the request passed a limit (request.full); answer with
	// request.refuse (or its gRPC equivalent, otlpRefusal).
	refused bool
	// status is 200 (taken: rejected records were quarantined, first is
	// the first one's reason and detail), 400 (not a request: quarantined
	// whole) or the status of a failed delivery (429, 503: retry).
	status   int
	msg      string
	rejected int
	first    string
}

// exportOTLP takes the log records of body, an ExportLogsServiceRequest in
// enc, into q and delivers them: what both OTLP transports do once the
// body is in and the sender authenticated.
func (s *Server) exportOTLP(ctx context.Context, q *request, enc otlpEnc, body []byte) otlpOutcome {
	q.otlp = enc
	o := otlpRequest{q: q, defST: q.defaultSourceType()}
	if tok := q.tok; tok != nil && tok.Index != "" {
		o.defIndex = []byte(tok.Index)
		q.rejIndex = tok.Index
	}
	var err error
	if enc == otlpProtobuf {
		o.p = q.p
		err = o.walkProto(body)
	} else {
		// The body's tree is q.p's; each envelope is another parser's.
		o.p = s.parsers.Get()
		err = o.walkJSON(body)
		if o.pCost <= jsonscan.KeepParserBytes {
			s.parsers.Put(o.p)
		}
	}
	if q.full(0) {
		return otlpOutcome{refused: true}
	}
	if err != nil {
		// Nothing of a body that is not a request is taken: the sender
		// drops it on 400, so it is kept whole in the quarantine.
		q.b.Reset()
		q.rejected = q.rejected[:0]
		reason := "invalid_otlp"
		switch {
		case errors.Is(err, errTooDeep):
			reason = "too_deep"
		case errors.Is(err, errTooManyValues):
			reason = "too_many_values"
		}
		err = fmt.Errorf("the body is not an OTLP ExportLogsServiceRequest in %s: %w", enc, err)
		q.reject(body, reason, err)
		if _, derr := q.deliver(ctx); derr != nil {
			st, m := deliveryStatus(derr)
			return otlpOutcome{status: st, msg: m}
		}
		return otlpOutcome{status: http.StatusBadRequest, msg: detail(err)}
	}
	// partial_success counts log records: one whose events (a split
	// record's parts) were refused, in part or all, counts once.
	out := otlpOutcome{status: http.StatusOK, rejected: o.refused}
	if out.rejected > 0 {
		out.first = q.rejected[0].Reason + ": " + q.rejected[0].Detail
	}
	if _, err := q.deliver(ctx); err != nil {
		st, m := deliveryStatus(err)
		return otlpOutcome{status: st, msg: m}
	}
	return out
}

// otlpAnswerEncoding is the encoding of the answer to r: its own, or
// JSON when it names none OTLP has.
func otlpAnswerEncoding(r *http.Request) otlpEnc {
	if e := otlpEncoding(r.Header.Get("Content-Type")); e != 0 {
		return e
	}
	return otlpJSON
}

func (e otlpEnc) String() string {
	if e == otlpJSON {
		return "OTLP/JSON"
	}
	return "binary protobuf"
}

// otlpRequest turns one OTLP request's log records into HEC envelopes and
// adds them to its request.
type otlpRequest struct {
	q        *request
	p        *fastjson.Parser // parses the envelopes
	pCost    int64            // the largest envelope parse of p (valueCost)
	defST    []byte
	defIndex []byte
	n        int // log records so far
	refused  int // log records of which something was quarantined
	env      otlpEnvelope
	scratch  [64]byte
	// tmp holds an attribute's value, path a flattened key, text an
	// array's JSON text, fp parses tmp, rp an OTLP/JSON resource.
	tmp, path, text []byte
	fp, rp          fastjson.Parser
	res             otlpResource // the current resource's attributes, written
}

// otlpRecord is what a log record gives its envelope besides its body and
// attributes: views into the request body, or into small buffers.
type otlpRecord struct {
	time, observed  uint64
	sevText, sevNum []byte // sevNum: a JSON number
	traceID, spanID []byte // lower-case hex
	eventName       []byte
}

// envTime is the envelope's time, as the splunk_hec exporter sends it:
// the record's time, else its observed time, in milliseconds (rounded);
// 0 when it has neither.
func (r *otlpRecord) envTime() uint64 {
	t := r.time
	if t == 0 {
		t = r.observed
	}
	if t == 0 {
		return 0
	}
	return (t + 500_000) / 1_000_000 * 1_000_000
}

// otlpEnvelope writes one log record's HEC envelope:
// {"fields":{...},"event":...,"time":NS,"host":...,"source":...,
// "sourcetype":...,"index":...}.
type otlpEnvelope struct {
	buf                     []byte
	start, fieldsAt         int
	host, source, st, index []byte
	metaSet                 uint8 // which of them an attribute set (metaHost...)
	n                       int   // members of the object being written
	// fields: "fields" is being written. Its keys are flat and a key
	// written again replaces the earlier member (the exporter's fields are
	// a map, set resource attributes first, then the record's): spans are
	// its members (each with its leading comma), keys their keys, byKey
	// indexes them once there are many. A replaced member is only marked
	// (klen -1) and left out when "fields" is closed (compact): replacing
	// costs no copy of what follows it.
	fields bool
	spans  []fieldSpan
	keys   []byte
	byKey  map[string]int
}

// The HEC metadata an attribute set (otlpEnvelope.metaSet).
const (
	metaHost uint8 = 1 << iota
	metaSource
	metaSourceType
	metaIndex
)

// fieldSpan is one member of "fields": buf[start:end], its key
// keys[koff:koff+klen]; klen < 0 once a later member replaced it.
type fieldSpan struct{ start, end, koff, klen int }

func (e *otlpEnvelope) begin() {
	e.start = len(e.buf)
	e.host, e.source, e.st, e.index, e.metaSet = nil, nil, nil, nil, 0
	e.buf = append(e.buf, `{"fields":{`...)
	e.fieldsAt = len(e.buf)
	e.n = 0
	e.fields = true
	e.spans, e.keys, e.byKey = e.spans[:0], e.keys[:0], nil
}

// key starts a member named k of the object being written.
func (e *otlpEnvelope) key(k []byte) {
	if e.fields {
		e.fieldKey(k)
		return
	}
	if e.n > 0 {
		e.buf = append(e.buf, ',')
	}
	e.n++
	e.buf = normalize.AppendString(e.buf, k)
	e.buf = append(e.buf, ':')
}

// fieldKey starts the member k of "fields", replacing an earlier one of
// that key.
func (e *otlpEnvelope) fieldKey(k []byte) {
	e.open(k, 0)
	e.buf = append(e.buf, ',')
	e.buf = normalize.AppendString(e.buf, k)
	e.buf = append(e.buf, ':')
}

// member appends a member of "fields" written already (its leading
// comma, key and value), replacing one of key k among the first from
// members (a resource's members are one of each key already).
func (e *otlpEnvelope) member(k, b []byte, from int) {
	e.open(k, from)
	e.buf = append(e.buf, b...)
}

// open closes the last member of "fields" and starts one of key k,
// replacing an earlier member of that key (among the first limit
// members when limit > 0).
func (e *otlpEnvelope) open(k []byte, limit int) {
	if n := len(e.spans); n > 0 {
		e.spans[n-1].end = len(e.buf)
	}
	if i := e.find(k, limit); i >= 0 {
		e.spans[i].klen = -1
		if e.byKey != nil {
			delete(e.byKey, string(k))
		}
	}
	e.spans = append(e.spans, fieldSpan{start: len(e.buf), koff: len(e.keys), klen: len(k)})
	e.keys = append(e.keys, k...)
	if e.byKey != nil {
		e.byKey[string(k)] = len(e.spans) - 1
	}
}

// find returns the live member of "fields" named k (among the first limit
// when limit > 0), or -1. Past a hundred members it indexes them (a map
// for the record: only a record of that many attributes pays for it).
func (e *otlpEnvelope) find(k []byte, limit int) int {
	spans := e.spans
	if limit > 0 {
		spans = spans[:limit]
	} else if e.byKey == nil && len(spans) > 128 {
		e.byKey = make(map[string]int, 2*len(spans))
		for i, s := range spans {
			if s.klen >= 0 {
				e.byKey[string(e.keys[s.koff:s.koff+s.klen])] = i
			}
		}
	}
	if limit <= 0 && e.byKey != nil {
		if i, ok := e.byKey[string(k)]; ok {
			return i
		}
		return -1
	}
	for i, s := range spans {
		if s.klen == len(k) && string(e.keys[s.koff:s.koff+s.klen]) == string(k) {
			return i
		}
	}
	return -1
}

// compact closes "fields"' last member and leaves out the replaced ones,
// in one pass.
func (e *otlpEnvelope) compact() {
	if n := len(e.spans); n > 0 {
		e.spans[n-1].end = len(e.buf)
	}
	w, live := e.fieldsAt, e.spans[:0]
	for _, s := range e.spans {
		if s.klen < 0 {
			continue
		}
		n := copy(e.buf[w:], e.buf[s.start:s.end])
		s.start, s.end = w, w+n
		w += n
		live = append(live, s)
	}
	e.buf, e.spans, e.byKey = e.buf[:w], live, nil
}

// strField writes a string member when v is set.
func (e *otlpEnvelope) strField(k string, v []byte) {
	if len(v) > 0 {
		e.key([]byte(k))
		e.buf = normalize.AppendString(e.buf, v)
	}
}

// meta takes an attribute the exporter reads as HEC metadata, reporting
// whether it did: host.name and com.splunk.* whatever their type (the
// exporter takes a value that is not a string as "", never as a field),
// and the access token, dropped: a secret, never a field.
func (e *otlpEnvelope) meta(k, str []byte, isStr bool) bool {
	if !isStr {
		str = nil
	}
	switch string(k) {
	case otlpTokenKey:
	case otlpHostKey:
		e.host, e.metaSet = str, e.metaSet|metaHost
	case otlpSourceKey:
		e.source, e.metaSet = str, e.metaSet|metaSource
	case otlpSourceTypeKey:
		e.st, e.metaSet = str, e.metaSet|metaSourceType
	case otlpIndexKey:
		e.index, e.metaSet = str, e.metaSet|metaIndex
	default:
		return false
	}
	return true
}

// otlpResource is a resource's attributes written once as members of
// "fields" (and its HEC metadata), for each of its log records: a
// resource's attributes are walked once, not once per record.
type otlpResource struct {
	buf                     []byte
	spans                   []fieldSpan // into buf and keys
	keys                    []byte
	host, source, st, index []byte
	metaSet                 uint8
	err                     error // writing them failed (too deep...)
}

// renderResource writes a resource's attributes with write into o.res.
func (o *otlpRequest) renderResource(write func() error) {
	e, r := &o.env, &o.res
	e.begin()
	r.err = write()
	if r.err == nil {
		e.compact()
		r.buf = append(r.buf[:0], e.buf[e.fieldsAt:]...)
		r.spans = append(r.spans[:0], e.spans...)
		for i := range r.spans {
			r.spans[i].start -= e.fieldsAt
			r.spans[i].end -= e.fieldsAt
		}
		r.keys = append(r.keys[:0], e.keys...)
		r.host, r.source, r.st, r.index, r.metaSet = e.host, e.source, e.st, e.index, e.metaSet
	}
	e.buf = e.buf[:e.start]
	e.fields = false
}

// resourceFields writes o.res's members into the envelope's "fields"
// (after the record's own: a resource attribute named trace_id replaces
// it, as in the exporter's map) and its metadata; the record's attributes
// come after, and replace them.
func (o *otlpRequest) resourceFields() error {
	e, r := &o.env, &o.res
	if r.err != nil {
		return r.err
	}
	pre := len(e.spans)
	for _, s := range r.spans {
		e.member(r.keys[s.koff:s.koff+s.klen], r.buf[s.start:s.end], pre)
	}
	if r.metaSet&metaHost != 0 {
		e.host = r.host
	}
	if r.metaSet&metaSource != 0 {
		e.source = r.source
	}
	if r.metaSet&metaSourceType != 0 {
		e.st = r.st
	}
	if r.metaSet&metaIndex != 0 {
		e.index = r.index
	}
	e.metaSet |= r.metaSet
	return nil
}

// recordFields writes r's members of "fields".
func (e *otlpEnvelope) recordFields(r *otlpRecord) {
	e.strField("trace_id", r.traceID)
	e.strField("span_id", r.spanID)
	e.strField("otel.log.severity.text", r.sevText)
	if len(r.sevNum) > 0 {
		e.key([]byte("otel.log.severity.number"))
		e.buf = append(e.buf, r.sevNum...)
	}
	e.strField("event.name", r.eventName)
}

// endFields closes "fields" (or takes it back when empty) and starts
// "event".
func (e *otlpEnvelope) endFields() {
	e.compact()
	e.fields = false
	if len(e.buf) == e.fieldsAt {
		e.buf = append(e.buf[:e.start+1], `"event":`...)
		return
	}
	// Every member was written with its leading comma: not the first.
	e.buf = append(e.buf[:e.fieldsAt], e.buf[e.fieldsAt+1:]...)
	e.buf = append(e.buf, `},"event":`...)
}

// attrsEvent writes a body-less record's event: the object of its
// attributes that write writes, or null (refused as otlp_empty_record)
// when all of them were metadata (host.name, com.splunk.*, the token).
func (e *otlpEnvelope) attrsEvent(write func() error) error {
	at := len(e.buf)
	e.buf = append(e.buf, '{')
	e.n = 0
	err := write()
	if e.n == 0 {
		e.buf = append(e.buf[:at], "null"...)
	} else {
		e.buf = append(e.buf, '}')
	}
	return err
}

// end writes the metadata members after the event and closes the
// envelope, returning it.
func (e *otlpEnvelope) end(r *otlpRecord) []byte {
	e.n = 1
	if t := r.envTime(); t != 0 {
		// Unix nanoseconds: HEC's time reads them exactly
		// (timeparse.ParseNumber).
		e.key([]byte("time"))
		e.buf = strconv.AppendUint(e.buf, t, 10)
	}
	e.strField("host", e.host)
	e.strField("source", e.source)
	e.strField("sourcetype", e.st)
	e.strField("index", e.index)
	e.buf = append(e.buf, '}')
	return e.buf[e.start:len(e.buf):len(e.buf)]
}

// add takes one envelope: parsed and added as the event endpoint adds an
// envelope, or quarantined. The envelope's bytes are written over by the
// next one unless the quarantine holds them: the event is in the batch's
// arena by then, so a request needs the room of one envelope, not of all.
func (o *otlpRequest) add(raw []byte, r *otlpRecord) {
	held := len(o.q.rejected)
	o.addEnvelope(raw, r)
	if len(o.q.rejected) == held {
		o.env.buf = o.env.buf[:o.env.start]
	} else {
		// Counted against max_normalized_bytes (request.full): a refused
		// envelope carries its resource's attributes again (each refused
		// part of a split record, all of its envelope), so a small
		// request of many refused records must not hold gigabytes.
		for _, r := range o.q.rejected[held:] {
			o.q.rejBytes += int64(len(r.Raw))
		}
		o.refused++
	}
}

func (o *otlpRequest) addEnvelope(raw []byte, r *otlpRecord) {
	q := o.q
	// Its memory counts against max_inflight_bytes (full).
	q.scratch = int64(cap(o.env.buf))
	if q.oversized(raw) {
		return
	}
	if jsonscan.TooDeep(raw, jsonscan.MaxDepth) {
		q.reject(raw, "too_deep", errTooDeep)
		return
	}
	// A body or attribute of many tiny values (an array of zeros: a few
	// KiB of gzip) is not parsed; what a long envelope's parse holds is
	// charged (full).
	cost, err := valueCost(raw)
	if err != nil {
		q.reject(raw, "too_many_values", err)
		return
	}
	o.pCost = max(o.pCost, cost)
	q.parsed = max(q.parsed, cost)
	v, err := o.p.ParseBytes(raw)
	if err != nil {
		// Never for what the walkers write; kept, not lost, if it were.
		q.reject(raw, "invalid_json", err)
		return
	}
	ev := v.Get("event")
	if ev == nil || ev.Type() == fastjson.TypeNull || (ev.Type() == fastjson.TypeString && len(ev.GetStringBytes()) == 0) {
		q.reject(raw, "otlp_empty_record", errOTLPEmpty)
		return
	}
	q.em = HECMeta(v, o.scratch[:])
	q.em.DefaultSourceType = o.defST
	if len(q.em.Index) == 0 {
		q.em.Index = o.defIndex
	}
	obj, text := HECEventBody(ev)
	q.env = v
	q.add(raw, obj, text)
	q.env = nil
}

// errTooLarge refuses a log record of size bytes with its resource's
// attributes, over max_event_bytes.
func (o *otlpRequest) errTooLarge(size int) error {
	return fmt.Errorf("log record of %d bytes with its resource's attributes exceeds inputs.http.max_event_bytes (%d): split it at the source or raise max_event_bytes", size, o.q.s.cfg.MaxEventBytes)
}

// reject quarantines what the request received of a record that could not
// be made an envelope (too large, too deep), and counts it against the
// request's bounds.
func (o *otlpRequest) reject(raw []byte, reason string, err error) {
	if max := o.q.s.cfg.MaxEventBytes; len(raw) > max {
		raw = raw[:max]
	}
	o.q.reject(raw, reason, err)
	o.q.rejBytes += int64(len(raw))
	o.refused++
}

// full reports whether the request takes no further record (see
// request.full).
func (o *otlpRequest) full() bool { return o.q.full(max(o.n, o.q.records())) }

// errOTLPFull stops a walk at a request limit.
var errOTLPFull = errors.New("request limit reached")

// otlpMaxDepth bounds the nesting of an attribute or body value (arrays
// and maps), as jsonscan.MaxDepth bounds JSON records.
const otlpMaxDepth = jsonscan.MaxDepth

// ---- binary protobuf ----

// pbIter reads the fields of a protobuf message one by one.
type pbIter struct {
	b   []byte
	err error
	num protowire.Number
	typ protowire.Type
	v   []byte // a length-delimited field's bytes
	x   uint64 // a varint or fixed field's value
}

func (it *pbIter) next() bool {
	if len(it.b) == 0 || it.err != nil {
		return false
	}
	num, typ, n := protowire.ConsumeTag(it.b)
	if n < 0 {
		it.err = protowire.ParseError(n)
		return false
	}
	it.b = it.b[n:]
	it.num, it.typ, it.v, it.x = num, typ, nil, 0
	switch typ {
	case protowire.VarintType:
		it.x, n = protowire.ConsumeVarint(it.b)
	case protowire.Fixed64Type:
		it.x, n = protowire.ConsumeFixed64(it.b)
	case protowire.Fixed32Type:
		var v uint32
		v, n = protowire.ConsumeFixed32(it.b)
		it.x = uint64(v)
	case protowire.BytesType:
		it.v, n = protowire.ConsumeBytes(it.b)
	default:
		n = protowire.ConsumeFieldValue(num, typ, it.b) // a group: skipped
	}
	if n < 0 {
		it.err = protowire.ParseError(n)
		return false
	}
	it.b = it.b[n:]
	return true
}

// msg reports whether the field is number num, length-delimited (a
// message, string or bytes field).
func (it *pbIter) msg(num protowire.Number) bool {
	return it.num == num && it.typ == protowire.BytesType
}

// walkProto adds the log records of an ExportLogsServiceRequest
// (opentelemetry/proto/collector/logs/v1) in binary protobuf. Unknown
// fields, and known ones of another wire type, are skipped, as protobuf
// decoders skip them.
func (o *otlpRequest) walkProto(b []byte) error {
	it := pbIter{b: b}
	for it.next() {
		if it.msg(1) { // resource_logs
			if err := o.resourceLogsProto(it.v); err != nil {
				return err
			}
		}
	}
	return it.err
}

func (o *otlpRequest) resourceLogsProto(b []byte) error {
	// The resource first, wherever it is (fields may come in any order;
	// a repeated message field merges: its attributes are all taken).
	var res [][]byte
	it := pbIter{b: b}
	for it.next() {
		if it.msg(1) {
			res = append(res, it.v)
		}
	}
	if it.err != nil {
		return it.err
	}
	o.renderResource(func() error {
		for _, rb := range res {
			if err := o.attrsProto(rb, 1); err != nil {
				return err
			}
		}
		return nil
	})
	it = pbIter{b: b}
	for it.next() {
		if !it.msg(2) { // scope_logs
			continue
		}
		sl := pbIter{b: it.v}
		for sl.next() {
			if sl.msg(2) { // log_records
				if o.full() {
					return errOTLPFull
				}
				if err := o.recordProto(res, sl.v); err != nil {
					return err
				}
			}
		}
		if sl.err != nil {
			return sl.err
		}
	}
	return it.err
}

// recordProto adds one LogRecord whose resources (their bytes) are res.
func (o *otlpRequest) recordProto(res [][]byte, b []byte) error {
	o.n++
	size := len(b)
	for _, rb := range res {
		size += len(rb)
	}
	if size > o.q.s.cfg.MaxEventBytes {
		// Not converted: its envelope would be at least as large. Kept
		// as received (its first max_event_bytes), as other endpoints
		// keep a record too large to parse.
		o.reject(o.stripToken(b), "too_large", o.errTooLarge(size))
		return nil
	}
	var r otlpRecord
	var body []byte
	hasBody, hasAttrs := false, false
	var sevNum [20]byte
	var trace [32]byte
	var span [16]byte
	it := pbIter{b: b}
	for it.next() {
		switch {
		case it.num == 1 && it.typ == protowire.Fixed64Type:
			r.time = it.x
		case it.num == 11 && it.typ == protowire.Fixed64Type:
			r.observed = it.x
		case it.num == 2 && it.typ == protowire.VarintType:
			r.sevNum = nil
			if it.x != 0 {
				r.sevNum = strconv.AppendInt(sevNum[:0], int64(int32(it.x)), 10)
			}
		case it.msg(3):
			r.sevText = it.v
		case it.msg(5):
			body, hasBody = it.v, true
		case it.msg(6):
			hasAttrs = true
		case it.msg(9):
			r.traceID = protoID(trace[:0], it.v, 16)
		case it.msg(10):
			r.spanID = protoID(span[:0], it.v, 8)
		case it.msg(12):
			r.eventName = it.v
		}
	}
	if it.err != nil {
		return it.err
	}
	if hasBody && pbEmptyValue(body) {
		hasBody = false
	}
	attrs := func() error { return o.attrsProto(b, 6) }
	raw, err := o.envelope(&r, hasBody, hasAttrs, attrs, func() (err error) {
		o.env.buf, err = appendPBAny(o.env.buf, body, 1)
		return err
	})
	if errors.Is(err, errTooDeep) {
		// The record alone is refused, kept as received (without an
		// access token); the rest of the request is taken.
		o.reject(o.stripToken(b), "too_deep", fmt.Errorf("a log record's value is nested deeper than %d levels", otlpMaxDepth))
		return nil
	}
	if err != nil {
		return err
	}
	o.add(raw, &r)
	return nil
}

// envelope writes record r's HEC envelope and returns it: r's fields, its
// resource's (o.res), then, when it has a body, its attributes (attrs);
// then the event: the body (body), else the object of its attributes, else
// null. On an error nothing of it is left in the buffer.
func (o *otlpRequest) envelope(r *otlpRecord, hasBody, hasAttrs bool, attrs, body func() error) ([]byte, error) {
	e := &o.env
	e.begin()
	e.recordFields(r)
	err := o.resourceFields()
	if hasBody && err == nil {
		err = attrs()
	}
	if err == nil {
		e.endFields()
		switch {
		case hasBody:
			err = body()
		case hasAttrs:
			err = e.attrsEvent(attrs)
		default:
			e.buf = append(e.buf, "null"...)
		}
	}
	if err != nil {
		e.buf = e.buf[:e.start]
		e.fields = false
		return nil, err
	}
	return e.end(r), nil
}

// stripToken returns LogRecord b without its com.splunk.hec.access_token
// attributes (a copy), or b itself when it has none: a record kept as
// received never keeps the secret.
func (o *otlpRequest) stripToken(b []byte) []byte {
	has := false
	it := pbIter{b: b}
	for it.next() {
		if it.msg(6) {
			if k, _, err := pbKeyValue(it.v); err == nil && string(k) == otlpTokenKey {
				has = true
			}
		}
	}
	if it.err != nil && bytes.Contains(b, []byte(otlpTokenKey)) {
		// Not a record it can read to the end: where the token is, it
		// cannot tell, so the record is not kept as it came.
		return []byte(fmt.Sprintf("(a log record of %d bytes, not kept: it is not valid protobuf and names %s)", len(b), otlpTokenKey))
	}
	if !has {
		return b
	}
	out := make([]byte, 0, len(b))
	it = pbIter{b: b}
	for rest := b; it.next(); rest = it.b {
		if it.msg(6) {
			if k, _, err := pbKeyValue(it.v); err == nil && string(k) == otlpTokenKey {
				continue
			}
		}
		out = append(out, rest[:len(rest)-len(it.b)]...)
	}
	return out
}

// attrsProto writes the KeyValue fields numbered num of message b as
// members of the object being written, taking those that are HEC
// metadata aside (otlpEnvelope.meta).
func (o *otlpRequest) attrsProto(b []byte, num protowire.Number) error {
	e := &o.env
	it := pbIter{b: b}
	for it.next() {
		if !it.msg(num) {
			continue
		}
		k, v, err := pbKeyValue(it.v)
		if err != nil {
			return err
		}
		str, isStr := pbString(v)
		if e.meta(k, str, isStr) {
			continue
		}
		if o.tmp, err = appendPBAny(o.tmp[:0], v, 1); err != nil {
			return err
		}
		o.field(k)
	}
	return it.err
}

// field writes the attribute k whose value's JSON is o.tmp. In "fields"
// it is flattened as the splunk_hec exporter flattens it: a map's members
// as "k.member" (recursively), an array of maps or arrays as its JSON text
// (map keys sorted, as Go's JSON encoder writes a map); as an event's
// member it is written as it is.
func (o *otlpRequest) field(k []byte) {
	e := &o.env
	if !e.fields || len(o.tmp) == 0 || (o.tmp[0] != '{' && o.tmp[0] != '[') {
		e.key(k)
		e.buf = append(e.buf, o.tmp...)
		return
	}
	if tooDense(o.tmp) {
		// Not parsed (its envelope is refused as too_many_values).
		e.key(k)
		e.buf = append(e.buf, o.tmp...)
		return
	}
	v, err := o.fp.ParseBytes(o.tmp)
	if err != nil {
		// Never for what the walkers write; kept as it is if it were.
		e.key(k)
		e.buf = append(e.buf, o.tmp...)
		return
	}
	o.path = append(o.path[:0], k...)
	o.flatten(v)
}

// flatten writes v under the key o.path (see field).
func (o *otlpRequest) flatten(v *fastjson.Value) {
	e := &o.env
	switch v.Type() {
	case fastjson.TypeObject:
		n := len(o.path)
		v.GetObject().Visit(func(k []byte, m *fastjson.Value) {
			o.path = append(append(o.path[:n], '.'), k...)
			o.flatten(m)
		})
		o.path = o.path[:n]
	case fastjson.TypeArray:
		e.key(o.path)
		flat := true
		for _, el := range v.GetArray() {
			if t := el.Type(); t == fastjson.TypeObject || t == fastjson.TypeArray {
				flat = false
			}
		}
		if flat {
			e.buf = v.MarshalTo(e.buf)
		} else {
			o.text = appendSorted(o.text[:0], v)
			e.buf = normalize.AppendString(e.buf, o.text)
		}
	default:
		e.key(o.path)
		e.buf = v.MarshalTo(e.buf)
	}
}

// appendSorted appends v as JSON with every object's members sorted by
// key, as Go's encoder writes a map (what the exporter's text of an array
// attribute is).
func appendSorted(dst []byte, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeObject:
		type member struct {
			k []byte
			v *fastjson.Value
		}
		var ms []member
		v.GetObject().Visit(func(k []byte, m *fastjson.Value) { ms = append(ms, member{k, m}) })
		slices.SortStableFunc(ms, func(a, b member) int { return bytes.Compare(a.k, b.k) })
		dst = append(dst, '{')
		for i, m := range ms {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = normalize.AppendString(dst, m.k)
			dst = append(dst, ':')
			dst = appendSorted(dst, m.v)
		}
		return append(dst, '}')
	case fastjson.TypeArray:
		dst = append(dst, '[')
		for i, el := range v.GetArray() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendSorted(dst, el)
		}
		return append(dst, ']')
	}
	return v.MarshalTo(dst)
}

// pbKeyValue reads a KeyValue: its key and its value (an AnyValue's
// bytes; nil when absent).
func pbKeyValue(b []byte) (k, v []byte, err error) {
	it := pbIter{b: b}
	for it.next() {
		switch {
		case it.msg(1):
			k = it.v
		case it.msg(2):
			v = it.v
		}
	}
	return k, v, it.err
}

// pbString returns an AnyValue's string_value, if that is what it holds.
func pbString(b []byte) ([]byte, bool) {
	var s []byte
	isStr := false
	it := pbIter{b: b}
	for it.next() {
		if pbValueField(&it) {
			s, isStr = it.v, it.num == 1
		}
	}
	return s, isStr && it.err == nil
}

// pbEmptyValue reports whether an AnyValue holds nothing, or an empty
// string.
func pbEmptyValue(b []byte) bool {
	s, isStr := pbString(b)
	if isStr {
		return len(s) == 0
	}
	it := pbIter{b: b}
	for it.next() {
		if pbValueField(&it) {
			return false
		}
	}
	return true
}

// pbValueField reports whether the field is one of AnyValue's oneof
// (with its wire type): the last one present is the value.
func pbValueField(it *pbIter) bool {
	switch it.num {
	case 1, 5, 6, 7:
		return it.typ == protowire.BytesType
	case 2, 3:
		return it.typ == protowire.VarintType
	case 4:
		return it.typ == protowire.Fixed64Type
	}
	return false
}

// appendPBAny appends an AnyValue as JSON: a string, bool, integer or
// double as such (NaN and the infinities as the strings protojson writes,
// "NaN", "Infinity", "-Infinity"), bytes as base64, an array as an array,
// a key-value list as an object, nothing as null.
func appendPBAny(dst, b []byte, depth int) ([]byte, error) {
	if depth > otlpMaxDepth {
		return dst, errTooDeep
	}
	var last pbIter
	found := false
	it := pbIter{b: b}
	for it.next() {
		if pbValueField(&it) {
			last, found = it, true
		}
	}
	if it.err != nil {
		return dst, it.err
	}
	if !found {
		return append(dst, "null"...), nil
	}
	switch last.num {
	case 1:
		return normalize.AppendString(dst, last.v), nil
	case 2:
		return strconv.AppendBool(dst, last.x != 0), nil
	case 3:
		return strconv.AppendInt(dst, int64(last.x), 10), nil
	case 4:
		return appendDouble(dst, math.Float64frombits(last.x)), nil
	case 7:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, last.v)
		return append(dst, '"'), nil
	case 5: // ArrayValue{repeated AnyValue values = 1}
		dst = append(dst, '[')
		n := 0
		el := pbIter{b: last.v}
		for el.next() {
			if !el.msg(1) {
				continue
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			var err error
			if dst, err = appendPBAny(dst, el.v, depth+1); err != nil {
				return dst, err
			}
		}
		if el.err != nil {
			return dst, el.err
		}
		return append(dst, ']'), nil
	default: // 6: KeyValueList{repeated KeyValue values = 1}
		dst = append(dst, '{')
		n := 0
		kv := pbIter{b: last.v}
		for kv.next() {
			if !kv.msg(1) {
				continue
			}
			k, v, err := pbKeyValue(kv.v)
			if err != nil {
				return dst, err
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			dst = normalize.AppendString(dst, k)
			dst = append(dst, ':')
			if dst, err = appendPBAny(dst, v, depth+1); err != nil {
				return dst, err
			}
		}
		if kv.err != nil {
			return dst, kv.err
		}
		return append(dst, '}'), nil
	}
}

// appendDouble appends f as a JSON number as Go's encoder (and the
// exporter's) writes it: plain digits for exponents in [-6, 21), else
// 1e-07 shortened to 1e-7; protojson's strings for the values JSON has no
// number for.
func appendDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	fmt := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		fmt = 'e'
	}
	dst = strconv.AppendFloat(dst, f, fmt, -1, 64)
	if fmt == 'e' {
		// clean up e-09 to e-9
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// ---- OTLP/JSON ----

// jget returns v's member named camel (OTLP/JSON's lowerCamelCase) or,
// failing that, snake (the proto field name, which protobuf JSON parsers
// accept too, as the Collector's does).
func jget(v *fastjson.Value, camel, snake string) *fastjson.Value {
	// The last of them, as protobuf JSON parsers (the Collector's) read a
	// repeated member: an attribute {"key":"a","key":"b"} is b's.
	o, err := v.Object()
	if err != nil {
		return nil
	}
	var m *fastjson.Value
	o.Visit(func(k []byte, x *fastjson.Value) {
		if string(k) == camel || string(k) == snake {
			m = x
		}
	})
	return m
}

// jarray returns v's array member (camel or snake), nil when absent or
// null; an error when it is something else.
func jarray(v *fastjson.Value, camel, snake string) ([]*fastjson.Value, error) {
	m := jget(v, camel, snake)
	if m == nil || m.Type() == fastjson.TypeNull {
		return nil, nil
	}
	a, err := m.Array()
	if err != nil {
		return nil, fmt.Errorf("%q is not an array", camel)
	}
	return a, nil
}

// jobject checks that v is an object.
func jobject(v *fastjson.Value, what string) error {
	if v.Type() != fastjson.TypeObject {
		return fmt.Errorf("%s is not an object", what)
	}
	return nil
}

// walkJSON adds the log records of an ExportLogsServiceRequest in
// OTLP/JSON: lowerCamelCase keys (the proto names are accepted too),
// 64-bit integers as numbers or strings, trace and span ids in hex. The
// body is not parsed whole: its framing is scanned down to each resource
// and each log record, and those are parsed one at a time, each bounded
// by max_event_bytes and the nesting bound as a record of the other
// endpoints is (a record past them is quarantined alone).
func (o *otlpRequest) walkJSON(body []byte) error {
	return jsonscan.Members(body, func(k, v []byte) error {
		if !jkey(k, "resourceLogs", "resource_logs") {
			return nil
		}
		return arrayEach(v, func(rl []byte) error {
			var res []byte
			if err := jsonscan.Members(rl, func(k, v []byte) error {
				if jkey(k, "resource", "resource") {
					res = v
				}
				return nil
			}); err != nil {
				return err
			}
			var resAttrs []*fastjson.Value
			if res != nil && string(res) != "null" {
				if len(res) > o.q.s.cfg.MaxEventBytes || jsonscan.TooDeep(res, jsonscan.MaxDepth) {
					return fmt.Errorf("a resource of %d bytes is over inputs.http.max_event_bytes or nested too deep", len(res))
				}
				if err := o.q.noteParse(res); err != nil {
					return fmt.Errorf("a resource: %w", err)
				}
				rv, err := o.rp.ParseBytes(res)
				if err != nil {
					return err
				}
				if err := jobject(rv, "a resource"); err != nil {
					return err
				}
				if resAttrs, err = jarray(rv, "attributes", "attributes"); err != nil {
					return err
				}
			}
			o.renderResource(func() error { return o.attrsJSON(resAttrs) })
			return jsonscan.Members(rl, func(k, v []byte) error {
				if !jkey(k, "scopeLogs", "scope_logs") {
					return nil
				}
				return arrayEach(v, func(sl []byte) error {
					return jsonscan.Members(sl, func(k, v []byte) error {
						if !jkey(k, "logRecords", "log_records") {
							return nil
						}
						return arrayEach(v, func(rec []byte) error {
							if o.full() {
								return errOTLPFull
							}
							return o.recordJSON(len(res), rec)
						})
					})
				})
			})
		})
	})
}

// jkey reports whether an object's key, as written (between its quotes),
// is camel or snake, its escapes decoded.
func jkey(k []byte, camel, snake string) bool {
	if bytes.IndexByte(k, '\\') >= 0 {
		var d string
		if json.Unmarshal(append(append([]byte{'"'}, k...), '"'), &d) != nil {
			return false
		}
		return d == camel || d == snake
	}
	return string(k) == camel || string(k) == snake
}

// arrayEach calls fn with each element of the JSON array d (null: none).
func arrayEach(d []byte, fn func(el []byte) error) error {
	d = skipWS(d)
	if string(d) == "null" {
		return nil
	}
	if len(d) == 0 || d[0] != '[' {
		return fmt.Errorf("%w: expected an array", jsonscan.ErrFraming)
	}
	a := newArrayElems(d)
	for {
		el, ok := a.next()
		if !ok {
			break
		}
		if err := fn(el); err != nil {
			return err
		}
	}
	if a.err != nil {
		return fmt.Errorf("%w: %v", jsonscan.ErrFraming, a.err)
	}
	return nil
}

// jTime reads a fixed64 time: a number or a decimal string.
func jTime(v *fastjson.Value, what string) (uint64, error) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return 0, nil
	}
	var t uint64
	var err error
	switch v.Type() {
	case fastjson.TypeNumber:
		t, err = v.Uint64()
	case fastjson.TypeString:
		t, err = strconv.ParseUint(string(v.GetStringBytes()), 10, 64)
	default:
		err = errors.New("not a number")
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return t, nil
}

// jString reads a string member (absent or null: nil).
func jString(v *fastjson.Value, what string) ([]byte, error) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil, nil
	}
	s, err := v.StringBytes()
	if err != nil {
		return nil, fmt.Errorf("%s is not a string", what)
	}
	return s, nil
}

// recordJSON adds one LogRecord in OTLP/JSON (its text) of the resource
// in o.res (resBytes of text).
func (o *otlpRequest) recordJSON(resBytes int, raw []byte) error {
	o.n++
	if size := len(raw) + resBytes; size > o.q.s.cfg.MaxEventBytes {
		o.reject(o.stripTokenJSON(raw), "too_large", o.errTooLarge(size))
		return nil
	}
	if jsonscan.TooDeep(raw, jsonscan.MaxDepth) {
		o.reject(o.stripTokenJSON(raw), "too_deep", fmt.Errorf("a log record nested deeper than %d levels of OTLP/JSON", jsonscan.MaxDepth))
		return nil
	}
	if err := o.q.noteParse(raw); err != nil {
		o.reject(o.stripTokenJSON(raw), "too_many_values", err)
		return nil
	}
	rec, err := o.q.p.ParseBytes(raw)
	if err != nil {
		return err
	}
	if err := jobject(rec, "a logRecords element"); err != nil {
		return err
	}
	var r otlpRecord
	if r.time, err = jTime(jget(rec, "timeUnixNano", "time_unix_nano"), "timeUnixNano"); err != nil {
		return err
	}
	if r.observed, err = jTime(jget(rec, "observedTimeUnixNano", "observed_time_unix_nano"), "observedTimeUnixNano"); err != nil {
		return err
	}
	if r.sevNum, err = jSeverity(jget(rec, "severityNumber", "severity_number"), o.scratch[:0]); err != nil {
		return err
	}
	if r.sevText, err = jString(jget(rec, "severityText", "severity_text"), "severityText"); err != nil {
		return err
	}
	var trace [32]byte
	var span [16]byte
	if r.traceID, err = jID(jget(rec, "traceId", "trace_id"), "traceId", trace[:0], 16); err != nil {
		return err
	}
	if r.spanID, err = jID(jget(rec, "spanId", "span_id"), "spanId", span[:0], 8); err != nil {
		return err
	}
	if r.eventName, err = jString(jget(rec, "eventName", "event_name"), "eventName"); err != nil {
		return err
	}
	attrs, err := jarray(rec, "attributes", "attributes")
	if err != nil {
		return err
	}
	body := jget(rec, "body", "body")
	hasBody := body != nil && !jEmptyValue(body)
	env, err := o.envelope(&r, hasBody, len(attrs) > 0, func() error { return o.attrsJSON(attrs) }, func() (err error) {
		o.env.buf, err = appendJSONAny(o.env.buf, body, 1)
		return err
	})
	if err != nil {
		return err
	}
	o.add(env, &r)
	return nil
}

// stripTokenJSON returns an OTLP/JSON LogRecord's text with every
// attribute named com.splunk.hec.access_token (its key's escapes decoded)
// written as {"key":"com.splunk.hec.access_token","value":{"stringValue":
// "(removed)"}}, or raw itself when it has none. It scans the text once
// and parses nothing: it serves records too large or too deep to parse.
func (o *otlpRequest) stripTokenJSON(raw []byte) []byte {
	type level struct {
		start   int  // the object's '{', -1 for an array
		keyName bool // the member being read is "key"
		token   bool // its "key" is the token's name
	}
	var stack []level
	var cut [][2]int // token attributes' objects, in order
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '{':
			stack = append(stack, level{start: i})
		case '[':
			stack = append(stack, level{start: -1})
		case '}', ']':
			if n := len(stack); n > 0 {
				if l := stack[n-1]; l.token && raw[i] == '}' {
					cut = append(cut, [2]int{l.start, i + 1})
				}
				stack = stack[:n-1]
			}
		case '"':
			end := jsonscan.StringEnd(raw, i)
			if end < 0 {
				i = len(raw)
				break
			}
			if n := len(stack); n > 0 && stack[n-1].start >= 0 {
				l := &stack[n-1]
				if j := jsonscan.SkipWS(raw, end); j < len(raw) && raw[j] == ':' {
					l.keyName = jstringIs(raw[i+1:end-1], "key")
				} else if l.keyName && jstringIs(raw[i+1:end-1], otlpTokenKey) {
					l.token = true
				}
			}
			i = end - 1
		}
	}
	if len(cut) == 0 {
		return raw
	}
	// Objects close inner first: by their start, an outer one first, and
	// the ones inside it go with it.
	slices.SortFunc(cut, func(a, b [2]int) int { return a[0] - b[0] })
	out := make([]byte, 0, len(raw))
	at := 0
	for _, c := range cut {
		if c[0] < at {
			continue // inside one removed already
		}
		out = append(out, raw[at:c[0]]...)
		out = append(out, `{"key":"`+otlpTokenKey+`","value":{"stringValue":"(removed)"}}`...)
		at = c[1]
	}
	return append(out, raw[at:]...)
}

// jstringIs reports whether the JSON string content s (between its
// quotes) is want, its escapes decoded.
func jstringIs(s []byte, want string) bool {
	if bytes.IndexByte(s, '\\') < 0 {
		return string(s) == want
	}
	if len(s) < len(want) || len(s) > 6*len(want) {
		return false
	}
	var d string
	return json.Unmarshal(append(append([]byte{'"'}, s...), '"'), &d) == nil && d == want
}

// jSeverity reads severityNumber: a number, or an enum value's name (as
// protobuf JSON parsers take it), as the number; nil for unspecified.
func jSeverity(v *fastjson.Value, dst []byte) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	var n int64
	switch v.Type() {
	case fastjson.TypeNull:
		return nil, nil
	case fastjson.TypeNumber:
		i, err := v.Int()
		if err != nil {
			return nil, fmt.Errorf("severityNumber: %w", err)
		}
		n = int64(i)
	case fastjson.TypeString:
		name := string(v.GetStringBytes())
		i := slices.Index(severityNames[:], name)
		if i < 0 {
			return nil, fmt.Errorf("severityNumber: %q is not a SeverityNumber", name)
		}
		n = int64(i)
	default:
		return nil, errors.New("severityNumber is not a number")
	}
	if n == 0 {
		return nil, nil
	}
	return strconv.AppendInt(dst, n, 10), nil
}

// severityNames are SeverityNumber's values' names, by number.
var severityNames = func() (names [25]string) {
	names[0] = "SEVERITY_NUMBER_UNSPECIFIED"
	for i, l := range []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"} {
		for j := range 4 {
			n := "SEVERITY_NUMBER_" + l
			if j > 0 {
				n += strconv.Itoa(j + 1)
			}
			names[1+4*i+j] = n
		}
	}
	return names
}()

// jID reads a trace or span id, hex in OTLP/JSON, as lower-case hex of
// size bytes; nil when absent, empty or all zeros (not set).
func jID(v *fastjson.Value, what string, dst []byte, size int) ([]byte, error) {
	s, err := jString(v, what)
	if err != nil || len(s) == 0 {
		return nil, err
	}
	var id [16]byte
	if len(s) != 2*size {
		return nil, fmt.Errorf("%s: %d hex digits, want %d", what, len(s), 2*size)
	}
	if _, err := hex.Decode(id[:size], s); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if allZero(id[:size]) {
		return nil, nil
	}
	return hex.AppendEncode(dst, id[:size]), nil
}

// attrsJSON writes KeyValues ({"key","value"}) as members of the object
// being written, taking those that are HEC metadata aside.
func (o *otlpRequest) attrsJSON(kvs []*fastjson.Value) error {
	e := &o.env
	for _, kv := range kvs {
		if err := jobject(kv, "an attribute"); err != nil {
			return err
		}
		k, err := jString(jget(kv, "key", "key"), "an attribute's key")
		if err != nil {
			return err
		}
		v := jget(kv, "value", "value")
		var str []byte
		isStr := false
		if v != nil && v.Type() == fastjson.TypeObject {
			if lk, lv := jLastValue(v); lv != nil && jkey(lk, "stringValue", "string_value") && lv.Type() == fastjson.TypeString {
				str, isStr = lv.GetStringBytes(), true
			}
		}
		if e.meta(k, str, isStr) {
			continue
		}
		if o.tmp, err = appendJSONAny(o.tmp[:0], v, 1); err != nil {
			return err
		}
		o.field(k)
	}
	return nil
}

// jEmptyValue reports whether an AnyValue in OTLP/JSON holds nothing, or
// an empty string. Anything but an object or null is not empty (and not
// an AnyValue: appendJSONAny refuses it).
func jEmptyValue(v *fastjson.Value) bool {
	switch v.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeObject:
	default:
		return false
	}
	k, m := jLastValue(v)
	if m == nil {
		return true
	}
	return (string(k) == "stringValue" || string(k) == "string_value") && m.Type() == fastjson.TypeString && len(m.GetStringBytes()) == 0
}

// jLastValue returns the last of an AnyValue object's members that is one
// of its oneof and not null (the value it holds), or nil.
func jLastValue(v *fastjson.Value) (key []byte, val *fastjson.Value) {
	o, err := v.Object()
	if err != nil {
		return nil, nil
	}
	o.Visit(func(k []byte, m *fastjson.Value) {
		if jValueKey(k) && m.Type() != fastjson.TypeNull {
			key, val = k, m
		}
	})
	return key, val
}

// jValueKey reports whether k is one of AnyValue's members.
func jValueKey(k []byte) bool {
	switch string(k) {
	case "stringValue", "string_value", "boolValue", "bool_value", "intValue", "int_value",
		"doubleValue", "double_value", "arrayValue", "array_value", "kvlistValue", "kvlist_value",
		"bytesValue", "bytes_value":
		return true
	}
	return false
}

// appendJSONBytes appends a bytesValue of OTLP/JSON, b, as the protobuf
// encoding's bytes are appended (appendPBAny): standard base64 with
// padding, in a JSON string. Proto3's JSON mapping takes standard or
// URL-safe base64, padded or not, as the Collector does; anything else is
// an error, as the Collector answers 400 (kept as it came, a sender's
// mistake would pass for bytes).
func appendJSONBytes(dst, key, b []byte) ([]byte, error) {
	for _, enc := range [...]*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(string(b)); err == nil {
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, raw)
			return append(dst, '"'), nil
		}
	}
	return dst, fmt.Errorf("%s is not base64", key)
}

// appendJSONAny appends an AnyValue in OTLP/JSON ({"stringValue":...},
// {"intValue":"5"}, {"kvlistValue":{"values":[...]}}...) as the JSON
// value it holds, as appendPBAny does; the last of its members wins.
func appendJSONAny(dst []byte, v *fastjson.Value, depth int) ([]byte, error) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return append(dst, "null"...), nil
	}
	if depth > otlpMaxDepth {
		return dst, errTooDeep
	}
	if v.Type() != fastjson.TypeObject {
		return dst, fmt.Errorf("a value is a JSON %s, not an AnyValue object ({\"stringValue\":...})", v.Type())
	}
	key, val := jLastValue(v)
	if val == nil {
		return append(dst, "null"...), nil
	}
	bad := func() ([]byte, error) {
		return dst, fmt.Errorf("%s holds a %s", key, val.Type())
	}
	switch string(key) {
	case "stringValue", "string_value":
		if val.Type() != fastjson.TypeString {
			return bad()
		}
		return normalize.AppendString(dst, val.GetStringBytes()), nil
	case "bytesValue", "bytes_value":
		if val.Type() != fastjson.TypeString {
			return bad()
		}
		return appendJSONBytes(dst, key, val.GetStringBytes())
	case "boolValue", "bool_value":
		b, err := val.Bool()
		if err != nil {
			return bad()
		}
		return strconv.AppendBool(dst, b), nil
	case "intValue", "int_value":
		var i int64
		var err error
		switch val.Type() {
		case fastjson.TypeNumber:
			i, err = val.Int64()
		case fastjson.TypeString:
			i, err = strconv.ParseInt(string(val.GetStringBytes()), 10, 64)
		default:
			return bad()
		}
		if err != nil {
			return dst, fmt.Errorf("%s: %w", key, err)
		}
		return strconv.AppendInt(dst, i, 10), nil
	case "doubleValue", "double_value":
		switch val.Type() {
		case fastjson.TypeNumber:
			f, err := val.Float64()
			if err != nil {
				return dst, fmt.Errorf("%s: %w", key, err)
			}
			return appendDouble(dst, f), nil
		case fastjson.TypeString:
			switch s := string(val.GetStringBytes()); s {
			case "NaN", "Infinity", "-Infinity":
				return normalize.AppendString(dst, val.GetStringBytes()), nil
			default:
				f, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return dst, fmt.Errorf("%s: %w", key, err)
				}
				return appendDouble(dst, f), nil
			}
		}
		return bad()
	case "arrayValue", "array_value":
		if val.Type() != fastjson.TypeObject {
			return bad()
		}
		els, err := jarray(val, "values", "values")
		if err != nil {
			return dst, err
		}
		dst = append(dst, '[')
		for i, el := range els {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendJSONAny(dst, el, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	default: // kvlistValue
		if val.Type() != fastjson.TypeObject {
			return bad()
		}
		kvs, err := jarray(val, "values", "values")
		if err != nil {
			return dst, err
		}
		dst = append(dst, '{')
		for i, kv := range kvs {
			if err := jobject(kv, "a kvlistValue element"); err != nil {
				return dst, err
			}
			k, err := jString(jget(kv, "key", "key"), "a key")
			if err != nil {
				return dst, err
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = normalize.AppendString(dst, k)
			dst = append(dst, ':')
			if dst, err = appendJSONAny(dst, jget(kv, "value", "value"), depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	}
}

// ---- answers ----

// writeOTLPResponse answers a request whose records were all taken or
// quarantined: an ExportLogsServiceResponse, with partial_success when
// rejected records were quarantined (first is the first one's reason).
func writeOTLPResponse(w http.ResponseWriter, enc otlpEnc, rejected int, first string) int {
	msg := otlpPartialMsg(rejected, first)
	var out []byte
	if enc == otlpJSON {
		out = append(out, '{')
		if rejected > 0 {
			out = append(out, `"partialSuccess":{"rejectedLogRecords":"`...)
			out = strconv.AppendInt(out, int64(rejected), 10)
			out = append(out, `","errorMessage":`...)
			out = normalize.AppendString(out, []byte(msg))
			out = append(out, '}')
		}
		out = append(out, '}')
	} else {
		out = otlpResponseProto(rejected, msg)
	}
	return writeOTLP(w, enc, http.StatusOK, out)
}

// otlpPartialMsg is partial_success's error_message.
func otlpPartialMsg(rejected int, first string) string {
	if rejected == 0 {
		return ""
	}
	msg := fmt.Sprintf("%d log records were not taken and are kept in logrouter's quarantine (router quarantine list); the first: %s", rejected, first)
	if len(msg) > maxDetail {
		msg = msg[:maxDetail] + "..."
	}
	return msg
}

// otlpResponseProto is an ExportLogsServiceResponse in binary protobuf:
// empty, or partial_success{rejected_log_records, error_message}.
func otlpResponseProto(rejected int, msg string) []byte {
	if rejected == 0 {
		return []byte{}
	}
	var ps, out []byte
	ps = protowire.AppendTag(ps, 1, protowire.VarintType)
	ps = protowire.AppendVarint(ps, uint64(rejected))
	ps = protowire.AppendTag(ps, 2, protowire.BytesType)
	ps = protowire.AppendString(ps, msg)
	out = protowire.AppendTag(out, 1, protowire.BytesType)
	return protowire.AppendBytes(out, ps)
}

// writeOTLPStatus answers an error as OTLP/HTTP does: the HTTP status,
// and a google.rpc.Status with the gRPC code matching it and msg.
func writeOTLPStatus(w http.ResponseWriter, enc otlpEnc, status int, msg string) int {
	code := 2 // UNKNOWN
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		code = 3 // INVALID_ARGUMENT
	case http.StatusUnauthorized:
		code = 16 // UNAUTHENTICATED
	case http.StatusForbidden:
		code = 7 // PERMISSION_DENIED
	case http.StatusTooManyRequests:
		code = 8 // RESOURCE_EXHAUSTED
	case http.StatusServiceUnavailable:
		code = 14 // UNAVAILABLE
	}
	var out []byte
	if enc == otlpJSON {
		out = append(out, `{"code":`...)
		out = strconv.AppendInt(out, int64(code), 10)
		out = append(out, `,"message":`...)
		out = normalize.AppendString(out, []byte(msg))
		out = append(out, '}')
	} else {
		out = protowire.AppendTag(out, 1, protowire.VarintType)
		out = protowire.AppendVarint(out, uint64(code))
		out = protowire.AppendTag(out, 2, protowire.BytesType)
		out = protowire.AppendString(out, msg)
	}
	return writeOTLP(w, enc, status, out)
}

func writeOTLP(w http.ResponseWriter, enc otlpEnc, status int, body []byte) int {
	ct := "application/x-protobuf"
	if enc == otlpJSON {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}

// protoID is a trace or span id of a protobuf LogRecord (n bytes) as
// lower-case hex, appended to dst; nil for none (empty, or all zero, as
// the spec says an invalid id is). An id of another length is kept, not
// dropped under a full-success answer: the id's hex text sent as the
// bytes (a shipper copying a trace_id string into the field) as it is,
// other bytes hex-encoded (at most 64), so that the event still carries
// what the sender meant to correlate it by.
func protoID(dst, v []byte, n int) []byte {
	switch {
	case len(v) == 0 || allZero(v):
		return nil
	case len(v) == n:
		return hex.AppendEncode(dst, v)
	case len(v) == 2*n && isHexText(v):
		for _, c := range v {
			if 'A' <= c && c <= 'F' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
		}
		return dst
	}
	return hex.AppendEncode(dst, v[:min(len(v), 64)])
}

func isHexText(v []byte) bool {
	for _, c := range v {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
