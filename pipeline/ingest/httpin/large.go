package httpin

import (
	"bytes"
	"errors"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline/normalize"
)

// Records longer than max_event_bytes that hold many events.
//
// A batch envelope or an API page (normalize.Records: Azure's
// {"records":[...]}, a CloudTrail file, a Microsoft Graph page, a Google
// Reports API page) is often larger than max_event_bytes while each of
// its records is small: Graph answers 1000 sign-ins (~3 MB) a page by
// default. Parsed whole it would grow a pooled parser to many times its
// size (the reason for the bound); refused whole, every record past the
// first max_event_bytes would be lost. Such a record is instead split by a
// byte scan (no parse of the whole) and each of its records parsed and
// added alone, exactly as they would have been had the envelope fit: the
// shape is decided by normalize.Records on a skeleton of the envelope
// (its members, with the records' array reduced to one empty object), so
// that both paths split the same envelopes.

// maxSkeleton bounds what an envelope may hold besides its records (a
// page's links, kind and tokens are well under it): the skeleton is
// parsed, so a record whose other members are large is no envelope and is
// never parsed (max_event_bytes' promise).
const maxSkeleton = 64 << 10

// largeParts returns the records' array of raw when raw is a batch
// envelope or an API page whose records are all objects (one or more),
// else nil. raw must be valid JSON (the callers check).
func largeParts(raw []byte) []byte {
	// The largest member is the records' array (a page's other members are
	// short: links, a kind, a token).
	var arr []byte
	largest, n := 0, 0
	if objMembers(raw, func(_, v []byte) error {
		if len(v) > len(arr) {
			arr, largest = v, n
		}
		n++
		return nil
	}) != nil || len(arr) == 0 || arr[0] != '[' || len(raw)-len(arr) > maxSkeleton {
		return nil
	}
	elems := 0
	if arrayEach(arr, func(el []byte) error {
		if el[0] != '{' {
			return errNotObject
		}
		elems++
		return nil
	}) != nil || elems == 0 {
		return nil
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(splice(raw, arr, "[{}]"))
	if err != nil {
		return nil
	}
	recs := normalize.Records(v)
	if len(recs) != 1 {
		return nil
	}
	// The records Records found must be those of the member replaced (by
	// position: a key may be written with escapes).
	mine := memberAt(v, largest)
	if mine == nil || len(mine.GetArray()) != 1 || recs[0] != mine.GetArray()[0] {
		return nil
	}
	return arr
}

var errNotObject = errors.New("not an object")

// splice returns a copy of raw with part, a subslice of it, replaced by
// with.
func splice(raw, part []byte, with string) []byte {
	at := cap(raw) - cap(part)
	out := make([]byte, 0, len(raw)-len(part)+len(with))
	out = append(out, raw[:at]...)
	out = append(out, with...)
	return append(out, raw[at+len(part):]...)
}

// memberAt returns the value of object v's i-th member (in the order
// written), or nil.
func memberAt(v *fastjson.Value, i int) *fastjson.Value {
	var m *fastjson.Value
	n := 0
	v.GetObject().Visit(func(_ []byte, val *fastjson.Value) {
		if n == i {
			m = val
		}
		n++
	})
	return m
}

// addLarge adds raw, a record longer than max_event_bytes, record by
// record when it is an envelope largeParts splits (see above), with the
// request's metadata as add would (route.Worker.AddRecords: the request's
// time is each record's default). A record longer than max_event_bytes
// itself, nested too deep or refused by the normalizer is quarantined
// alone; one that would pass max_events_per_request stops it, marking the
// request over (full reports it). It reports handled false, having added
// nothing, when raw is not such an envelope (the caller quarantines it as
// too_large), and ok false when it quarantined a record (the last of
// q.rejected).
func (q *request) addLarge(raw []byte) (handled, ok bool) {
	if q.cw != nil || fastjson.ValidateBytes(raw) != nil {
		return false, false
	}
	arr := largeParts(raw)
	if arr == nil {
		return false, false
	}
	ok = true
	var one [1]*fastjson.Value
	_ = arrayEach(arr, func(el []byte) error {
		if q.full(q.records()) {
			return errStop
		}
		if q.oversized(el) {
			ok = false
			return nil
		}
		v, err := q.parse(el)
		if err != nil {
			q.reject(el, parseReason(err), err)
			ok = false
			return nil
		}
		one[0] = v
		if q.records()+normalize.Count(one[:], false) > q.s.cfg.MaxEventsPerRequest {
			q.over = overEvents
			return errStop
		}
		if !q.w.AddRecords(q.b, one[:], &q.em, func(part *fastjson.Value, err error) {
			q.reject(q.partRaw(part), normalize.Reason(err), err)
		}) {
			ok = false
		}
		return nil
	})
	return true, ok
}

var errStop = errors.New("stop")

// largeHECEnvelope returns, when raw (a HEC envelope longer than
// max_event_bytes) holds as its event an envelope addLarge splits, the
// envelope with that event reduced to {} (for its metadata, and for the
// quarantine records of its parts, partRaw), parsed by a parser of its
// own within the bounds of any envelope (max_event_bytes, nesting depth:
// parseEnvelope), and the event's bytes; else nil, nil.
func (s *Server) largeHECEnvelope(raw []byte) (*fastjson.Value, []byte) {
	if fastjson.ValidateBytes(raw) != nil {
		return nil, nil
	}
	var ev []byte
	events := 0
	if objMembers(raw, func(k, v []byte) error {
		if isKey(k, "event") {
			ev = v
			events++
		}
		return nil
	}) != nil || events != 1 || len(raw)-len(ev) > maxSkeleton || largeParts(ev) == nil {
		return nil, nil
	}
	var p fastjson.Parser
	v, err := s.parseEnvelope(&p, splice(raw, ev, "{}"))
	if err != nil {
		return nil, nil
	}
	return v, ev
}

// isKey reports whether the key k, as written between its quotes (escapes
// included), is name.
func isKey(k []byte, name string) bool {
	if bytes.IndexByte(k, '\\') < 0 {
		return string(k) == name
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(append(append([]byte{'"'}, k...), '"'))
	return err == nil && string(v.GetStringBytes()) == name
}
