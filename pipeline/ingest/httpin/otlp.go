package httpin

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
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
// would have sent for it to /services/collector/event, so that switching
// exporters changes no event, hash or rule: the body is the event (a
// string its text, a map its object), the record's time its time (else
// its observed time stands in for an event without a time of its own),
// host.name and com.splunk.source, .sourcetype and .index its metadata,
// and the other resource and record attributes, trace_id, span_id,
// otel.log.severity.text and .number (and event.name, from the record's
// event_name) its indexed fields, which become labels. A record without a
// body is its attributes: its event is their object. The record is made
// into that HEC envelope once (the one copy of its bytes) and taken as
// the event endpoint takes an envelope.
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
	body := *bp
	q := s.newRequest(r, ProtoOTLP, tok, len(body), c)
	q.otlp = enc
	o := otlpRequest{q: q, defST: q.defaultSourceType()}
	if tok != nil && tok.Index != "" {
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
		s.parsers.Put(o.p)
	}
	if q.full(0) {
		return q.refuse(w)
	}
	if err != nil {
		// Nothing of a body that is not a request is taken: the sender
		// drops it on 400, so it is kept whole in the quarantine.
		q.b.Reset()
		q.rejected = q.rejected[:0]
		reason := "invalid_otlp"
		if errors.Is(err, errTooDeep) {
			reason = "too_deep"
		}
		err = fmt.Errorf("the body is not an OTLP ExportLogsServiceRequest in %s: %w", enc, err)
		q.reject(body, reason, err)
		if _, derr := q.deliver(r.Context()); derr != nil {
			st, m := deliveryStatus(derr)
			w.Header().Set("Retry-After", "1")
			return writeOTLPStatus(w, enc, st, m)
		}
		return writeOTLPStatus(w, enc, http.StatusBadRequest, detail(err))
	}
	rejected := q.rejected
	n := len(rejected)
	var first string
	if n > 0 {
		first = rejected[0].Reason + ": " + rejected[0].Detail
	}
	if _, err := q.deliver(r.Context()); err != nil {
		st, m := deliveryStatus(err)
		w.Header().Set("Retry-After", "1")
		return writeOTLPStatus(w, enc, st, m)
	}
	return writeOTLPResponse(w, enc, n, first)
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
	defST    []byte
	defIndex []byte
	n        int // log records so far
	env      otlpEnvelope
	scratch  [64]byte
	// inFields says the attributes being written go to "fields" (flat),
	// not to the event; tmp holds an attribute's value, path a
	// flattened key, text an array's JSON text, fp parses tmp.
	inFields        bool
	tmp, path, text []byte
	fp              fastjson.Parser
}

// otlpRecord is what a log record gives its envelope besides its body and
// attributes: views into the request body, or into small buffers.
type otlpRecord struct {
	time, observed  uint64
	sevText, sevNum []byte // sevNum: JSON (a number, or an enum name's string)
	traceID, spanID []byte // hex
	eventName       []byte
}

// otlpEnvelope writes one log record's HEC envelope:
// {"fields":{...},"event":...,"time":NS,"host":...,"source":...,
// "sourcetype":...,"index":...}.
type otlpEnvelope struct {
	buf                     []byte
	start, fieldsAt         int
	host, source, st, index []byte
	n                       int // members of the object being written
}

func (e *otlpEnvelope) begin() {
	e.start = len(e.buf)
	e.host, e.source, e.st, e.index = nil, nil, nil, nil
	e.buf = append(e.buf, `{"fields":{`...)
	e.fieldsAt = len(e.buf)
	e.n = 0
}

// key starts a member named k of the object being written.
func (e *otlpEnvelope) key(k []byte) {
	if e.n > 0 {
		e.buf = append(e.buf, ',')
	}
	e.n++
	e.buf = normalize.AppendString(e.buf, k)
	e.buf = append(e.buf, ':')
}

// strField writes a string member when v is set.
func (e *otlpEnvelope) strField(k string, v []byte) {
	if len(v) > 0 {
		e.key([]byte(k))
		e.buf = normalize.AppendString(e.buf, v)
	}
}

// meta takes an attribute the exporter reads as HEC metadata, reporting
// whether it did (a string value of host.name or com.splunk.*; the
// access token is dropped whatever its value: a secret, never a field).
func (e *otlpEnvelope) meta(k, str []byte, isStr bool) bool {
	switch string(k) {
	case otlpTokenKey:
		return true
	case otlpHostKey:
		if isStr {
			e.host = str
		}
	case otlpSourceKey:
		if isStr {
			e.source = str
		}
	case otlpSourceTypeKey:
		if isStr {
			e.st = str
		}
	case otlpIndexKey:
		if isStr {
			e.index = str
		}
	default:
		return false
	}
	return isStr
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
	if len(e.buf) == e.fieldsAt {
		e.buf = append(e.buf[:e.start+1], `"event":`...)
	} else {
		e.buf = append(e.buf, `},"event":`...)
	}
}

