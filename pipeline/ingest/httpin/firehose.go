package httpin

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/jsonscan"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// ProtoFirehose is Amazon Data Firehose's HTTP endpoint delivery.
const ProtoFirehose = "firehose"

// firehoseRequestID is the header Firehose names its request by; the answer
// must carry the same id. The handler echoes it on the response before any
// answer is written, so that the answers written elsewhere (busy, limits)
// can name it too (writeFirehose).
const firehoseRequestID = "X-Amz-Firehose-Request-Id"

// handleFirehose serves Amazon Data Firehose's HTTP endpoint destination
// (POST /firehose; the "HTTP Endpoint Delivery Request and Response
// Specifications" of the Firehose developer guide):
//
//	{"requestId":"...","timestamp":1578090901599,"records":[{"data":"<base64>"},...]}
//
// authenticated by the stream's access key (X-Amz-Firehose-Access-Key, one
// of inputs.http.tokens). Each record's data is base64; gzip inside it
// (CloudWatch Logs subscriptions always compress) is undone. A CloudWatch
// Logs subscription message ({"messageType":"DATA_MESSAGE","logGroup",
// "logStream","logEvents":[...]}) gives one event per log event (its
// message, JSON or text; the log group as logrouter.source, the stream,
// account and log event id as labels); CONTROL_MESSAGEs are skipped. Anything else is
// NDJSON or text, one event per line (EventBridge, CloudTrail through a
// stream, application logs), batch envelopes split as on /ingest.
//
// The answer is 200 with {"requestId","timestamp"} once every event is in
// every destination's queue; a record that cannot become an event is
// quarantined (Firehose cannot be told about one record). Anything else is
// an error with {"requestId","timestamp","errorMessage"}, and Firehose
// retries the whole request for its retry duration, then writes it to its
// S3 backup; never a 413, which Firehose takes as final (neither retried
// nor backed up): a request over a per-request limit is answered 500. A
// record holding one JSON document (pretty-printed or not) is one event;
// a CloudWatch log event's JSON message keeps its own time, the log
// event's timestamp standing in when it has none. The X-Amz-Firehose-Common-Attributes "sourcetype" (or
// "source_type") and "index" parameters of the stream's destination apply
// to all its events, as HEC's sourcetype and index do.
func (s *Server) handleFirehose(w http.ResponseWriter, r *http.Request, c *charge) int {
	tok, ar := s.firehoseAuth(r)
	if ar != authOK {
		return writeFirehose(w, http.StatusUnauthorized, "missing or invalid access key: set the stream's access key to one of inputs.http.tokens")
	}
	bp, status, msg := s.readBody(w, r, c)
	if status != 0 {
		return writeFirehose(w, status, msg)
	}
	defer putBuf(bp)
	body := *bp
	q := s.newRequest(r, ProtoFirehose, tok, len(body), c)
	st, index := firehoseAttributes(r.Header.Get("X-Amz-Firehose-Common-Attributes"))
	fh := firehoseRequest{q: q, st: st, index: index, defST: q.defaultSourceType()}
	if len(fh.index) == 0 && tok != nil {
		fh.index = []byte(tok.Index)
	}
	// A refused record replays with the stream's attributes: its source
	// type, as the events' (over their own), and index.
	q.rejMeta.sourceType = string(st)
	q.rejIndex = string(fh.index)
	defer fh.release()

	// The envelope is walked, not parsed whole: a parsed value per record
	// (or per element of a records array of numbers: a few KiB of gzip)
	// was held before any per-request limit could be checked, hundreds of
	// MiB outside max_inflight_bytes. Each record is parsed alone, by a
	// parser of its own (q.p parses the record's payload).
	var records, requestID []byte
	err := jsonscan.Members(body, func(k, v []byte) error {
		switch {
		case isKey(k, "records"):
			records = v
		case isKey(k, "requestId"):
			requestID = v
		}
		return nil
	})
	if err == nil && jsonscan.TooDeep(body, jsonscan.MaxDepth) {
		err = errTooDeep
	}
	if err != nil {
		q.abort()
		return writeFirehose(w, http.StatusBadRequest, "the body is not Firehose's JSON request: "+detail(err))
	}
	if len(records) == 0 || records[0] != '[' {
		q.abort()
		return writeFirehose(w, http.StatusBadRequest, `the body has no "records" array: is this a Firehose HTTP endpoint request?`)
	}
	outer := s.parsers.Get() // small parses only (maxFirehoseRecordValues)
	defer s.parsers.Put(outer)
	if w.Header().Get(firehoseRequestID) == "" && len(requestID) > 0 {
		// Firehose sends the id as a header and in the body; answer with
		// the body's if the header was lost on the way (a proxy).
		if v, err := outer.ParseBytes(requestID); err == nil {
			w.Header().Set(firehoseRequestID, string(v.GetStringBytes()))
		}
	}
	i := -1
	err = jsonscan.Elements(records, func(el []byte) error {
		i++
		if q.full(max(i, q.records())) { // records so far, or the events they made
			return errStopWalk
		}
		// A record is {"data":"<base64>"}: a few values, however long
		// (its data up to Firehose's 1000 KiB). One of more values is not
		// Firehose's and is not parsed: what parsing it holds grows with
		// its values (an array of numbers, a few KiB of gzip, held
		// hundreds of MiB), and it has no max_event_bytes of its own.
		if jsonscan.TooDeep(el, jsonscan.MaxDepth) {
			return errTooDeep
		}
		if len(el) > jsonscan.CostScanBytes && jsonscan.Values(el) > maxFirehoseRecordValues {
			q.reject(el[:min(len(el), q.s.cfg.MaxEventBytes)], "invalid_record",
				fmt.Errorf("record %d of %d bytes holds more than %d values: a Firehose record is {\"data\":\"<base64>\"}", i, len(el), maxFirehoseRecordValues))
			return nil
		}
		rec, err := outer.ParseBytes(el)
		if err != nil {
			return err
		}
		data := rec.GetStringBytes("data")
		if data == nil {
			q.reject(rec.MarshalTo(nil), "invalid_record", fmt.Errorf("record %d has no \"data\" string", i))
			return nil
		}
		fh.record(data)
		return nil
	})
	if err != nil && err != errStopWalk {
		q.abort()
		return writeFirehose(w, http.StatusBadRequest, "the body is not Firehose's JSON request: "+detail(err))
	}
	if q.full(0) {
		return q.refuse(w)
	}
	if _, err := q.deliver(r.Context()); err != nil {
		_, msg := deliveryStatus(err)
		// Firehose retries any failure; the status only shows in its logs.
		return writeFirehose(w, http.StatusServiceUnavailable, msg)
	}
	return writeFirehose(w, http.StatusOK, "")
}

