package httpin

// Fault test from a review of the router's memory bounds; it failed before
// the fix.

import (
	"context"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/logrouter/logrouter/pipeline"
)

// chargeSink records, while a batch is delivered, what the requests in
// progress hold of max_inflight_bytes.
type chargeSink struct {
	used *atomic.Int64
	seen atomic.Int64
}

func (s *chargeSink) Name() string { return "all" }
func (s *chargeSink) Write(_ context.Context, b *pipeline.Batch) error {
	s.seen.Store(s.used.Load())
	return nil
}
func (s *chargeSink) Close(context.Context) error { return nil }

// denseRecord is a record of about n bytes that is one long array of
// elements el: {"a":[el,el,...]}.
func denseRecord(n int, el string) string {
	return `{"a":[` + strings.Repeat(el+",", (n-16)/(len(el)+1)) + el + `]}`
}

// TestDenseRecordQuarantined: a record within max_event_bytes that is one
// long array of tiny values, {"a":[0,0,0,...]}, was parsed whole: fastjson
// keeps its values in one slice grown by append, and the array's elements
// point into every backing array the slice had, so ~200 bytes of heap per
// 2-byte element stayed live (~208 MiB for a 1 MiB record, from a ~1 KiB
// gzip request), none of it charged to max_inflight_bytes: a handful of
// such requests at once OOM-killed the router. Such a record (longer than
// 64 KiB, a value every 6 bytes or less) is now quarantined alone as
// too_many_values on every record path, and the others are delivered.
func TestDenseRecordQuarantined(t *testing.T) {
	dense := denseRecord(1<<20-64, "0")
	const ok = `{"user":"bob","action":"login"}`
	for _, c := range []struct{ name, path, body string }{
		{"ndjson", "/ingest", dense + "\n" + ok + "\n"},
		{"array", "/ingest", "[" + dense + "," + ok + "]"},
		{"hec", "/services/collector/event", `{"event":` + dense + "}\n" + `{"event":` + ok + "}\n"},
		{"bulk", "/_bulk", "{\"index\":{}}\n" + dense + "\n{\"index\":{}}\n" + ok + "\n"},
	} {
		f := newFixture(t, Config{}, nil)
		w := f.do("POST", c.path, "", gzipBody(t, c.body), "Content-Encoding", "gzip")
		recs := f.q.Records()
		reason := ""
		if len(recs) == 1 {
			reason = recs[0].Reason
		}
		if len(f.rec.Events()) != 1 || reason != "too_many_values" {
			t.Errorf("%s: a 1 MiB array of zeros and a plain record: answered %d %.300s; delivered %d events, quarantined %d records (reason %q); want the plain one delivered and the dense one quarantined as too_many_values",
				c.name, w.Code, w.Body, len(f.rec.Events()), len(recs), reason)
		}
	}
}

// TestLargeRecordParseCharged: a large record that is not dense (a value
// every ~32 bytes) is parsed, and what its parse holds is charged to
// max_inflight_bytes while the request is in progress: the charge covers
// the live heap the same parse takes.
func TestLargeRecordParseCharged(t *testing.T) {
	sink := &chargeSink{}
	f := newFixture(t, Config{}, sink)
	sink.used = &f.srv.mem.used
	rec := denseRecord(1<<20-64, `"`+strings.Repeat("a", 28)+`"`)
	w := f.do("POST", "/ingest", "", gzipBody(t, rec+"\n"), "Content-Encoding", "gzip")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"accepted":1`) {
		t.Fatalf("the record was not accepted: %d %.300s", w.Code, w.Body)
	}
	charged := sink.seen.Load()

	// The same parse, measured from a heap where nothing of the request
	// is left, with a fresh parser (the request's was not pooled again).
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.GC()
	p := f.srv.parsers.Get()
	runtime.ReadMemStats(&m0)
	v, err := p.Parse(rec)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	runtime.KeepAlive(v)
	live := int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
	t.Logf("%d-byte record: charged %d KiB while delivered; its parse holds %d KiB live", len(rec), charged>>10, live>>10)
	if charged < live {
		t.Errorf("the request was charged %d KiB of max_inflight_bytes, less than the %d KiB its parse holds", charged>>10, live>>10)
	}
}
