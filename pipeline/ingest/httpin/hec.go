package httpin

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/jsonscan"
	"github.com/logrouter/logrouter/internal/timeparse"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// Splunk HEC status codes (Splunk docs, "Troubleshoot HTTP Event Collector").
const (
	hecSuccess         = 0
	hecTokenRequired   = 2
	hecInvalidAuth     = 3
	hecInvalidToken    = 4
	hecNoData          = 5
	hecInvalidFormat   = 6
	hecChannelMissing  = 10
	hecServerError     = 8
	hecBusy            = 9
	hecEventRequired   = 12
	hecEventBlank      = 13
	hecAckDisabled     = 14
	hecQueryAuthOff    = 16
	hecHealthy         = 17
	hecUnhealthyQueues = 18
)

var hecText = map[int]string{
	hecSuccess:         "Success",
	hecTokenRequired:   "Token is required",
	hecInvalidAuth:     "Invalid authorization",
	hecInvalidToken:    "Invalid token",
	hecNoData:          "No data",
	hecInvalidFormat:   "Invalid data format",
	hecChannelMissing:  "Data channel is missing",
	hecServerError:     "Internal server error",
	hecBusy:            "Server is busy",
	hecEventRequired:   "Event field is required",
	hecEventBlank:      "Event field cannot be blank",
	hecAckDisabled:     "ACK is disabled",
	hecQueryAuthOff:    "Query string authorization is not enabled",
	hecHealthy:         "HEC is healthy",
	hecUnhealthyQueues: "HEC is unhealthy, queues are full",
}

// writeHEC answers in HEC's shape. detail, when set, replaces the standard
// text so the sender sees what to change.
func writeHEC(w http.ResponseWriter, status, code int, detail string) int {
	text := hecText[code]
	if detail != "" {
		text = detail
	}
	buf := make([]byte, 0, 64+len(text))
	buf = append(buf, `{"text":`...)
	buf = normalize.AppendString(buf, []byte(text))
	buf = append(buf, `,"code":`...)
	buf = strconv.AppendInt(buf, int64(code), 10)
	buf = append(buf, '}')
	return writeRaw(w, status, buf)
}

func writeHECInvalid(w http.ResponseWriter, code, eventNum int, detail string) int {
	buf := make([]byte, 0, 128+len(detail))
	buf = append(buf, `{"text":`...)
	buf = normalize.AppendString(buf, []byte(hecText[code]+": "+detail))
	buf = append(buf, `,"code":`...)
	buf = strconv.AppendInt(buf, int64(code), 10)
	buf = append(buf, `,"invalid-event-number":`...)
	buf = strconv.AppendInt(buf, int64(eventNum), 10)
	buf = append(buf, '}')
	return writeRaw(w, http.StatusBadRequest, buf)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) int {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}

func (s *Server) hecAuth(w http.ResponseWriter, r *http.Request) (*Token, int, bool) {
	tok, ar := s.authenticate(r, true)
	switch ar {
	case authOK:
		return tok, 0, true
	case authMissing:
		return nil, writeHEC(w, http.StatusUnauthorized, hecTokenRequired, ""), false
	case authMalformed:
		return nil, writeHEC(w, http.StatusUnauthorized, hecInvalidAuth, "Invalid authorization: use the header 'Authorization: Splunk <token>'"), false
	case authQueryDisabled:
		return nil, writeHEC(w, http.StatusBadRequest, hecQueryAuthOff, "Query string authorization is not enabled (inputs.http.allow_query_token)"), false
	}
	return nil, writeHEC(w, http.StatusForbidden, hecInvalidToken, ""), false
}

// hecDataAuth is hecAuth for the event and raw endpoints: a token with
// ack: true (Splunk's useACK) also needs a channel, as Splunk answers
// code 10 without one: a client that wants acknowledgements and sends no
// channel would wait for an ackId that never comes.
func (s *Server) hecDataAuth(w http.ResponseWriter, r *http.Request) (*Token, int, bool) {
	tok, code, ok := s.hecAuth(w, r)
	if ok && tok != nil && tok.Ack && hecChannel(r) == "" {
		return nil, writeHEC(w, http.StatusBadRequest, hecChannelMissing, "Data channel is missing: this token has ack: true (indexer acknowledgement); send the header X-Splunk-Request-Channel: <a GUID>"), false
	}
	return tok, code, ok
}