// firehoseRequest is the state of one Firehose request's records.
type firehoseRequest struct {
	q         *request
	st, index []byte // the stream's common attributes
	defST     []byte
	// dec and unz are the current record's base64-decoded and gunzipped
	// data, reused record after record: an event is normalized into the
	// batch before the next record is decoded (a rejected record is copied).
	dec, unz []byte
	zr       *gzip.Reader
	msgs     *fastjson.Parser // CloudWatch messages; q.p holds their envelope
	msgsCost int64            // the largest message parse of msgs (valueCost)
}

func (fh *firehoseRequest) release() {
	if fh.msgs != nil && fh.msgsCost <= jsonscan.KeepParserBytes {
		fh.q.s.parsers.Put(fh.msgs)
	}
}

// maxFirehoseRecordValues bounds the values of one element of a Firehose
// request's records array: Firehose writes {"data":"..."}; a relay may
// add a few members.
const maxFirehoseRecordValues = 64

// maxValueCost bounds a long CloudWatch message's values: one per
// maxValueCost bytes at most on average, so that parsing it costs a few
// times its size (real messages hold far fewer: a log event is three
// values and a message of tens of bytes or more).
const maxValueCost = 16

// maxCloudWatchBytes bounds a CloudWatch Logs message parsed whole past
// max_event_bytes: a subscription delivers at most 1 MiB of log events a
// message (PutLogEvents' batch limit), a few MiB once their JSON is
// escaped in the message; a longer one is not CloudWatch's.
const maxCloudWatchBytes = 8 << 20

