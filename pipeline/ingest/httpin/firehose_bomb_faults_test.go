package httpin

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// TestFirehoseGzipRecordNotParsedPastMaxEventBytes: a Firehose
// record's gzip data is decompressed (up to max_body_bytes, before any of
// it is charged to max_inflight_bytes) and then, when it starts with '{',
// parsed whole by fastjson (firehose.go, record: q.parse(t) comes before
// q.oversized(t)). configuration.md promises that a record longer than
// max_event_bytes "is not parsed but quarantined as too_large", and the
// README that "a small body cannot cost gigabytes". A JSON array of tiny
// values costs fastjson ~90 bytes a byte-pair, so a gzip bomb of a few tens
// of KiB (32 MiB of "0," at the default max_body_bytes) makes one request
// allocate over a gigabyte, uncharged to max_inflight_bytes, from any sender
// holding a token.
//
// Measured here at a small scale: 1 MiB of JSON (a ~3 KiB request), with
// max_event_bytes 64 KiB. /ingest, given the same record uncompressed,
// refuses to parse it (the control); /firehose parses it.
func TestFirehoseGzipRecordNotParsedPastMaxEventBytes(t *testing.T) {
	const jsonBytes = 1 << 20
	rec := `{"a":[` + strings.Repeat("0,", jsonBytes/2) + `0]}`
	cfg := Config{
		Tokens:        []Token{{Name: "fh", Token: "s3cret-s3cret-s3cret"}},
		MaxBodyBytes:  8 << 20,
		MaxEventBytes: 64 << 10,
	}
	measure := func(do func() int) (uint64, int) {
		runtime.GC()
		var a, b runtime.MemStats
		runtime.ReadMemStats(&a)
		code := do()
		runtime.ReadMemStats(&b)
		runtime.GC()
		var c runtime.MemStats
		runtime.ReadMemStats(&c)
		t.Logf("heap in use after the request, after a GC: %+d MiB (what the pooled parser keeps)", (int64(c.HeapAlloc)-int64(a.HeapAlloc))>>20)
		return b.TotalAlloc - a.TotalAlloc, code
	}

	// Control: the same record on /ingest.
	f := newFixture(t, cfg, nil)
	ndAlloc, ndCode := measure(func() int {
		return f.do("POST", "/ingest", "Bearer s3cret-s3cret-s3cret", rec+"\n", "Content-Type", "application/x-ndjson").Code
	})

	f2 := newFixture(t, cfg, nil)
	body := firehoseBody(gz(t, rec))
	hdr := []string{firehoseRequestID, fhID, "X-Amz-Firehose-Access-Key", "s3cret-s3cret-s3cret", "Content-Type", "application/json"}
	fhAlloc, fhCode := measure(func() int { return f2.do("POST", "/firehose", "", body, hdr...).Code })
	t.Logf("/ingest: %d, allocated %d MiB; /firehose (request of %d bytes): %d, allocated %d MiB", ndCode, ndAlloc>>20, len(body), fhCode, fhAlloc>>20)
	if fhCode != http.StatusOK {
		t.Fatalf("/firehose answered %d", fhCode)
	}
	for _, r := range f2.q.Records() {
		t.Logf("quarantined: %s (%d bytes)", r.Reason, len(r.Raw))
	}
	// Decompressing 2 MiB and keeping the record costs a few MiB; parsing
	// it costs tens of times that.
	const bound = 16 << 20
	if fhAlloc > bound {
		t.Errorf("a %d-byte Firehose request whose record (1 MiB of JSON once gunzipped, max_event_bytes 64 KiB) must be quarantined as too_large without parsing allocated %d MiB (/ingest, same record: %d MiB): the record is parsed whole before its size is checked (firehose.go record: q.parse before q.oversized); at the default max_body_bytes a ~40 KiB request costs gigabytes, outside max_inflight_bytes",
			len(body), fhAlloc>>20, ndAlloc>>20)
	}
}

// TestFirehoseLongCloudWatchMessage: a CloudWatch Logs message longer than
// max_event_bytes (a subscription batches up to 10,000 log events) is
// still taken event by event, while one dense in values, even with a
// "logEvents" member, is quarantined unparsed as too_large.
func TestFirehoseLongCloudWatchMessage(t *testing.T) {
	cfg := Config{Tokens: []Token{{Name: "fh", Token: "s3cret-s3cret-s3cret"}}, MaxBodyBytes: 8 << 20, MaxEventBytes: 16 << 10}
	hdr := []string{firehoseRequestID, fhID, "X-Amz-Firehose-Access-Key", "s3cret-s3cret-s3cret", "Content-Type", "application/json"}
	var evs []string
	for i := range 1000 { // ~120 KB: over max_event_bytes
		evs = append(evs, fmt.Sprintf(`{"id":"3614%020d","timestamp":1764410400000,"message":"sshd[%d]: Accepted publickey for ops"}`, i, i))
	}
	cw := `{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"/var/log/secure","logStream":"i-0abc","subscriptionFilters":["all"],"logEvents":[` + strings.Join(evs, ",") + `]}`
	f := newFixture(t, cfg, nil)
	if w := f.do("POST", "/firehose", "", firehoseBody(gz(t, cw)), hdr...); w.Code != http.StatusOK {
		t.Fatalf("/firehose: %d %s", w.Code, w.Body)
	}
	if n := len(f.rec.Events()); n != 1000 {
		t.Errorf("%d of 1000 log events of a message over max_event_bytes delivered", n)
	}
	dense := `{"logEvents":[` + strings.Repeat("0,", 20<<10) + `0]}`
	f2 := newFixture(t, cfg, nil)
	if w := f2.do("POST", "/firehose", "", firehoseBody(gz(t, dense)), hdr...); w.Code != http.StatusOK {
		t.Fatalf("/firehose: %d %s", w.Code, w.Body)
	}
	if rs := f2.q.Records(); len(rs) != 1 || rs[0].Reason != "too_large" || len(f2.rec.Events()) != 0 {
		t.Errorf("a dense record with a logEvents member: %d quarantined, %d events; want it alone, too_large", len(rs), len(f2.rec.Events()))
	}
}
