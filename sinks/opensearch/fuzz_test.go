package opensearch

import (
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
)

// bulkAnswer builds {"took":1,"errors":E,"items":[...]} from per-item
// (op, status, error type) triples; status 0 leaves the status out.
func bulkAnswer(errs bool, items ...string) string {
	return `{"took":1,"errors":` + strconv.FormatBool(errs) + `,"items":[` + strings.Join(items, ",") + `]}`
}

func bulkItem(op string, status int, errType string) string {
	s := `{"` + op + `":{"_index":"logs-x-2026.11.28","_id":"9f86d081884c7d65","_version":1`
	if status != 0 {
		s += `,"status":` + strconv.Itoa(status)
	}
	if errType != "" {
		s += `,"error":{"type":"` + errType + `","reason":"r","caused_by":{"type":"c","reason":"d"}}`
	}
	return s + `}}`
}

// fuzzItems is the number of request items for n, in 1..16.
func fuzzItems(n uint8) int { return int(n%16) + 1 }

// FuzzBulkResponse feeds arbitrary bytes to readBulkResponse as the body of
// a 2xx bulk answer for a request of items [lo, hi) and checks that every
// item gets exactly one outcome, and that an item counts as delivered only
// when the answer parses, lists exactly one item per request item, and that
// item says so (2xx, or 409 version_conflict_engine_exception to a create).
// An unreadable or mismatched answer (item count, or an item's _id that is
// not its request item's) leaves every item retryable.
//
// Regression seeds at the end: answers a former fast path took for all
// delivered (it counted "status":2xx strings without parsing).
func FuzzBulkResponse(f *testing.F) {
	ok := bulkItem("create", 201, "")
	for _, s := range []struct {
		body   string
		n      uint8 // items: n%16+1
		create bool
	}{
		{bulkAnswer(false, ok), 0, true},
		{`"errors":false"status":200A`, 0, true},
		{`{"took":1,"errors":false,"items":[{"create":{"status":201,"status":201}}]}`, 1, true},
		{`{"took":1,"errors":false,"items":[{"create":{"status":201,"get":{"status":200}}}]}`, 1, true},
		{`{"took":1,"errors":false,"status":200,"items":[{"create":{"status":201}},{"create":{}}]}`, 1, true},
		{`{"errors":false,"items":[{"create":{"status":201}}]}` + "\x00", 0, true},
		{bulkAnswer(false, ok, ok, ok), 2, true},
		{`{"took":1,"errors": false,"items":[{"create":{"status":201}},{"create":{"status":200}}]}`, 1, true},
		{`{"took":1,"errors":false,"items":[{"index":{"_index":"a","status":200,"result":"updated"}}]}`, 0, false},
		// mixed outcomes
		{bulkAnswer(true, ok, bulkItem("create", 409, "version_conflict_engine_exception"),
			bulkItem("create", 429, "es_rejected_execution_exception"), bulkItem("create", 400, "mapper_parsing_exception")), 3, true},
		{bulkAnswer(true, bulkItem("index", 409, "version_conflict_engine_exception"), bulkItem("index", 201, "")), 1, false},
		{bulkAnswer(true, bulkItem("create", 401, "security_exception"), bulkItem("create", 403, "security_exception"),
			bulkItem("create", 404, "index_not_found_exception"), bulkItem("create", 503, "unavailable_shards_exception"),
			bulkItem("create", 408, ""), bulkItem("create", 0, ""), bulkItem("create", 302, ""), bulkItem("create", 422, "x")), 7, true},
		// errors:false but the statuses say otherwise
		{bulkAnswer(false, ok, bulkItem("create", 429, "")), 1, true},
		// another op than the request's, odd item shapes
		{`{"errors":true,"items":[{"update":{"status":409,"error":{"type":"version_conflict_engine_exception"}}},[],{},{"create":null}]}`, 3, true},
		{`{"errors":true,"items":[{"create":{"status":"201"}},{"create":{"status":201.0}},{"create":{"status":-201}},{"create":{"status":99999999999999999999}}]}`, 3, true},
		{`{"errors":true,"items":[{"create":{"status":400,"error":"plain string reason"}}]}`, 0, true},
		// an item about another document than its request item's
		{bulkAnswer(false, ok, `{"create":{"_index":"logs-x-2026.11.28","_id":"0000000000000001","status":201}}`), 1, true},
		// items count mismatch: nothing may be delivered
		{bulkAnswer(false, ok), 1, true},
		{bulkAnswer(false, ok, ok, ok), 1, true},
		{bulkAnswer(true, ok, ok), 2, true},
		{`{"took":1,"errors":false}`, 1, true},
		{`{"took":1,"errors":false,"items":{}}`, 0, true},
		// truncated and broken answers
		{bulkAnswer(false, ok, ok)[:40], 1, true},
		{bulkAnswer(true, ok, bulkItem("create", 400, "mapper_parsing_exception"))[:90], 1, true},
		{``, 0, true},
		{`null`, 0, true},
		{`[]`, 0, true},
		{`<html><body>502 Bad Gateway</body></html>`, 0, true},
	} {
		f.Add([]byte(s.body), s.n, uint8(0), s.create)
		f.Add([]byte(s.body), s.n, uint8(3), s.create)
	}
	f.Fuzz(func(t *testing.T, body []byte, nItems, off uint8, create bool) {
		n := fuzzItems(nItems)
		lo := int(off % 4)
		hi := lo + n
		op := OpIndex
		if create {
			op = OpCreate
		}
		// Request items [lo, hi) of an encoder with hi items; item k is
		// batch event 10+k.
		e := fakeEncoder(hi)
		in := append([]byte(nil), body...)
		var tl tally
		readBulkResponse(&tl, e, lo, hi, in, op)
		if string(in) != string(body) {
			t.Fatalf("readBulkResponse modified the body")
		}

		// Every item has exactly one outcome.
		if got := tl.indexed + tl.conflict + tl.retried + tl.quarantined; got != n {
			t.Fatalf("outcomes %d (indexed %d conflict %d retried %d quarantined %d) for %d items",
				got, tl.indexed, tl.conflict, tl.retried, tl.quarantined, n)
		}
		if len(tl.failed) != tl.retried+tl.quarantined {
			t.Fatalf("%d failed items, but retried %d + quarantined %d", len(tl.failed), tl.retried, tl.quarantined)
		}
		failed := map[int]pipeline.ItemError{}
		perm := 0
		for _, f := range tl.failed {
			if f.Index < 10+lo || f.Index >= 10+hi {
				t.Fatalf("failed item index %d outside the request's events [%d, %d)", f.Index, 10+lo, 10+hi)
			}
			if _, dup := failed[f.Index]; dup {
				t.Fatalf("event %d failed twice", f.Index)
			}
			if f.Err == nil {
				t.Fatalf("event %d failed without an error", f.Index)
			}
			failed[f.Index] = f
			if pipeline.IsPermanent(f.Err) {
				perm++
			}
		}
		if perm != tl.quarantined {
			t.Fatalf("%d permanent failures, quarantined %d", perm, tl.quarantined)
		}

		// The reference: a readable answer with exactly n items decides
		// per item; anything else retries every item.
		var p fastjson.Parser
		v, err := p.ParseBytes(body)
		var items []*fastjson.Value
		if err == nil {
			items = v.GetArray("items")
		}
		// An item whose _id is another request item's makes the whole
		// answer unusable too; an _id of no request item (an ingest
		// pipeline's) is read by position. (Every request item here has
		// bulkItem's _id, so no answer names another item's.)
		reqIDs := map[string][]int{}
		for k := lo; k < hi; k++ {
			id := DocumentID(e.hash[k])
			reqIDs[id] = append(reqIDs[id], k)
		}
		idMismatch := false
		for k, it := range items {
			if lo+k >= hi {
				break // more items than requested: refused below anyway
			}
			iv, _ := refItemValue(it, op)
			id := iv.GetStringBytes("_id")
			if id == nil || string(id) == DocumentID(e.hash[lo+k]) {
				continue
			}
			if len(reqIDs[string(id)]) > 0 {
				idMismatch = true
			}
		}
		if err != nil || len(items) != n || idMismatch {
			if tl.indexed != 0 || tl.conflict != 0 || tl.quarantined != 0 || tl.retried != n || tl.reqFailed != n {
				t.Fatalf("answer unreadable or not one item per request item (parse error %v, %d items for %d), "+
					"yet indexed %d conflict %d retried %d quarantined %d (request-level %d)",
					err, len(items), n, tl.indexed, tl.conflict, tl.retried, tl.quarantined, tl.reqFailed)
			}
			for _, f := range tl.failed {
				if f.Status != 0 {
					t.Fatalf("request-level failure with item status %d", f.Status)
				}
			}
			return
		}
		if tl.reqFailed != 0 {
			t.Fatalf("readable answer with %d items, but %d request-level failures", n, tl.reqFailed)
		}
		for k, it := range items {
			iv, itemOp := refItemValue(it, op)
			status := iv.GetInt("status")
			errType := string(iv.GetStringBytes("error", "type"))
			reason := string(iv.GetStringBytes("error", "reason"))
			delivered, permanent := refOutcome(status, errType, reason, itemOp == OpCreate)
			f, isFailed := failed[10+lo+k]
			if delivered == isFailed {
				t.Fatalf("item %d (%s, status %d, error %q): failed=%v, want delivered=%v", k, itemOp, status, errType, isFailed, delivered)
			}
			if !isFailed {
				continue
			}
			if f.Status != status || pipeline.IsPermanent(f.Err) != permanent {
				t.Fatalf("item %d (%s, status %d, error %q): %+v, want permanent=%v", k, itemOp, status, errType, f, permanent)
			}
		}
	})
}

