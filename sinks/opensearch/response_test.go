package opensearch

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/logrouter/logrouter/pipeline"
)

// fakeEncoder has n items whose batch indices are 10, 11, ...
// fakeEncoder is an encoder of n items, events 10 to 10+n-1, all with the
// _id bulkItem answers with (9f86d081884c7d65).
func fakeEncoder(n int) *encoder {
	e := new(encoder)
	for i := range n {
		e.idx = append(e.idx, int32(10+i))
		e.hash = append(e.hash, 0x9f86d081884c7d65)
	}
	return e
}

func TestReadBulkResponseOutcomes(t *testing.T) {
	type item struct {
		op, errType string
		status      int
		want        outcome
	}
	items := []item{
		{"create", "", 201, outIndexed},
		{"create", "", 200, outIndexed},
		{"create", "version_conflict_engine_exception", 409, outConflict},
		{"index", "version_conflict_engine_exception", 409, outRetry},
		{"create", "es_rejected_execution_exception", 429, outRetry},
		{"create", "exception", 500, outRetry},
		{"create", "unavailable_shards_exception", 503, outRetry},
		{"create", "security_exception", 401, outRetry},
		{"create", "security_exception", 403, outRetry},
		{"create", "", 408, outRetry},
		{"create", "mapper_parsing_exception", 400, outPermanent},
		{"create", "illegal_argument_exception", 400, outPermanent},
		{"create", "index_not_found_exception", 404, outRetry},
		{"create", "not_found", 404, outPermanent},
		{"create", "strict_dynamic_mapping_exception", 422, outPermanent},
		{"create", "", 0, outRetry},
		{"create", "", 302, outRetry},
	}
	var b strings.Builder
	b.WriteString(`{"took":3,"errors":true,"items":[`)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"` + it.op + `":{"_index":"logs-x","_id":"9f86d081884c7d65"`)
		if it.status != 0 {
			b.WriteString(`,"status":` + strconv.Itoa(it.status))
		}
		if it.errType != "" {
			b.WriteString(`,"error":{"type":"` + it.errType + `","reason":"why ` + strconv.Itoa(i) + `","caused_by":{"type":"cause","reason":"deep"}}`)
		}
		b.WriteString(`}}`)
	}
	b.WriteString(`]}`)
	e := fakeEncoder(len(items))
	var tl tally
	readBulkResponse(&tl, e, 0, len(items), []byte(b.String()), OpCreate)
	failed := map[int]pipeline.ItemError{}
	for _, f := range tl.failed {
		failed[f.Index] = f
	}
	var indexed, conflict, retried, perm int
	for i, it := range items {
		f, isFailed := failed[10+i]
		switch it.want {
		case outIndexed:
			indexed++
		case outConflict:
			conflict++
		case outRetry:
			retried++
		case outPermanent:
			perm++
		}
		if (it.want == outIndexed || it.want == outConflict) == isFailed {
			t.Errorf("item %d (%s %d %s): failed=%v, want outcome %d", i, it.op, it.status, it.errType, isFailed, it.want)
			continue
		}
		if !isFailed {
			continue
		}
		if pipeline.IsPermanent(f.Err) != (it.want == outPermanent) || f.Status != it.status {
			t.Errorf("item %d: %+v, want outcome %d", i, f, it.want)
		}
		var oe *Error
		if !errors.As(f.Err, &oe) || oe.Type != it.errType || oe.Index != "logs-x" || !oe.Item {
			t.Errorf("item %d: error %#v", i, f.Err)
		}
		if it.errType != "" && !strings.Contains(f.Err.Error(), "why "+strconv.Itoa(i)+" (caused by cause: deep)") {
			t.Errorf("item %d: error text %q", i, f.Err)
		}
	}
	if oe, ok := tl.loudErr.(*Error); !ok || oe.Status != 401 {
		t.Errorf("loudErr = %v, want the 401 item", tl.loudErr)
	}
	if tl.indexed != indexed || tl.conflict != conflict || tl.retried != retried || tl.quarantined != perm || tl.reqFailed != 0 {
		t.Fatalf("tally %+v, want %d %d %d %d", tl, indexed, conflict, retried, perm)
	}
}

func TestReadBulkResponseBroken(t *testing.T) {
	for _, body := range []string{
		`not json`,
		`{"took":1,"errors":false,"items":[{"create":{"status":201}}]}`, // one item for two
		`{"took":1,"errors":false}`,
	} {
		var tl tally
		readBulkResponse(&tl, fakeEncoder(2), 0, 2, []byte(body), OpCreate)
		if tl.retried != 2 || len(tl.failed) != 2 || pipeline.IsPermanent(tl.failed[0].Err) || tl.indexed != 0 {
			t.Errorf("%s: %+v", body, tl)
		}
	}
	// errors:false with statuses that say otherwise: the items decide.
	var tl tally
	readBulkResponse(&tl, fakeEncoder(2), 0, 2, []byte(`{"took":1,"errors":false,"items":[{"create":{"status":201}},{"create":{"status":429}}]}`), OpCreate)
	if tl.indexed != 1 || tl.retried != 1 {
		t.Fatalf("%+v", tl)
	}
}

func TestRequestError(t *testing.T) {
	e := requestError(503, []byte(`{"error":{"root_cause":[],"type":"cluster_block_exception","reason":"blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];"},"status":503}`))
	if e.Type != "cluster_block_exception" || e.Status != 503 || e.Item {
		t.Fatalf("%+v", e)
	}
	if e := requestError(404, []byte(`{"error":"no handler found for uri [/x/_bulk]","status":404}`)); !strings.Contains(e.Reason, "no handler") {
		t.Fatalf("%+v", e)
	}
	if e := requestError(403, []byte(`{"message":"The security token included in the request is invalid."}`)); !strings.Contains(e.Error(), "security token") {
		t.Fatalf("%+v", e)
	}
	if e := requestError(502, []byte("<html>Bad Gateway</html>")); !strings.Contains(e.Error(), "Bad Gateway") || e.Status != 502 {
		t.Fatalf("%+v", e)
	}
	for status, want := range map[int]outcome{400: outPermanent, 401: outRetry, 403: outRetry, 404: outRetry, 429: outRetry, 500: outRetry, 503: outRetry, 302: outRetry} {
		if classifyRequest(status) != want {
			t.Errorf("classifyRequest(%d) = %d", status, classifyRequest(status))
		}
	}
}
