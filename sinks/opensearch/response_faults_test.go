package opensearch

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
)

// scriptedAction is one action line of a bulk request seen by scriptedRT.
type scriptedAction struct{ op, index, id string }

// scriptedRT is an http.RoundTripper standing in for a bulk-compatible
// server (a proxy, VictoriaLogs, a cluster): it decodes each bulk request's
// action lines and answers with a scripted function; anything else (health
// checks) gets 200 {}.
type scriptedRT struct {
	mu     sync.Mutex
	answer func(acts []scriptedAction, req *http.Request) *http.Response
}

func scriptedResp(req *http.Request, status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Status: fmt.Sprintf("%d x", status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: req}
}

func (rt *scriptedRT) RoundTrip(req *http.Request) (*http.Response, error) {
	var raw []byte
	if req.Body != nil {
		raw, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	if !strings.HasSuffix(req.URL.Path, "/_bulk") {
		return scriptedResp(req, 200, `{}`), nil
	}
	body := raw
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		if body, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	}
	var acts []scriptedAction
	lines := bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n"))
	for i := 0; i+1 < len(lines); i += 2 {
		v, err := fastjson.ParseBytes(lines[i])
		if err != nil {
			return nil, err
		}
		o, _ := v.Object()
		o.Visit(func(k []byte, x *fastjson.Value) {
			acts = append(acts, scriptedAction{string(k), string(x.GetStringBytes("_index")), string(x.GetStringBytes("_id"))})
		})
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.answer(acts, req), nil
}

func reviewSink(t *testing.T, cfg Config, rt http.RoundTripper) *Sink {
	t.Helper()
	if len(cfg.URLs) == 0 {
		cfg.URLs = []string{"http://os.invalid:9200"}
	}
	s, err := New("os", cfg, WithTransport(rt), WithMetrics(NewMetrics(nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func reviewItem(a scriptedAction, status int, errType string) string {
	s := fmt.Sprintf(`{"%s":{"_index":%q,"_id":%q,"_version":1,"status":%d`, a.op, a.index, a.id, status)
	if errType != "" {
		s += `,"error":{"type":"` + errType + `","reason":"r"}`
	}
	return s + "}}"
}

// TestBulkAnswerItemsNotMatchingRequest: readBulkResponse
// (response.go) used to attribute the k-th answer item to the k-th request
// item without looking at the item's _id. An answer (from a proxy or
// bulk-compatible server) whose items are in another order, or that lists
// one document twice and another not at all, then marked events delivered
// that the server never confirmed: below, the event whose own item says 429
// was reported delivered and dropped from the queue.
//
// Expected: every event whose own item (by _id, which is the event hash)
// was not 2xx or a create 409 is reported failed and retryable; equivalently
// an answer whose item _ids do not match the request's, position by
// position, is treated like one that "does not list one item per request
// item" (the doc's Requests table): every item retryable. (FuzzBulkResponse's
// reference looks at _id too.)
func TestBulkAnswerItemsNotMatchingRequest(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(acts []scriptedAction) []string
		// lost is the event (batch index) that a positional reading
		// wrongly reports delivered.
		lost int
	}{
		{"reversed", func(a []scriptedAction) []string {
			// event 0 is refused with 429, event 1 created; listed in reverse
			return []string{reviewItem(a[1], 201, ""), reviewItem(a[0], 429, "es_rejected_execution_exception")}
		}, 0},
		{"duplicated", func(a []scriptedAction) []string {
			// event 0 listed twice, event 1 not at all
			return []string{reviewItem(a[0], 201, ""), reviewItem(a[0], 409, "version_conflict_engine_exception")}
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := &scriptedRT{answer: func(acts []scriptedAction, req *http.Request) *http.Response {
				if len(acts) != 2 {
					return scriptedResp(req, 500, `{"error":"test wants one request of 2 items"}`)
				}
				return scriptedResp(req, 200, `{"took":1,"errors":true,"items":[`+strings.Join(tc.answer(acts), ",")+`]}`)
			}}
			s := reviewSink(t, Config{}, rt)
			b := makeBatch(t, 1, 2, time.Second)
			defer b.Release()
			err := s.Write(context.Background(), b)
			if err == nil {
				t.Fatalf("Write = nil: event %d was never confirmed by the answer", tc.lost)
			}
			if pipeline.IsPermanent(err) {
				t.Fatalf("Write = %v: nothing here is permanent", err)
			}
			var be *pipeline.BatchError
			if !errors.As(err, &be) {
				return // a plain retryable error: every event retried, nothing lost
			}
			for _, it := range be.Items {
				if it.Index == tc.lost {
					if pipeline.IsPermanent(it.Err) {
						t.Fatalf("event %d permanent: %v", tc.lost, it.Err)
					}
					return
				}
			}
			t.Fatalf("event %d (id %s) reported delivered, but the answer never confirmed it: Write = %v",
				tc.lost, DocumentID(b.Events[tc.lost].Hash), err)
		})
	}
}

// TestClusterDownLargeBatchPlainError: doc.go (Outcomes) promises
// "When every event failed for the same request-level reason (the cluster is
// unreachable, answers 503), Write returns that error alone"; Write
// (opensearch.go) decides that with sameRequestError, which compared the
// error values by identity, and each bulk request of a batch builds its own
// *Error. Any batch over 1 MiB is cut into several requests, so with the
// cluster answering 503 to all of them Write returned a *pipeline.BatchError
// listing every event instead of the 503 error. (TestClusterDownThenBack
// checks the promise only with a batch small enough for one request.)
//
// Expected: a plain, retryable *Error with status 503, not a BatchError,
// whatever the number of requests the batch was cut into.
func TestClusterDownLargeBatchPlainError(t *testing.T) {
	var requests int
	rt := &scriptedRT{answer: func(acts []scriptedAction, req *http.Request) *http.Response {
		requests++
		return scriptedResp(req, 503, `{"error":{"type":"cluster_block_exception","reason":"blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];"},"status":503}`)
	}}
	s := reviewSink(t, Config{}, rt)
	b := makeBatch(t, 4, 3000, time.Second) // about 2.5 MB: 4 requests
	defer b.Release()
	err := s.Write(context.Background(), b)
	if requests < 2 {
		t.Fatalf("%d requests: the batch must be cut into several", requests)
	}
	var be *pipeline.BatchError
	if err == nil || pipeline.IsPermanent(err) || errors.As(err, &be) {
		t.Fatalf("cluster answering 503 to all %d requests: Write = %.200v, want the 503 error alone (retryable)", requests, err)
	}
	var oe *Error
	if !errors.As(err, &oe) || oe.Status != 503 || oe.Item {
		t.Fatalf("Write = %v, want the request's 503 *Error", err)
	}
}