func (s *Server) hecBody(w http.ResponseWriter, r *http.Request, c *charge) (*[]byte, int, bool) {
	bp, status, msg := s.readBody(w, r, c)
	if status != 0 {
		code := hecInvalidFormat
		if status == http.StatusServiceUnavailable {
			code = hecBusy // the body did not arrive whole: retry
		}
		return nil, writeHEC(w, status, code, msg), false
	}
	if len(skipWS(*bp)) == 0 {
		putBuf(bp)
		return nil, writeHEC(w, http.StatusBadRequest, hecNoData, ""), false
	}
	return bp, 0, true
}

// HECMeta is the metadata an HEC envelope ({"time","sourcetype","host",
// "source","index","fields","event"}) gives its event, as the event
// endpoint applies it; scratch holds the time's text while it is read.
// The router's quarantine replay uses it for records HEC refused, so that
// a replayed envelope is the event it carried, not an event holding it.
func HECMeta(v *fastjson.Value, scratch []byte) normalize.EventMeta {
	return normalize.EventMeta{
		Time:       hecTime(v.Get("time"), scratch),
		SourceType: v.GetStringBytes("sourcetype"),
		Host:       v.GetStringBytes("host"),
		Source:     v.GetStringBytes("source"),
		Index:      v.GetStringBytes("index"),
		Fields:     v.Get("fields"),
	}
}