// refItemValue is the result object of a bulk item: the one named after the
// request's op, else the item's first member.
func refItemValue(it *fastjson.Value, op string) (*fastjson.Value, string) {
	if it == nil || it.Type() != fastjson.TypeObject {
		return nil, ""
	}
	if v := it.Get(op); v != nil {
		return v, op
	}
	o, _ := it.Object()
	if o.Len() == 0 {
		return nil, ""
	}
	var v *fastjson.Value
	var key string
	o.Visit(func(k []byte, x *fastjson.Value) {
		if v == nil {
			v, key = x, string(k)
		}
	})
	return v, key
}

// refOutcome is the documented table of item outcomes.
func refOutcome(status int, errType, reason string, create bool) (delivered, permanent bool) {
	switch {
	case status >= 200 && status <= 299:
		return true, false
	case status == 409:
		return create && errType == "version_conflict_engine_exception", false
	case status == 401, status == 403, status == 408, status == 429:
		return false, false
	case status == 404 && errType == "index_not_found_exception":
		return false, false // the cluster's state: retried until an operator creates it
	case status == 400 && strings.Contains(reason, "would add") && strings.Contains(reason, "shards open"):
		return false, false // the shard limit: retried until it is raised or indices go
	case status >= 400 && status <= 499:
		return false, true
	}
	return false, false // 5xx, 1xx, 3xx, none
}