// end writes the metadata members after the event and closes the
// envelope, returning it.
func (e *otlpEnvelope) end(r *otlpRecord) []byte {
	e.n = 1
	if r.time != 0 {
		// Unix nanoseconds: HEC's time reads them exactly
		// (timeparse.ParseNumber).
		e.key([]byte("time"))
		e.buf = strconv.AppendUint(e.buf, r.time, 10)
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
	}
}

func (o *otlpRequest) addEnvelope(raw []byte, r *otlpRecord) {
	q := o.q
	// The observed time stands in for an event without a time of its own,
	// as a Kafka record's does; a replay applies it again.
	q.rejMeta.recordTime = int64(min(r.observed, math.MaxInt64))
	if r.time != 0 {
		q.rejMeta.recordTime = 0
	}
	// Its memory counts against max_inflight_bytes (full).
	q.scratch = int64(cap(o.env.buf))
	if q.oversized(raw) {
		return
	}
	if jsonscan.TooDeep(raw, jsonscan.MaxDepth) {
		q.reject(raw, "too_deep", errTooDeep)
		return
	}
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
	q.em.DefaultTime = q.rejMeta.recordTime
	obj, text := HECEventBody(ev)
	q.env = v
	q.add(raw, obj, text)
	q.env = nil
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
			r.traceID = nil
			if len(it.v) == 16 && !allZero(it.v) {
				r.traceID = hex.AppendEncode(trace[:0], it.v)
			}
		case it.msg(10):
			r.spanID = nil
			if len(it.v) == 8 && !allZero(it.v) {
				r.spanID = hex.AppendEncode(span[:0], it.v)
			}
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
	e := &o.env
	e.begin()
	e.recordFields(&r)
	var err error
	o.inFields = true
	for _, rb := range res {
		if err == nil {
			err = o.attrsProto(rb, 1)
		}
	}
	if hasBody && err == nil {
		err = o.attrsProto(b, 6)
	}
	o.inFields = false
	if err == nil {
		e.endFields()
		switch {
		case hasBody:
			e.buf, err = appendPBAny(e.buf, body, 1)
		case hasAttrs:
			// No body: the event is the record's attributes.
			e.buf = append(e.buf, '{')
			e.n = 0
			err = o.attrsProto(b, 6)
			e.buf = append(e.buf, '}')
		default:
			e.buf = append(e.buf, "null"...)
		}
	}
	if errors.Is(err, errTooDeep) {
		// The record alone is refused; the rest of the request is taken.
		e.buf = e.buf[:e.start]
		o.q.reject(b, "too_deep", fmt.Errorf("a log record's value is nested deeper than %d levels", otlpMaxDepth))
		return nil
	}
	if err != nil {
		return err
	}
	o.add(e.end(&r), &r)
	return nil
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
		o.field(k, o.inFields)
	}
	return it.err
}

// field writes the attribute k whose value's JSON is o.tmp. In "fields"
// (flat) it is flattened as the splunk_hec exporter flattens it: a map's
// members as "k.member" (recursively), an array of maps or arrays as its
// JSON text; as an event's member (flat false) it is written as it is.
func (o *otlpRequest) field(k []byte, flat bool) {
	e := &o.env
	if !flat || len(o.tmp) == 0 || (o.tmp[0] != '{' && o.tmp[0] != '[') {
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
			o.text = v.MarshalTo(o.text[:0])
			e.buf = normalize.AppendString(e.buf, o.text)
		}
	default:
		e.key(o.path)
		e.buf = v.MarshalTo(e.buf)
	}
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

