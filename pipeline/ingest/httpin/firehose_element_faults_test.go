package httpin

import (
	"strings"
	"testing"
)

// TestFirehoseLongRecordElementBound (review of 55f2584)
//
// Fault: handleFirehose bounds a records element only by density
// (valueCost: refused at a value every 6 bytes or less) and parses it at
// once (outer.ParseBytes(el)); the cost is charged to q.parsed but only
// looked at (q.full) at the next element, after the parse. Unlike every
// other record path the element has no length bound (max_event_bytes), so
// cost.go's premise ("within a 1 MiB record a parse then holds at most ~70
// MiB") does not hold: an element of max_body_bytes (32 MiB by default)
// with a value every 7 bytes - ordinary numbers, "100000," - is parsed
// whole, some 5 million values, GiB of heap from a request that gzips to
// tens of KiB, with max_inflight_bytes far below it.
//
// Sequence: POST /firehose, Content-Encoding gzip, one records element
// {"data":"<base64>","x":[100000,100000,...]} of 4 MiB decoded;
// max_body_bytes 8 MiB, max_inflight_bytes 8 MiB.
//
// Expected: the element is not parsed (too long for a Firehose record, or
// its cost over max_inflight_bytes refuses the request before the parse);
// the request allocates a small multiple of max_inflight_bytes at most, as
// /ingest does for the same bytes (too_large: never parsed).
//
// Actual: the element is parsed whole: ~200+ MiB allocated for one request
// of a few KiB.
func TestFirehoseLongRecordElementBound(t *testing.T) {
	const n = 600_000 // 7 bytes a value: 4.2 MB, above the density bound
	arr := "[" + strings.Repeat("100000,", n-1) + "100000]"
	rec := `{"data":"eyJ1c2VyIjoiYm9iIn0=","x":` + arr + `}`
	cfg := Config{MaxBodyBytes: 8 << 20, MaxInflightBytes: 8 << 20}

	f1 := newFixture(t, cfg, nil)
	ndAlloc, ndCode := secAllocs(func() int {
		return f1.do("POST", "/ingest", "", "["+rec+"]", "Content-Type", "application/json").Code
	})

	f := newFixture(t, cfg, nil)
	body := string(gz(t, `{"requestId":"`+fhID+`","timestamp":1578090901599,"records":[`+rec+`]}`))
	hdr := []string{firehoseRequestID, fhID, "Content-Type", "application/json", "Content-Encoding", "gzip"}
	fhAlloc, fhCode := secAllocs(func() int { return f.do("POST", "/firehose", "", body, hdr...).Code })
	t.Logf("/ingest (same record, %d bytes): %d, allocated %d MiB; /firehose (request of %d bytes gzip'd): %d, allocated %d MiB",
		len(rec), ndCode, ndAlloc>>20, len(body), fhCode, fhAlloc>>20)
	if fhAlloc > 64<<20 {
		t.Errorf("a %d-byte gzip'd Firehose request whose one record element is %d bytes with a value every 7 bytes allocated %d MiB (max_inflight_bytes 8 MiB; /ingest, same bytes: %d MiB): the element has no length bound and its cost is charged only after outer.ParseBytes(el)",
			len(body), len(rec), fhAlloc>>20, ndAlloc>>20)
	}
}
