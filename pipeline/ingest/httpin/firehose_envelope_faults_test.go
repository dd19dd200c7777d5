package httpin

import (
	"net/http"
	"strings"
	"testing"
)

// TestFirehoseEscapedKeys: cd24095 walks the Firehose envelope with
// jsonscan.Members, which hands over each key "as written (between its
// quotes, escapes included)", and compares it with string(k) == "records".
// A body whose "records" key is written with a JSON escape (valid JSON,
// the same document) is then answered 400 "the body has no records
// array"; before cd24095 fastjson decoded the key and took the records.
// The OTLP walker (jkey) and large.go (isKey) decode escaped keys; this
// walker and the HEC ack poll walker (hecack.go: string(k) == "acks") do
// not: the same escaped key on an ack poll is answered 400 code 6. Firehose itself writes plain keys, so this only bites a relay or
// test client that escapes; low severity.
func TestFirehoseEscapedKeys(t *testing.T) {
	hdr := []string{firehoseRequestID, fhID, "Content-Type", "application/json"}
	body := `{"requestId":"` + fhID + `","timestamp":1578090901599,"\u0072ecords":[{"data":"eyJ1c2VyIjoiYm9iIn0="}]}`
	f := newFixture(t, Config{}, nil)
	w := f.do("POST", "/firehose", "", body, hdr...)
	if w.Code != http.StatusOK || len(f.rec.Events()) != 1 {
		t.Errorf("a Firehose request whose \"records\" key is written \\u0072ecords (valid JSON): answered %d %s, %d events delivered; want 200 and the record delivered",
			w.Code, w.Body, len(f.rec.Events()))
	}

	// The HEC acknowledgement poll, walked the same way since cd24095.
	fa := newFixture(t, Config{Tokens: []Token{{Name: "kc", Token: "tok-ack-0123456789", Ack: true}}}, nil)
	wa := fa.do("POST", "/services/collector/ack", "Splunk tok-ack-0123456789", `{"\u0061cks":[0,1]}`,
		"X-Splunk-Request-Channel", "0aa2b8a1-3f4e-4b5d-9c6e-7f8091a2b3c4")
	if wa.Code != http.StatusOK {
		t.Errorf("an ack poll {\"\\u0061cks\":[0,1]} (valid JSON, the key \"acks\"): answered %d %s; want 200 {\"acks\":{\"0\":true,\"1\":true}}", wa.Code, wa.Body)
	}
}

// TestFirehoseOneDenseRecordElement: cd24095 walks the records array
// so that "a records array of numbers" is no longer parsed whole, but each
// element is still parsed whole by outer.ParseBytes(el), with no size,
// depth or density bound and nothing charged: one element that is itself
// the dense array ({"records":[[0,0,0,...]]}, or {"data":"..","x":[0,...]})
// costs what the whole body did before the fix. A ~1 KiB gzip'd request
// (1 MiB decoded) allocates ~230 MiB, with max_inflight_bytes 8 MiB, where
// /ingest refuses the same bytes for a few MiB. At the default
// max_body_bytes (32 MiB) one ~32 KiB request costs several GiB.
func TestFirehoseOneDenseRecordElement(t *testing.T) {
	const n = 1 << 19
	arr := "[" + strings.Repeat("0,", n-1) + "0]"
	cfg := Config{MaxBodyBytes: 8 << 20, MaxInflightBytes: 8 << 20}
	f := newFixture(t, cfg, nil)
	ndAlloc, ndCode := secAllocs(func() int {
		return f.do("POST", "/ingest", "", "["+arr+"]", "Content-Type", "application/json").Code
	})
	for _, c := range []struct{ name, records string }{
		{"an array element", "[" + arr + "]"},
		{"a record object with a dense member", `[{"data":"eyJ1c2VyIjoiYm9iIn0=","x":` + arr + `}]`},
	} {
		f2 := newFixture(t, cfg, nil)
		body := string(gz(t, `{"requestId":"`+fhID+`","timestamp":1578090901599,"records":`+c.records+`}`))
		hdr := []string{firehoseRequestID, fhID, "Content-Type", "application/json", "Content-Encoding", "gzip"}
		fhAlloc, fhCode := secAllocs(func() int { return f2.do("POST", "/firehose", "", body, hdr...).Code })
		t.Logf("%s: /ingest (same array): %d, allocated %d MiB; /firehose (request of %d bytes): %d, allocated %d MiB",
			c.name, ndCode, ndAlloc>>20, len(body), fhCode, fhAlloc>>20)
		if fhAlloc > 64<<20 {
			t.Errorf("%s: a %d-byte gzip'd Firehose request whose one record is 1 MiB of \"0,\" allocated %d MiB (max_inflight_bytes 8 MiB; /ingest, same bytes: %d MiB): the record element is parsed whole by outer.ParseBytes(el), unbounded and uncharged",
				c.name, len(body), fhAlloc>>20, ndAlloc>>20)
		}
	}
}
