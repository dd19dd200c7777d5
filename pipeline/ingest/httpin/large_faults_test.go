package httpin

// Review of d70ede4 (large.go: envelopes and API pages longer than
// max_event_bytes taken record by record), kept as tests once fixed: each
// failed on the code as reviewed; its comment says what was wrong, how it
// showed, and what is expected.

import (
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// TestLargeRecordParsedWhole: a record longer than max_event_bytes
// is parsed whole but for its largest member, by a parser of its own whose
// memory max_inflight_bytes never sees: one request of 4 MiB allocates
// hundreds of MiB.
//
// What is wrong: largeParts (and largeHECEnvelope) decide whether a large
// record is an envelope by parsing a "skeleton", the record with its
// largest member reduced to [{}] (the HEC envelope with its event reduced
// to {}), with a fresh fastjson.Parser. Whatever else the record holds is
// parsed whole, before normalize.Records can say it is no envelope. Any
// line (or array element, HEC raw line, HEC envelope around a real page)
// whose largest member is an array of objects qualifies: here
// {"a":[{"x":"<2 MiB>"}],"b":[0,0,0,... 1M numbers]}. Parsing "b" makes a
// million fastjson values: about 130 times the bytes, allocated outside
// max_inflight_bytes (the request's charge is its body) and outside the
// parser pool. Config.MaxEventBytes exists precisely so that such a
// record is "not parsed but quarantined" ("Parsing costs memory in
// proportion to a record's values (tens of times its size for a long
// array)"); before this commit it was. 128 concurrent requests of 10 MiB
// (the defaults) would allocate ~150 GiB.
//
// Reproduce: POST such a line to /ingest with max_inflight_bytes 64 MiB;
// compare runtime.MemStats.TotalAlloc around the request with the same
// line whose "a" is a plain string (not a candidate envelope).
//
// Expected: a record past max_event_bytes that is no envelope costs what
// the plain one does (a few times its size: the body buffer); the shape
// test should read only the members' keys and bounds (objMembers) and
// parse the non-records members only when they are few and short (a page's
// other members are a context URL, a link, a kind, a token), or bound the
// skeleton by max_event_bytes.
func TestLargeRecordParsedWhole(t *testing.T) {
	nums := strings.Repeat("0,", 1<<20) + "0"
	pad := strings.Repeat("p", 2<<20+100)
	plain := `{"a":"` + pad + `","b":[` + nums + `]}`
	crafted := `{"a":[{"x":"` + pad + `"}],"b":[` + nums + `]}`
	cost := func(path, body string) (uint64, *http.Response) {
		f := newFixture(t, Config{MaxInflightBytes: 64 << 20}, nil)
		f.do("POST", path, "", `{"warm":1}`)
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		w := f.do("POST", path, "", body)
		runtime.ReadMemStats(&m1)
		return m1.TotalAlloc - m0.TotalAlloc, w.Result()
	}
	base, _ := cost("/ingest", plain)
	for _, c := range []struct{ name, path, body string }{
		{"ndjson line, no envelope", "/ingest", crafted},
		{"hec raw line, no envelope", "/services/collector/raw", crafted},
		{"hec envelope of a real page, junk beside the event", "/services/collector/event", `{"b":[` + nums + `],"event":` + largeGraphPage(400) + `}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _ := cost(c.path, c.body)
			if limit := 16 * uint64(len(c.body)); got > limit {
				t.Errorf("one request of %d bytes allocated %d MiB (a plain record of that size: %d MiB; max_inflight_bytes 64 MiB): "+
					"the record past max_event_bytes was parsed (all but its largest member) by largeParts/largeHECEnvelope's own parser",
					len(c.body), got>>20, base>>20)
			}
		})
	}
}

// TestLargeHECEnvelopeBoundsSkipped: a HEC envelope whose event is a
// large page is taken without the bounds the event endpoint applies to an
// envelope: its other members (fields, anything) are neither depth- nor
// size-checked.
//
// What is wrong: on errEnvelopeTooLong, largeHECEnvelope parses the
// envelope with its event reduced to {} by a fresh parser, with no
// jsonscan.TooDeep and no max_event_bytes check; HECMeta then gives its
// "fields" to every record of the page. parseBounded, which every other
// envelope goes through, refuses an envelope nested deeper than
// jsonscan.MaxDepth (too_deep) and one longer than max_event_bytes.
//
// Reproduce: (1) {"fields":<an object nested 150 deep>,"event":<a Graph
// page of 40 sign-ins, past max_event_bytes 64 KiB>} is answered 200 and
// delivered as 40 events whose labels nest 150 levels; the same body with
// max_event_bytes raised to 8 MiB (the envelope under the bound) is
// quarantined whole as too_deep, 0 events. (2) {"fields":{"blob":"<200
// KiB>"},"event":<the page>} with max_event_bytes 64 KiB gives 40 events
// of ~207 KiB each: the envelope's metadata alone is three times
// max_event_bytes, parsed and copied into every event.
//
// Expected: the exemption is for the page's records, which are parsed
// one by one: the rest of the envelope must still pass the bounds an
// envelope does (too_deep for (1), as when it is under the bound; too_large
// for (2), the envelope without its event being longer than
// max_event_bytes), so that "the same events as under the bound" and "the
// nesting depth limit still holds" are true.
func TestLargeHECEnvelopeBoundsSkipped(t *testing.T) {
	small := Config{MaxEventBytes: 64 << 10}
	page := largeGraphPage(40)
	deep := strings.Repeat(`{"a":`, 150) + "1" + strings.Repeat("}", 150)
	t.Run("fields nested past the bound", func(t *testing.T) {
		body := `{"fields":` + deep + `,"event":` + page + `}`
		under := newFixture(t, Config{MaxEventBytes: 8 << 20}, nil)
		under.do("POST", "/services/collector/event", "", body)
		if rej := under.q.Records(); len(under.rec.Events()) != 0 || len(rej) != 1 || rej[0].Reason != "too_deep" {
			t.Fatalf("under the bound: %d events, %d quarantined; the test assumes too_deep", len(under.rec.Events()), len(rej))
		}
		f := newFixture(t, small, nil)
		w := f.do("POST", "/services/collector/event", "", body)
		if n := len(f.rec.Events()); n != 0 {
			t.Errorf("answer %d: %d events delivered, their labels nested %d levels (jsonscan.MaxDepth %d); under max_event_bytes the same envelope is quarantined as too_deep",
				w.Code, n, strings.Count(string(f.rec.Events()[0].Raw), `{"a":`), 128)
		}
	})
	t.Run("metadata longer than max_event_bytes", func(t *testing.T) {
		body := `{"fields":{"blob":"` + strings.Repeat("z", 200<<10) + `"},"event":` + page + `}`
		f := newFixture(t, small, nil)
		f.do("POST", "/services/collector/event", "", body)
		if evs := f.rec.Events(); len(evs) != 0 {
			t.Errorf("%d events of %d bytes each delivered: the envelope without its event (%d bytes) is past max_event_bytes (%d) and was parsed and copied into every event",
				len(evs), len(evs[0].Raw), len(body)-len(page), small.MaxEventBytes)
		}
	})
}

// TestLargeEnvelopeEscapedKey: a page whose records' key (or a HEC
// envelope whose "event" key) is written with a JSON escape is split
// under max_event_bytes but, past it, quarantined whole as too_large with
// its first max_event_bytes bytes: every record is lost (a truncated
// record cannot be replayed).
//
// What is wrong: largeParts looks the records' array up by the key as
// written (v.GetArray(string(key)), "an escaped key is not found: not
// split") while normalize.Records matches the decoded key; largeHECEnvelope
// compares the raw key with "event" (objMembers gives it as written)
// while the normal path's v.Get("event") decodes it. The commit's claim is
// exactly the same events as when the envelope is under the bound.
//
// Reproduce: POST a Graph page of 40 sign-ins written with "\u0076alue"
// to /ingest with max_event_bytes 64 KiB: 400, 0 events, one too_large
// record of 64 KiB; with max_event_bytes 8 MiB: 40 events. Same for
// {"\u0065vent":<page>} on /services/collector/event (and it answers 200).
//
// Expected: 40 events either way (compare keys decoded, as jkey does for
// OTLP/JSON).
func TestLargeEnvelopeEscapedKey(t *testing.T) {
	page := largeGraphPage(40)
	for _, c := range []struct{ name, path, body string }{
		{"records key", "/ingest", strings.Replace(page, `"value":[`, `"\u0076alue":[`, 1)},
		{"hec event key", "/services/collector/event", `{"\u0065vent":` + page + `}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			under := newFixture(t, Config{MaxEventBytes: 8 << 20}, nil)
			under.do("POST", c.path, "", c.body)
			if n := len(under.rec.Events()); n != 40 {
				t.Fatalf("under the bound: %d events; the test assumes 40", n)
			}
			f := newFixture(t, Config{MaxEventBytes: 64 << 10}, nil)
			w := f.do("POST", c.path, "", c.body)
			if n := len(f.rec.Events()); n != 40 {
				why := ""
				if rej := f.q.Records(); len(rej) > 0 {
					why = "; quarantined " + rej[0].Reason
				}
				t.Errorf("answer %d: %d events, want 40 as under the bound%s", w.Code, n, why)
			}
		})
	}
}

// TestLargeEmptyRecordsDropped: a batch envelope past
// max_event_bytes whose records' array is empty is answered 200
// {"accepted":0,"rejected":0}: it is neither delivered nor quarantined.
//
// What is wrong: largeParts accepts an array with no element (arrayEach
// calls nothing, so "objects" stays true) and asks normalize.Records about
// a skeleton that always has one record ([{}]); addLarge then adds nothing
// and reports it handled. Under the bound normalize.Records says an empty
// array is no envelope, and the object is one event.
//
// Reproduce: {"records":[<70 KiB of white space>]} to /ingest with
// max_event_bytes 64 KiB. (Unlikely input, but the record vanishes
// without a trace, the one outcome the router must never have.)
//
// Expected: as under the bound (one event), or at least quarantined
// (too_large), never dropped.
func TestLargeEmptyRecordsDropped(t *testing.T) {
	body := `{"records":[` + strings.Repeat(" ", 70<<10) + `]}`
	f := newFixture(t, Config{MaxEventBytes: 64 << 10}, nil)
	w := f.do("POST", "/ingest", "", body)
	if len(f.rec.Events()) == 0 && len(f.q.Records()) == 0 {
		t.Errorf("answer %d %s: the record was neither delivered nor quarantined (under the bound it is one event)", w.Code, w.Body)
	}
}