// HECEnvelopes calls fn with each HEC event envelope in b, as the event
// endpoint splits a body: objects one after another (Splunk's batch
// format), or what is left of a JSON array of them (leading '[' or ',',
// trailing ']'). It stops at the first thing that is not an object and
// returns it as an error.
func HECEnvelopes(b []byte, fn func(raw []byte) error) error {
	for {
		b = skipWS(b)
		for len(b) > 0 && (b[0] == '[' || b[0] == ',' || b[0] == ']') {
			b = skipWS(b[1:])
		}
		if len(b) == 0 {
			return nil
		}
		n, err := nextObject(b)
		if err != nil {
			return err
		}
		if err := fn(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
}

// HECEvent returns an envelope's "event", or why the event endpoint
// refuses the envelope: reason hec_missing_event (HEC code 12) or
// hec_blank_event (null or an empty string, code 13), with the error.
func HECEvent(v *fastjson.Value) (ev *fastjson.Value, reason string, err error) {
	ev = v.Get("event")
	switch {
	case ev == nil:
		return nil, "hec_missing_event", errEventRequired
	case ev.Type() == fastjson.TypeNull || (ev.Type() == fastjson.TypeString && len(ev.GetStringBytes()) == 0):
		return nil, "hec_blank_event", errEventBlank
	}
	return ev, "", nil
}

// HECEventBody is what an envelope's "event" is normalized from: an
// object as such, a string as its text, anything else (a number, a
// boolean, an array) as its JSON text.
func HECEventBody(ev *fastjson.Value) (obj *fastjson.Value, text []byte) {
	switch ev.Type() {
	case fastjson.TypeObject:
		return ev, nil
	case fastjson.TypeString:
		return nil, ev.GetStringBytes()
	default:
		return nil, ev.MarshalTo(nil)
	}
}

// hecTime converts HEC's "time" (epoch seconds as a number or a string, with
// an optional fraction) to unix nanoseconds; 0 when absent or invalid.
func hecTime(v *fastjson.Value, scratch []byte) int64 {
	if v == nil {
		return 0
	}
	// Exponent forms too: Java senders write doubles with Double.toString
	// (1.700000000123E9), C senders with %g.
	switch v.Type() {
	case fastjson.TypeNumber:
		b := v.MarshalTo(scratch[:0])
		if ns, ok := timeparse.ParseNumber(b); ok {
			return ns
		}
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		if ns, ok := timeparse.ParseNumber(b); ok {
			return ns
		}
	}
	return 0
}

// handleHEC serves /services/collector/event: one or more concatenated JSON
// envelopes {"time","host","source","sourcetype","index","event","fields"}.
// As Splunk does, events before the first invalid one are accepted and the
// answer names the invalid event's number; that event and everything after it
// go to quarantine.
func (s *Server) handleHEC(w http.ResponseWriter, r *http.Request, c *charge) int {
	tok, code, ok := s.hecDataAuth(w, r)
	if !ok {
		return code
	}
	bp, code, ok := s.hecBody(w, r, c)
	if !ok {
		return code
	}
	defer putBuf(bp)
	body := *bp
	q := s.newRequest(r, ProtoHEC, tok, len(body), c)
	defST := q.defaultSourceType()
	var defIndex []byte
	if tok != nil && tok.Index != "" {
		defIndex = []byte(tok.Index)
		q.rejIndex = tok.Index // a refused envelope replays with it
	}
	// ?sourcetype=&source=&host=&index=&time= are the defaults of the
	// envelopes that name none (syslog-ng's splunk-hec-event() sends its
	// defaults so, to keep them out of every envelope); an envelope's own
	// keys win.
	var qd hecDefaults
	if r.URL.RawQuery != "" {
		qd = queryDefaults(r)
		if len(qd.index) > 0 {
			defIndex = qd.index
			q.rejIndex = string(qd.index)
		}
		// A refused envelope replays with them (pipeline.Rejected).
		q.rejMeta = rejectMeta{sourceType: string(qd.SourceType), host: string(qd.Host), source: string(qd.Source), time: qd.Time}
	}
	var scratch [64]byte
	failCode, failNum, failMsg := 0, 0, ""
	rest := skipWS(body)
	byLine := true
	// Splunk also takes the envelopes as one JSON array.
	var arr *arrayElems
	if len(rest) > 0 && rest[0] == '[' {
		a := newArrayElems(rest)
		arr = &a
	}
	more := func() bool {
		if arr != nil {
			// Until the closing ']' (an unterminated array is next's
			// error).
			r := skipWS(arr.rest)
			return len(r) == 0 || r[0] != ']'
		}
		return len(rest) > 0
	}
	// Envelopes so far, or the records they made when more (an envelope
	// whose event is split: normalize.Parts).
	for num := 0; more() && !q.full(max(num, q.records())); num++ {
		fail := func(c int, reason string, err error, raw []byte) {
			failCode, failNum, failMsg = c, num, detail(err)
			q.reject(raw, reason, err)
		}
		var raw, large []byte
		var v *fastjson.Value
		var splitErr, err error
		if arr != nil {
			elem, ok := arr.next()
			switch {
			case ok:
				raw = elem
				rest = arr.rest
				v, err = s.parseEnvelope(q.p, raw)
			case arr.err != nil:
				splitErr = arr.err
			default:
				rest = nil // the closing ']'
			}
		} else if len(rest) > 0 {
			raw, v, splitErr, err = nextEnvelope(q.p, rest, &byLine, q.s.cfg.MaxEventBytes)
			if splitErr == nil {
				rest = skipWS(rest[len(raw):])
			}
		}
		if err == nil && len(raw) > jsonscan.CostScanBytes {
			_ = q.noteParse(raw) // what the parse holds, charged by full
		}
		if splitErr != nil {
			fail(hecInvalidFormat, "invalid_json", splitErr, rest)
			rest = nil // the whole remainder was quarantined with it
			break
		}
		if raw == nil {
			break // the body is done
		}
		switch err {
		case errEnvelopeTooLong:
			// An envelope whose event is a large batch envelope or API
			// page is taken record by record (addLarge); any other is
			// quarantined and the next envelopes are taken.
			if v, large = s.largeHECEnvelope(raw); v == nil {
				q.oversized(raw)
				continue
			}
			err = nil
		case errTooDeep, errTooManyValues:
			// Valid JSON nested past the bound, or too dense in values:
			// quarantined alone, as on the other endpoints (the sender
			// cannot "fix" it, and a 400 would make it drop the whole
			// batch).
			q.reject(raw, parseReason(err), err)
			continue
		}
		if err != nil {
			fail(hecInvalidFormat, parseReason(err), err, raw)
			break
		}
		ev, reason, err := HECEvent(v)
		if err != nil {
			code := hecEventRequired
			if err == errEventBlank {
				code = hecEventBlank
			}
			fail(code, reason, err, raw)
			break
		}
		q.em = HECMeta(v, scratch[:])
		q.em.DefaultSourceType = defST
		if len(q.em.Index) == 0 {
			q.em.Index = defIndex
		}
		if qd.set {
			qd.Fill(&q.em)
		}
		obj, text := HECEventBody(ev)
		q.env = v // for the quarantine records of a split event's parts (partRaw)
		if large != nil {
			q.addLarge(large)
		} else {
			q.add(raw, obj, text)
		}
		q.env = nil
	}
	if q.full(0) {
		return q.refuse(w)
	}
	if arr != nil && failCode == 0 {
		// The closing ']', and nothing after it.
		if _, ok := arr.next(); ok || arr.err != nil {
			err := arr.err
			if err == nil {
				err = errors.New("elements after the last one taken")
			}
			failCode, failNum, failMsg = hecInvalidFormat, arr.n, detail(err)
			q.reject(arr.rest, "invalid_json", err)
		}
	}
	if failCode != 0 && len(rest) > 0 && !(arr != nil && arrayEnd(rest)) {
		q.reject(rest, "hec_not_processed", errAfterInvalid)
	}
	if _, err := q.deliver(r.Context()); err != nil {
		_, msg := deliveryStatus(err)
		w.Header().Set("Retry-After", "1")
		return writeHEC(w, http.StatusServiceUnavailable, hecBusy, msg)
	}
	if failCode != 0 {
		return writeHECInvalid(w, failCode, failNum, failMsg)
	}
	return writeHECSuccess(w, r, tok)
}

// arrayEnd reports whether b is only the closing ']' of a JSON array body
// (and white space): after an invalid last envelope nothing is left that
// was not processed.
func arrayEnd(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 1 && b[0] == ']'
}

// parseEnvelope parses one envelope taken from a JSON array body, with the
// bounds nextEnvelope applies.
func (s *Server) parseEnvelope(p *fastjson.Parser, raw []byte) (*fastjson.Value, error) {
	v, err := parseBounded(p, raw, s.cfg.MaxEventBytes)
	if err == nil && v.Type() != fastjson.TypeObject {
		err = errNotEnvelope
	}
	return v, err
}

type hecError string

func (e hecError) Error() string { return string(e) }

const (
	errEventRequired = hecError("the envelope has no \"event\" field")
	errEventBlank    = hecError("the \"event\" field is null or an empty string")
	errAfterInvalid  = hecError("not processed: it follows an invalid event in the same request; fix that event and resend these")
	errNotEnvelope   = hecError("the array element is not a JSON object (an HEC envelope)")
)

// RequestMeta is what a HEC request's query string gives the events whose
// envelope names none (?sourcetype=&source=&host=&time=; the index is
// resolved apart, after the envelope's and before the token's). A replay
// applies a quarantined record's the same way (pipeline.Rejected.SourceType,
// DefaultSource, DefaultHost, DefaultTime).
type RequestMeta struct {
	SourceType, Source, Host []byte
	Time                     int64 // unix ns
}

// Fill gives em what its envelope left empty.
func (d *RequestMeta) Fill(em *normalize.EventMeta) {
	if len(em.SourceType) == 0 {
		em.SourceType = d.SourceType
	}
	if len(em.Source) == 0 {
		em.Source = d.Source
	}
	if len(em.Host) == 0 {
		em.Host = d.Host
	}
	if em.Time == 0 {
		em.Time = d.Time
	}
}

// Any reports whether d gives anything.
func (d *RequestMeta) Any() bool {
	return len(d.SourceType) > 0 || len(d.Source) > 0 || len(d.Host) > 0 || d.Time != 0
}

// hecDefaults are an event request's query-string metadata.
type hecDefaults struct {
	RequestMeta
	set   bool
	index []byte
}

func queryDefaults(r *http.Request) hecDefaults {
	qv := r.URL.Query()
	d := hecDefaults{set: true, index: []byte(qv.Get("index")), RequestMeta: RequestMeta{
		SourceType: []byte(qv.Get("sourcetype")), Source: []byte(qv.Get("source")), Host: []byte(qv.Get("host"))}}
	if t := qv.Get("time"); t != "" {
		if ns, ok := timeparse.ParseNumber([]byte(t)); ok {
			d.Time = ns
		}
	}
	return d
}

// handleHECRaw serves /services/collector/raw: one event per line, metadata
// from the query string (?host=&source=&sourcetype=&index=&time=). A line that is a
// JSON object is taken as the event's fields; any other line becomes
// "message".
func (s *Server) handleHECRaw(w http.ResponseWriter, r *http.Request, c *charge) int {
	tok, code, ok := s.hecDataAuth(w, r)
	if !ok {
		return code
	}
	bp, code, ok := s.hecBody(w, r, c)
	if !ok {
		return code
	}
	defer putBuf(bp)
	body := *bp
	q := s.newRequest(r, ProtoHECRaw, tok, len(body), c)
	qv := r.URL.Query()
	q.em = normalize.EventMeta{
		SourceType:        []byte(qv.Get("sourcetype")),
		DefaultSourceType: q.defaultSourceType(),
		Host:              []byte(qv.Get("host")),
		Source:            []byte(qv.Get("source")),
		Index:             []byte(qv.Get("index")),
	}
	if len(q.em.Index) == 0 && tok != nil {
		q.em.Index = []byte(tok.Index)
	}
	q.rejIndex = string(q.em.Index)
	if t := qv.Get("time"); t != "" {
		// Splunk's raw endpoint takes the events' time from ?time= too.
		if ns, ok := timeparse.ParseNumber([]byte(t)); ok {
			q.em.Time = ns
		}
	}
	// A refused line replays with the request's metadata (pipeline.Rejected).
	q.rejMeta = rejectMeta{sourceType: string(q.em.SourceType), host: string(q.em.Host), source: string(q.em.Source), time: q.em.Time}
	for rest := body; len(rest) > 0; {
		var line []byte
		line, rest = nextLine(rest)
		if len(skipWS(line)) == 0 {
			continue
		}
		if q.full(q.records()) {
			break
		}
		if len(line) > q.s.cfg.MaxEventBytes {
			if handled, _ := q.addLarge(line); handled {
				continue
			}
		}
		if q.oversized(line) {
			continue
		}
		if t := skipWS(line); t[0] == '{' {
			if v, err := q.parse(t); err == nil && v.Type() == fastjson.TypeObject {
				q.add(line, v, nil)
				continue
			}
		}
		q.add(line, nil, line)
	}
	if q.full(0) {
		return q.refuse(w)
	}
	if _, err := q.deliver(r.Context()); err != nil {
		_, msg := deliveryStatus(err)
		w.Header().Set("Retry-After", "1")
		return writeHEC(w, http.StatusServiceUnavailable, hecBusy, msg)
	}
	return writeHECSuccess(w, r, tok)
}

// handleHECHealth serves /services/collector/health.
func (s *Server) handleHECHealth(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	// As Splunk's: 503 code 18 while the router refuses input because a
	// destination's queue is full (on_full: block), so that a load
	// balancer checking it sends to other replicas.
	if closed || s.eng.QueuesFull() {
		writeHEC(w, http.StatusServiceUnavailable, hecUnhealthyQueues, "")
		return
	}
	writeHEC(w, http.StatusOK, hecHealthy, "")
}