// appendDouble appends f as a JSON number, or as protojson's string for
// the values JSON has no number for.
func appendDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
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
	if m := v.Get(camel); m != nil {
		return m
	}
	return v.Get(snake)
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
// 64-bit integers as numbers or strings, trace and span ids in hex.
func (o *otlpRequest) walkJSON(body []byte) error {
	root, err := o.q.parse(body)
	if err != nil {
		return err
	}
	if err := jobject(root, "the body"); err != nil {
		return err
	}
	rls, err := jarray(root, "resourceLogs", "resource_logs")
	if err != nil {
		return err
	}
	for _, rl := range rls {
		if err := jobject(rl, "a resourceLogs element"); err != nil {
			return err
		}
		var resAttrs []*fastjson.Value
		if res := rl.Get("resource"); res != nil && res.Type() != fastjson.TypeNull {
			if err := jobject(res, "a resource"); err != nil {
				return err
			}
			if resAttrs, err = jarray(res, "attributes", "attributes"); err != nil {
				return err
			}
		}
		sls, err := jarray(rl, "scopeLogs", "scope_logs")
		if err != nil {
			return err
		}
		for _, sl := range sls {
			if err := jobject(sl, "a scopeLogs element"); err != nil {
				return err
			}
			recs, err := jarray(sl, "logRecords", "log_records")
			if err != nil {
				return err
			}
			for _, rec := range recs {
				if o.full() {
					return errOTLPFull
				}
				if err := o.recordJSON(resAttrs, rec); err != nil {
					return err
				}
			}
		}
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

func (o *otlpRequest) recordJSON(resAttrs []*fastjson.Value, rec *fastjson.Value) error {
	o.n++
	if err := jobject(rec, "a logRecords element"); err != nil {
		return err
	}
	var r otlpRecord
	var err error
	if r.time, err = jTime(jget(rec, "timeUnixNano", "time_unix_nano"), "timeUnixNano"); err != nil {
		return err
	}
	if r.observed, err = jTime(jget(rec, "observedTimeUnixNano", "observed_time_unix_nano"), "observedTimeUnixNano"); err != nil {
		return err
	}
	if sn := jget(rec, "severityNumber", "severity_number"); sn != nil {
		switch sn.Type() {
		case fastjson.TypeNumber:
			if _, err := sn.Int(); err != nil {
				return fmt.Errorf("severityNumber: %w", err)
			}
			if b := sn.MarshalTo(o.scratch[:0]); string(b) != "0" {
				r.sevNum = b
			}
		case fastjson.TypeString: // an enum's name, which protobuf JSON parsers take
			if s := sn.GetStringBytes(); len(s) > 0 && string(s) != "SEVERITY_NUMBER_UNSPECIFIED" {
				r.sevNum = sn.MarshalTo(o.scratch[:0])
			}
		case fastjson.TypeNull:
		default:
			return errors.New("severityNumber is not a number")
		}
	}
	if r.sevText, err = jString(jget(rec, "severityText", "severity_text"), "severityText"); err != nil {
		return err
	}
	if r.traceID, err = jString(jget(rec, "traceId", "trace_id"), "traceId"); err != nil {
		return err
	}
	if r.spanID, err = jString(jget(rec, "spanId", "span_id"), "spanId"); err != nil {
		return err
	}
	if r.eventName, err = jString(jget(rec, "eventName", "event_name"), "eventName"); err != nil {
		return err
	}
	attrs, err := jarray(rec, "attributes", "attributes")
	if err != nil {
		return err
	}
	body := rec.Get("body")
	hasBody := body != nil && !jEmptyValue(body)
	e := &o.env
	e.begin()
	e.recordFields(&r)
	o.inFields = true
	err = o.attrsJSON(resAttrs)
	if hasBody && err == nil {
		err = o.attrsJSON(attrs)
	}
	o.inFields = false
	if err != nil {
		return err
	}
	e.endFields()
	switch {
	case hasBody:
		e.buf, err = appendJSONAny(e.buf, body, 1)
	case len(attrs) > 0:
		e.buf = append(e.buf, '{')
		e.n = 0
		err = o.attrsJSON(attrs)
		e.buf = append(e.buf, '}')
	default:
		e.buf = append(e.buf, "null"...)
	}
	if err != nil {
		return err
	}
	o.add(e.end(&r), &r)
	return nil
}

// attrsJSON writes KeyValues ({"key","value"}) as members of the object
// being written, taking those that are HEC metadata aside.
func (o *otlpRequest) attrsJSON(kvs []*fastjson.Value) error {
	e := &o.env
	for _, kv := range kvs {
		if err := jobject(kv, "an attribute"); err != nil {
			return err
		}
		k, err := jString(kv.Get("key"), "an attribute's key")
		if err != nil {
			return err
		}
		v := kv.Get("value")
		var str []byte
		isStr := false
		if v != nil && v.Type() == fastjson.TypeObject {
			if s := jget(v, "stringValue", "string_value"); s != nil && s.Type() == fastjson.TypeString {
				str, isStr = s.GetStringBytes(), true
			}
		}
		if e.meta(k, str, isStr) {
			continue
		}
		if o.tmp, err = appendJSONAny(o.tmp[:0], v, 1); err != nil {
			return err
		}
		o.field(k, o.inFields)
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
	case "stringValue", "string_value", "bytesValue", "bytes_value":
		if val.Type() != fastjson.TypeString {
			return bad()
		}
		return normalize.AppendString(dst, val.GetStringBytes()), nil
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
			k, err := jString(kv.Get("key"), "a key")
			if err != nil {
				return dst, err
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = normalize.AppendString(dst, k)
			dst = append(dst, ':')
			if dst, err = appendJSONAny(dst, kv.Get("value"), depth+1); err != nil {
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
	var msg string
	if rejected > 0 {
		msg = fmt.Sprintf("%d log records were not taken and are kept in logrouter's quarantine (router quarantine list); the first: %s", rejected, first)
		if len(msg) > maxDetail {
			msg = msg[:maxDetail] + "..."
		}
	}
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
	} else if rejected > 0 {
		var ps []byte
		ps = protowire.AppendTag(ps, 1, protowire.VarintType)
		ps = protowire.AppendVarint(ps, uint64(rejected))
		ps = protowire.AppendTag(ps, 2, protowire.BytesType)
		ps = protowire.AppendString(ps, msg)
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, ps)
	}
	return writeOTLP(w, enc, http.StatusOK, out)
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
