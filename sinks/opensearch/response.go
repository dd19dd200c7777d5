package opensearch

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
)

// Error is an OpenSearch refusal: of one bulk item (Item true) or of a
// whole request. Permanent ones are wrapped with pipeline.Permanent; test
// with errors.As.
type Error struct {
	// Status is the HTTP status of the item or request.
	Status int
	// Type and Reason are OpenSearch's error type and reason (for example
	// "mapper_parsing_exception", "failed to parse field [source.port]..."),
	// empty when the answer had none.
	Type, Reason string
	// CausedBy is the type and reason of the root cause, when given.
	CausedBy string
	// Index is the index of the item, empty for a request.
	Index string
	// Item tells an item's outcome from a request's.
	Item bool
}

func (e *Error) Error() string {
	what := "bulk request"
	if e.Item {
		what = "bulk item"
		if e.Index != "" {
			what += " in index " + strconv.Quote(e.Index)
		}
	}
	s := fmt.Sprintf("opensearch: %s: status %d", what, e.Status)
	if e.Type != "" {
		s += " " + e.Type
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.CausedBy != "" {
		s += " (caused by " + e.CausedBy + ")"
	}
	return s
}

// outcome is the fate of one item.
type outcome uint8

const (
	outIndexed outcome = iota
	outConflict
	outRetry
	outPermanent
)

// classifyItem maps a bulk item's status (and error type) to its outcome;
// see the table in the package documentation.
func classifyItem(status int, errType string, create bool) outcome {
	switch {
	case status >= 200 && status < 300:
		return outIndexed
	case status == 409:
		if create && errType == "version_conflict_engine_exception" {
			return outConflict
		}
		return outRetry
	case status == 429, status >= 500, status == 408:
		return outRetry
	case status == 401, status == 403:
		// Permissions: an operator fixes them, the data is not at fault.
		return outRetry
	case status >= 400 && status < 500:
		return outPermanent
	}
	// 1xx, 3xx, a missing status: the outcome is unknown, and sending the
	// item again is harmless (create answers 409, index overwrites).
	return outRetry
}

// classifyRequest maps the status of a whole bulk request other than 2xx
// and 413 (split by the caller) to its items' outcome.
func classifyRequest(status int) outcome {
	if status == 400 {
		return outPermanent
	}
	// 401/403 (credentials), 429, 5xx, and anything unexpected (a 404 from
	// a wrong path prefix, a proxy's 502): retried until an operator or
	// the cluster fixes it.
	return outRetry
}

var parserPool fastjson.ParserPool

// errorOf reads an OpenSearch error object ({"type","reason","caused_by"}).
func errorOf(v *fastjson.Value, status int, item bool) *Error {
	e := &Error{Status: status, Item: item}
	if v == nil {
		return e
	}
	if v.Type() == fastjson.TypeString {
		e.Reason = string(v.GetStringBytes())
		return e
	}
	e.Type = string(v.GetStringBytes("type"))
	e.Reason = string(v.GetStringBytes("reason"))
	if c := v.Get("caused_by"); c != nil {
		ct, cr := c.GetStringBytes("type"), c.GetStringBytes("reason")
		switch {
		case len(ct) > 0 && len(cr) > 0:
			e.CausedBy = string(ct) + ": " + string(cr)
		default:
			e.CausedBy = string(ct) + string(cr)
		}
	}
	return e
}

// requestError builds the error of a whole request from its status and
// body (an OpenSearch error document, or anything a proxy sends).
func requestError(status int, body []byte) *Error {
	p := parserPool.Get()
	defer parserPool.Put(p)
	if v, err := p.ParseBytes(body); err == nil && v.Type() == fastjson.TypeObject {
		if ev := v.Get("error"); ev != nil {
			return errorOf(ev, status, false)
		}
		if m := v.GetStringBytes("message"); len(m) > 0 {
			return &Error{Status: status, Reason: string(m)}
		}
	}
	e := &Error{Status: status}
	if len(body) > 0 {
		const maxReason = 256
		r := body
		if len(r) > maxReason {
			r = r[:maxReason]
		}
		e.Reason = strconv.Quote(string(r))
	}
	return e
}

// tally counts the outcomes of one Write.
type tally struct {
	indexed, conflict, retried, quarantined int
	failed                                  []pipeline.ItemError
	// reqFailed counts the items failed by request-level errors; reqErr
	// is the first of them.
	reqFailed int
	reqErr    error
	// loudErr is the first item refused for the cluster's state, not the
	// document's (401/403, a write block, a missing index it will not
	// create, the shard limit): retried, and logged loudly with loudMsg.
	loudErr error
	loudMsg string
}

func (t *tally) add(o tally) {
	t.indexed += o.indexed
	t.conflict += o.conflict
	t.retried += o.retried
	t.quarantined += o.quarantined
	t.failed = append(t.failed, o.failed...)
	t.reqFailed += o.reqFailed
	if t.reqErr == nil {
		t.reqErr = o.reqErr
	}
	if t.loudErr == nil {
		t.loudErr, t.loudMsg = o.loudErr, o.loudMsg
	}
}

// failRange records a request-level failure of items [lo, hi).
func (t *tally) failRange(e *encoder, lo, hi, status int, err error) {
	perm := pipeline.IsPermanent(err)
	for k := lo; k < hi; k++ {
		t.failed = append(t.failed, pipeline.ItemError{Index: int(e.idx[k]), Status: status, Err: err})
	}
	if perm {
		t.quarantined += hi - lo
	} else {
		t.retried += hi - lo
	}
	t.reqFailed += hi - lo
	if t.reqErr == nil {
		t.reqErr = err
	}
}

var errResponseMismatch = errors.New("opensearch: bulk response does not list one item per request item, in order; sending them again")

// idMatches reports whether answer item iv may be about request item k of
// [lo, hi): it has no _id, k's, or one that is no other request item's (an
// ingest pipeline may set _id: the answer, in request order, then names
// the pipeline's). An _id of another item means an answer reordered, or
// listing a document twice and another not at all. others is built on
// the first _id that is not k's (rare: only under such a pipeline).
func (e *encoder) idMatches(iv *fastjson.Value, k, lo, hi int, others *map[string]int) bool {
	id := iv.GetStringBytes("_id")
	if id == nil {
		return true
	}
	var b [16]byte
	if string(appendID(b[:0], e.hash[k])) == string(id) {
		return true
	}
	if *others == nil {
		*others = make(map[string]int, hi-lo)
		for j := lo; j < hi; j++ {
			(*others)[string(appendID(b[:0], e.hash[j]))] = j
		}
	}
	j, ok := (*others)[string(id)]
	return !ok || j == k
}

// clusterState names an item refusal that is the cluster's state, not the
// document's: the events stay queued (retried) and the message says what an
// operator has to do. "" for any other refusal.
func clusterState(status int, errType, reason []byte) string {
	switch {
	case string(errType) == "cluster_block_exception":
		// 429 for the flood-stage disk watermark's read-only-allow-delete
		// block (TOO_MANY_REQUESTS/12), 403 for other index blocks.
		return "OpenSearch blocks writes to the index (cluster_block_exception: read-only after the flood-stage disk watermark, or an index block): the events stay queued and are retried until the block is lifted (free disk space, or remove the block)"
	case status == 401 || status == 403:
		return "OpenSearch refused the credentials or permissions: the events stay queued and are retried until an operator fixes the username/password, certificate, AWS role or the role's index permissions"
	case string(errType) == "index_closed_exception":
		return "OpenSearch refuses writes to a closed index (closed by an operator or an ISM close action): the events stay queued and are retried until the index is opened again, or the index pattern no longer names it"
	case status == 404 && string(errType) == "index_not_found_exception":
		return "OpenSearch has no such index and will not create it (action.auto_create_index is false or excludes it, or an alias or data stream is missing): the events stay queued and are retried until an operator creates the index or allows its creation"
	case status == 400 && bytes.Contains(reason, []byte("no write index is defined for alias")):
		return "OpenSearch has no write index for the alias the events are written to (a rollover that half failed, or an index added to the alias without is_write_index): the events stay queued and are retried until an operator sets the alias's write index"
	case status == 400 && bytes.Contains(reason, []byte("shards open")) && bytes.Contains(reason, []byte("would add")):
		return "OpenSearch cannot create the index: the cluster is at cluster.max_shards_per_node; the events stay queued and are retried until old indices are deleted (ISM) or the limit is raised"
	}
	return ""
}

// readBulkResponse maps a 2xx bulk answer for items [lo, hi) into t.
func readBulkResponse(t *tally, e *encoder, lo, hi int, body []byte, op string) {
	// Always a full parse: a shortcut that counted "status":2xx strings
	// accepted answers that were not JSON or did not list one item per
	// event (found by FuzzBulkResponse), and it is the delivery decision.
	p := parserPool.Get()
	defer parserPool.Put(p)
	v, err := p.ParseBytes(body)
	if err != nil {
		t.failRange(e, lo, hi, 0, fmt.Errorf("opensearch: unreadable bulk response (%v); sending the items again", err))
		return
	}
	items := v.GetArray("items")
	if len(items) != hi-lo {
		t.failRange(e, lo, hi, 0, errResponseMismatch)
		return
	}
	// Items answer the request's items in order. One whose _id is another
	// item's (an answer reordered, or listing a document twice and another
	// not at all, by a proxy or a bulk-API look-alike) would pin outcomes
	// on the wrong events: a 429 on one that was indexed, "indexed" on one
	// never mentioned. Then nothing is known: what this answer recorded is
	// taken back and everything is sent again.
	before := *t
	var others map[string]int
	for k, it := range items {
		iv, itemOp := itemValue(it, op)
		if !e.idMatches(iv, lo+k, lo, hi, &others) {
			failed := t.failed[:len(before.failed)]
			*t = before
			t.failed = failed
			t.failRange(e, lo, hi, 0, errResponseMismatch)
			return
		}
		status := iv.GetInt("status")
		ev := iv.Get("error")
		var errType, reason []byte
		if ev != nil {
			errType, reason = ev.GetStringBytes("type"), ev.GetStringBytes("reason")
		}
		out := classifyItem(status, string(errType), itemOp == OpCreate)
		state := ""
		if out != outIndexed && out != outConflict {
			if state = clusterState(status, errType, reason); state != "" {
				out = outRetry
			}
		}
		switch out {
		case outIndexed:
			t.indexed++
		case outConflict:
			t.conflict++
		case outRetry:
			t.retried++
			ie := errorOf(ev, status, true)
			ie.Index = string(iv.GetStringBytes("_index"))
			t.failed = append(t.failed, pipeline.ItemError{Index: int(e.idx[lo+k]), Status: status, Err: ie})
			if state != "" && t.loudErr == nil {
				t.loudErr, t.loudMsg = ie, state
			}
		case outPermanent:
			t.quarantined++
			ie := errorOf(ev, status, true)
			ie.Index = string(iv.GetStringBytes("_index"))
			t.failed = append(t.failed, pipeline.ItemError{Index: int(e.idx[lo+k]), Status: status, Err: pipeline.Permanent(ie)})
		}
	}
}

// itemValue returns the result object of a bulk item, {"create": {...}},
// and its operation.
func itemValue(it *fastjson.Value, op string) (*fastjson.Value, string) {
	if v := it.Get(op); v != nil {
		return v, op
	}
	o, err := it.Object()
	if err != nil {
		return nil, ""
	}
	var v *fastjson.Value
	var key []byte
	o.Visit(func(k []byte, x *fastjson.Value) {
		if v == nil {
			v, key = x, k
		}
	})
	return v, string(key)
}

// Pooled response buffers.
var respPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 64<<10)
	return &b
}}
