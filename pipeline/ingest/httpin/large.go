package httpin

import (
	"bytes"
	"errors"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/jsonscan"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// Records longer than max_event_bytes that hold many events: batch
// envelopes and API pages (normalize.LargeRecords) are split by a byte
// scan and each record parsed and added alone, exactly as they would have
// been had the envelope fit.

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
	arr := normalize.LargeRecords(raw)
	if arr == nil {
		return false, false
	}
	ok = true
	var one [1]*fastjson.Value
	_ = jsonscan.Elements(arr, func(el []byte) error {
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
	if jsonscan.Members(raw, func(k, v []byte) error {
		if isKey(k, "event") {
			ev = v
			events++
		}
		return nil
	}) != nil || events != 1 || len(raw)-len(ev) > normalize.MaxSkeleton || normalize.LargeRecords(ev) == nil {
		return nil, nil
	}
	var p fastjson.Parser
	v, err := s.parseEnvelope(&p, jsonscan.Splice(raw, ev, "{}"))
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
