package httpin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline/normalize"
)

// handleNDJSON serves /ingest: newline-delimited JSON objects, or one JSON
// array of objects. Every valid object is accepted even when other lines are
// not; invalid ones are quarantined and listed in the answer, which is then
// 400 so that senders do not resend the accepted ones. 200 means all were
// accepted; 503 with Retry-After means none was (resend the whole body).
func (s *Server) handleNDJSON(w http.ResponseWriter, r *http.Request, c *charge) int {
	tok, ar := s.authenticate(r, false)
	if ar != authOK {
		w.Header().Set("WWW-Authenticate", `Bearer realm="logrouter"`)
		return writeNDJSONError(w, http.StatusUnauthorized, "missing or invalid credentials: send 'Authorization: Bearer <token>' with a configured token")
	}
	bp, status, msg := s.readBody(w, r, c)
	if status != 0 {
		return writeNDJSONError(w, status, msg)
	}
	defer putBuf(bp)
	body := *bp
	q := s.newRequest(r, ProtoNDJSON, tok, len(body), c)
	q.em = normalize.EventMeta{DefaultSourceType: q.defaultSourceType()}
	type lineErr struct {
		line   int
		reason string
		err    string
	}
	var errs []lineErr
	rejectLine := func(n int, raw []byte, reason string, err error) {
		q.reject(raw, reason, err)
		if len(errs) < 100 {
			errs = append(errs, lineErr{n, reason, err.Error()})
		}
	}
	trimmed := skipWS(body)
	switch {
	case len(trimmed) == 0:
		q.abort()
		return writeNDJSONError(w, http.StatusBadRequest, "empty body: send NDJSON (one JSON object per line) or a JSON array of objects")
	case trimmed[0] == '[':
		// Element by element (see arrayElems). An array that is malformed
		// (its framing, or an object in it) is refused whole, as when it was
		// parsed at once; an element that is not an object is rejected alone.
		arr := newArrayElems(trimmed)
		var err error
		for {
			e, ok := arr.next()
			if !ok {
				err = arr.err
				break
			}
			if q.full(max(arr.n-1, q.records())) { // elements so far, or the events they made (normalize.Parts)
				break
			}
			if e[0] != '{' { // rejected as it is, valid JSON or not
				rejectLine(arr.n, e, "not_object", errors.New("array element is not a JSON object"))
				continue
			}
			if len(e) > q.s.cfg.MaxEventBytes {
				if handled, ok := q.addLarge(e); handled {
					if !ok {
						last := &q.rejected[len(q.rejected)-1]
						if len(errs) < 100 {
							errs = append(errs, lineErr{arr.n, last.Reason, last.Detail})
						}
					}
					continue
				}
			}
			if q.oversized(e) {
				last := &q.rejected[len(q.rejected)-1]
				if len(errs) < 100 {
					errs = append(errs, lineErr{arr.n, last.Reason, last.Detail})
				}
				continue
			}
			var v *fastjson.Value
			if v, err = q.parse(e); err == errTooDeep || err == errTooManyValues {
				// Valid JSON nested past the bound or too dense in values:
				// quarantined alone, as the same record is on a line of
				// its own.
				rejectLine(arr.n, e, parseReason(err), err)
				err = nil
				continue
			} else if err != nil {
				break
			}
			if !q.add(e, v, nil) {
				last := &q.rejected[len(q.rejected)-1]
				if len(errs) < 100 {
					errs = append(errs, lineErr{arr.n, last.Reason, last.Detail})
				}
			}
		}
		if err != nil {
			q.b.Reset()
			q.rejected, errs = q.rejected[:0], errs[:0]
			rejectLine(1, body, "invalid_json", err)
		}
	default:
		n := 0
		for rest := body; len(rest) > 0; {
			var line []byte
			line, rest = nextLine(rest)
			n++
			if len(skipWS(line)) == 0 {
				continue
			}
			if q.full(q.records()) {
				break
			}
			if len(line) > q.s.cfg.MaxEventBytes {
				if handled, ok := q.addLarge(line); handled {
					if !ok {
						last := &q.rejected[len(q.rejected)-1]
						if len(errs) < 100 {
							errs = append(errs, lineErr{n, last.Reason, last.Detail})
						}
					}
					continue
				}
			}
			if q.oversized(line) {
				last := &q.rejected[len(q.rejected)-1]
				if len(errs) < 100 {
					errs = append(errs, lineErr{n, last.Reason, last.Detail})
				}
				continue
			}
			v, err := q.parse(line)
			if err != nil {
				rejectLine(n, line, parseReason(err), err)
				continue
			}
			if v.Type() != fastjson.TypeObject {
				rejectLine(n, line, "not_object", errors.New("the line is not a JSON object"))
				continue
			}
			if !q.add(line, v, nil) {
				last := &q.rejected[len(q.rejected)-1]
				if len(errs) < 100 {
					errs = append(errs, lineErr{n, last.Reason, last.Detail})
				}
			}
		}
	}
	if q.full(0) {
		return q.refuse(w)
	}
	rejected := len(q.rejected)
	accepted, err := q.deliver(r.Context())
	if err != nil {
		st, msg := deliveryStatus(err)
		w.Header().Set("Retry-After", "1")
		return writeNDJSONError(w, st, msg)
	}
	out := []byte(`{"accepted":`)
	out = strconv.AppendInt(out, int64(accepted), 10)
	out = append(out, `,"rejected":`...)
	out = strconv.AppendInt(out, int64(rejected), 10)
	if len(errs) > 0 {
		out = append(out, `,"errors":[`...)
		for i, e := range errs {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, `{"line":`...)
			out = strconv.AppendInt(out, int64(e.line), 10)
			out = append(out, `,"reason":`...)
			out = normalize.AppendString(out, []byte(e.reason))
			out = append(out, `,"error":`...)
			out = normalize.AppendString(out, []byte(e.err))
			out = append(out, '}')
		}
		out = append(out, ']')
	}
	out = append(out, '}')
	if rejected > 0 {
		return writeRaw(w, http.StatusBadRequest, out)
	}
	return writeRaw(w, http.StatusOK, out)
}

func writeNDJSONError(w http.ResponseWriter, status int, msg string) int {
	out := []byte(`{"error":`)
	out = normalize.AppendString(out, []byte(msg))
	out = append(out, '}')
	return writeRaw(w, status, out)
}