// record turns one record's base64 data into events.
func (fh *firehoseRequest) record(data []byte) {
	q := fh.q
	n := base64.StdEncoding.DecodedLen(len(data))
	if cap(fh.dec) < n {
		fh.dec = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(fh.dec[:n], data)
	if err != nil {
		q.reject(append([]byte(nil), data...), "invalid_base64", fmt.Errorf("record data is not base64: %v", err))
		return
	}
	payload := fh.dec[:n]
	if len(payload) >= 2 && payload[0] == 0x1f && payload[1] == 0x8b {
		if payload, err = fh.gunzip(payload); err != nil {
			reason := "invalid_gzip"
			if errors.Is(err, errRecordTooLarge) {
				reason = "too_large"
			}
			q.reject(append([]byte(nil), fh.dec[:n]...), reason, err)
			return
		}
	}
	q.scratch = int64(cap(fh.dec) + cap(fh.unz))
	q.em = normalize.EventMeta{SourceType: fh.st, DefaultSourceType: fh.defST, Index: fh.index}
	if t := skipWS(payload); len(t) > 0 && t[0] == '{' {
		// One JSON document, perhaps pretty-printed over several lines:
		// a CloudWatch Logs message, or one event. Lines otherwise.
		// Longer than max_event_bytes it is parsed only as a CloudWatch
		// message (many log events, each a few values of tens of bytes
		// or more), never when it is dense in values (a gzip bomb of
		// "0,0,...": fastjson spends tens of bytes a byte on it).
		if len(t) > q.s.cfg.MaxEventBytes && (len(t) > maxCloudWatchBytes || !bytes.Contains(t, []byte(`"logEvents"`)) || jsonscan.Values(t)*maxValueCost > len(t)) {
			q.oversized(t)
			fh.ownLastReject()
			return
		}
		if v, err := q.parse(t); err == nil {
			if bytes.Contains(t, []byte(`"logEvents"`)) && fh.cloudWatch(v) {
				return
			}
			if q.full(q.records()) {
				return
			}
			if v.Type() == fastjson.TypeObject && !q.oversized(t) {
				if !q.add(t, v, nil) {
					fh.ownLastReject()
				}
				return
			}
			fh.ownLastReject() // oversized
			return
		}
	}
	for rest := payload; len(rest) > 0; {
		var line []byte
		line, rest = nextLine(rest)
		t := skipWS(line)
		if len(t) == 0 {
			continue
		}
		if q.full(q.records()) {
			return
		}
		if q.oversized(line) {
			fh.ownLastReject()
			continue
		}
		if t[0] == '{' {
			v, err := q.parse(t)
			if err != nil {
				q.reject(append([]byte(nil), line...), parseReason(err), err)
				continue
			}
			if !q.add(line, v, nil) {
				fh.ownLastReject()
			}
			continue
		}
		if !q.add(line, nil, line) {
			fh.ownLastReject()
		}
	}
}

// ownLastReject copies the last rejected record's bytes out of the
// record buffers, which the next record reuses.
func (fh *firehoseRequest) ownLastReject() {
	if rj := fh.q.rejected; len(rj) > 0 {
		rj[len(rj)-1].Raw = append([]byte(nil), rj[len(rj)-1].Raw...)
	}
}

// gunzip decodes a gzip payload into fh.unz, bounded by max_body_bytes.
func (fh *firehoseRequest) gunzip(p []byte) ([]byte, error) {
	var err error
	if fh.zr == nil {
		fh.zr, err = gzip.NewReader(bytes.NewReader(p))
	} else {
		err = fh.zr.Reset(bytes.NewReader(p))
	}
	if err != nil {
		return nil, fmt.Errorf("record data is not gzip: %v", err)
	}
	limit := fh.q.s.cfg.MaxBodyBytes
	buf := bytes.NewBuffer(fh.unz[:0])
	m, err := io.Copy(buf, io.LimitReader(fh.zr, limit+1))
	fh.unz = buf.Bytes()
	switch {
	case err != nil:
		return nil, fmt.Errorf("record data is not valid gzip: %v", err)
	case m > limit:
		return nil, fmt.Errorf("%w (%d) once decompressed", errRecordTooLarge, limit)
	}
	return fh.unz, nil
}

// errRecordTooLarge: a record's gzip data decompresses past max_body_bytes.
// errStopWalk ends a walk over a request's records early (a per-request
// limit reached: the request is refused).
var errStopWalk = errors.New("stop")

var errRecordTooLarge = errors.New("record data exceeds inputs.http.max_body_bytes")

// cloudWatch turns a CloudWatch Logs subscription message into one event
// per log event and reports true, or reports false when v is not one. A
// log event refused by normalization is quarantined as its message reduced
// to it (ProtoCloudWatch), so that a replay keeps its group, stream,
// account and time.
func (fh *firehoseRequest) cloudWatch(v *fastjson.Value) bool {
	var a fastjson.Arena
	m, ok := ParseCloudWatch(v, &a)
	if !ok || m.Control {
		return ok
	}
	q := fh.q
	if fh.msgs == nil {
		fh.msgs = q.s.parsers.Get()
	}
	for _, le := range m.Events {
		if q.full(q.records()) {
			return true
		}
		msg, ts, ok := LogEvent(le)
		if !ok {
			q.reject(le.MarshalTo(nil), "invalid_record", errors.New(`CloudWatch log event without a "message" string`))
			continue
		}
		if q.oversized(msg) {
			fh.ownLastReject()
			continue
		}
		q.em = normalize.EventMeta{SourceType: fh.st, DefaultSourceType: fh.defST, Index: fh.index}
		m.Meta(&q.em, le)
		if c, err := valueCost(msg); err == nil && c > fh.msgsCost {
			// What parsing it holds, charged with the envelope's (full).
			fh.msgsCost = c
			q.parsed = max(q.parsed, c)
		}
		obj, err := LogEventBody(fh.msgs, msg, ts, &q.em)
		if err != nil {
			q.reject(append([]byte(nil), msg...), parseReason(err), err)
			continue
		}
		var text []byte
		if obj == nil {
			text = msg
		}
		q.cw, q.cwEvent = &m, le // for the quarantine records of a split message's parts (partRaw)
		added := q.add(msg, obj, text)
		q.cw, q.cwEvent = nil, nil
		if added {
			continue
		}
		last := &q.rejected[len(q.rejected)-1]
		if len(last.Raw) == len(msg) && (len(msg) == 0 || &last.Raw[0] == &msg[0]) {
			// The message itself was refused (not one event of several
			// it holds, already quarantined in its message by partRaw).
			last.Raw, last.Protocol = m.Record(le), ProtoCloudWatch
			continue
		}
		fh.ownLastReject()
	}
	return true
}

// firehoseAuth takes the stream's access key, or an Authorization header.
func (s *Server) firehoseAuth(r *http.Request) (*Token, authResult) {
	if len(s.tokens) == 0 {
		return nil, authOK
	}
	if k := r.Header.Get("X-Amz-Firehose-Access-Key"); k != "" {
		return s.checkSecret(k)
	}
	return s.authenticate(r, false)
}

// firehoseAttributes reads the source type and index of a stream's common
// attributes header ({"commonAttributes":{"sourcetype":...,"index":...}}).
func firehoseAttributes(h string) (st, index []byte) {
	if h == "" {
		return nil, nil
	}
	var p fastjson.Parser
	v, err := p.Parse(h)
	if err != nil {
		return nil, nil
	}
	ca := v.Get("commonAttributes")
	if ca == nil {
		return nil, nil
	}
	st = ca.GetStringBytes("sourcetype")
	if st == nil {
		st = ca.GetStringBytes("source_type")
	}
	return bytes.Clone(st), bytes.Clone(ca.GetStringBytes("index"))
}

// writeFirehose answers a Firehose request: {"requestId","timestamp"} and,
// for an error, "errorMessage". The request id is the one the handler
// echoed on w.
func writeFirehose(w http.ResponseWriter, status int, msg string) int {
	if status == http.StatusRequestEntityTooLarge {
		// Firehose takes a 413 as final: it neither retries the batch nor
		// writes it to its S3 backup. Over a limit, answer an error it
		// retries and then backs up (the message says which limit).
		status = http.StatusInternalServerError
	}
	out := []byte(`{"requestId":`)
	out = normalize.AppendString(out, []byte(w.Header().Get(firehoseRequestID)))
	out = append(out, `,"timestamp":`...)
	out = strconv.AppendInt(out, time.Now().UnixMilli(), 10)
	if status != http.StatusOK {
		out = append(out, `,"errorMessage":`...)
		out = normalize.AppendString(out, []byte(msg))
	}
	out = append(out, '}')
	return writeRaw(w, status, out)
}

// firehoseEcho puts the request's Firehose id on the response, for
// writeFirehose, before h answers.
func firehoseEcho(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(firehoseRequestID, r.Header.Get(firehoseRequestID))
		h(w, r)
	}
}
