package httpin

import (
	"fmt"
	"testing"
	"time"
)

// TestOTLPFieldsDropQuadratic: a record attribute replaces the
// resource's of the same key (the exporter's fields are a map), which is
// what otlpEnvelope.fieldKey does - but by drop(), which removes the
// earlier member from the middle of env.buf (copying every byte written
// after it) and then walks every later span to shift it. A record whose
// attributes repeat its resource's keys (the case the de-duplication is
// for: k8s/host attributes set on both) therefore costs O(K²) in its K
// attributes: here 45000 resource attributes and the same 45000 keys on
// the record (~1.35 MB of protobuf) take several times as long as the same
// request whose record keys differ (twice as many fields, no
// replacement); at max_event_bytes 4 MiB it is seconds of CPU a record,
// repeated by every record of the request (each writes the resource's
// attributes again), while the exporter's map assignment is O(1) a key.
// Expected: replacing a member costs O(1) amortized (mark it dead and skip
// it when the envelope is finished, or collect the members in a map and
// write them once), so replacement costs no more than distinct keys.
func TestOTLPFieldsDropQuadratic(t *testing.T) {
	const k = 45000
	run := func(same bool) time.Duration {
		var res, attrs [][]byte
		for i := range k {
			res = append(res, pbKV(fmt.Sprintf("a%05d", i), pbStr("v")))
			key := fmt.Sprintf("a%05d", i)
			if !same {
				key = fmt.Sprintf("b%05d", i)
			}
			attrs = append(attrs, pbKV(key, pbStr("w")))
		}
		body := pbRequest(res, [][]byte{pbRecord("x", attrs)})
		f := newFixture(t, Config{MaxEventBytes: 4 << 20}, nil)
		st := time.Now()
		w := f.postOTLP(body, "application/x-protobuf")
		d := time.Since(st)
		t.Logf("record keys same as the resource's %v: body %d bytes, answered %d in %v, %d events, quarantine %v", same, len(body), w.Code, d, len(f.rec.Events()), otlpReasons(f))
		return d
	}
	distinct := run(false)
	replaced := run(true)
	if replaced > 3*distinct {
		t.Errorf("%d record attributes replacing the resource's took %v, %.1fx the %v of %d distinct ones (twice the fields): replacing a field is O(fields)",
			k, replaced, float64(replaced)/float64(distinct), distinct, k)
	}
}

// TestOTLPResourceRewalkedPerRecord: every log record's envelope is
// written from scratch, its resource's attributes included (recordProto:
// attrsProto(rb, 1) per record; recordJSON: attrsJSON(resAttrs) per
// record). Before e4e6dbe every resource attribute became a member of each
// envelope, so the work per record grew the request's output, and
// max_normalized_bytes (or, for refused envelopes, rejBytes) bounded it.
// With the fields de-duplication a resource of K attributes under ONE key
// (the same for K empty maps, which flatten to nothing) collapses to one
// member: each record still walks the K attributes (K fieldKey/drop, a map
// insert each) but adds ~200 bytes, so no limit stops the request. Here a
// 450 KB request (20000 copies of one resource attribute, 1000 one-letter
// records) takes hundreds of times as long as the same records under a
// resource holding that attribute once (identical events): ~3.5 ms a
// record. At the defaults a 0.5 MB resource of a one-letter key and
// 104857 records (max_events_per_request) are over 10 minutes of CPU for
// one ~1 MB request, 128 of them at once (max_concurrent_requests).
// Expected: a resource's fields are computed once per resource (and copied
// into each record's envelope), or the work counted against a limit, so
// that the same events cost about the same however the resource is
// written.
func TestOTLPResourceRewalkedPerRecord(t *testing.T) {
	const k, n = 20000, 1000
	run := func(copies int) time.Duration {
		var res, recs [][]byte
		for range copies {
			res = append(res, pbKV("k8s.pod.label", pbStr("v")))
		}
		for range n {
			recs = append(recs, pbRecord("x", nil))
		}
		body := pbRequest(res, recs)
		f := newFixture(t, Config{}, nil)
		st := time.Now()
		w := f.postOTLP(body, "application/x-protobuf")
		d := time.Since(st)
		t.Logf("resource attribute written %d times: body %d bytes, answered %d in %v, %d events", copies, len(body), w.Code, d, len(f.rec.Events()))
		if w.Code != 200 || len(f.rec.Events()) != n {
			t.Fatalf("want %d events", n)
		}
		return d
	}
	once := run(1)
	many := run(k)
	if many > 20*once+250*time.Millisecond {
		t.Errorf("%d records under a resource of %d copies of one attribute took %v (%v under the same resource written once, the same events): the resource is walked again for every record, unbounded by any limit",
			n, k, many, once)
	}
}
