package parse

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// TestKVDottedHeaderKeyReserved
//
// Input: a FortiGate key=value line (behind an RFC 3164 header) that also
// carries the pairs "event.dataset=windows.security" and
// "host.hostname=dc01".
//
// What the code does: markDups(true) refuses a pair whose key is exactly a
// header key (event, host, log, process, timestamp, logrouter), "for the same
// reason" as JSON (package doc: "A key=value key named like a header key ...
// is not written either"), and reservedKey also refuses "logrouter.<x>"
// because a dotted key "reads as logrouter.<x> too". But "event.dataset",
// "host.hostname", "log.syslog.severity.code" ... are written as literal
// top-level members next to the parser's own "event":{"dataset":...} and
// "host":{"hostname":...}. The normalizer (and OpenSearch) read a literal
// dotted key as the same field, and the normalizer's lookup tries the
// literal key first (normalize.findPath), so the rules see
// event.dataset = "windows.security" instead of the parser's
// "fortinet.fortigate", and host.hostname = "dc01" instead of "fw01".
//
// What it should do: treat "<header key>.<anything>" like the header key
// itself, as it already does for "logrouter.": not written as a field, the
// line kept in "message".
//
// Why it matters: event.dataset drives routing and P1/P2/P3 classification;
// any host that can send key=value syslog (or any value an attacker can get
// into a device's kv log) can relabel its events as another source type or
// another host, which the parser was explicitly designed to prevent.
func TestKVDottedHeaderKeyReserved(t *testing.T) {
	msg := `<189>Nov 28 10:00:00 fw01 date=2026-11-28 time=10:00:00 devname=FGT devid=FG100E logid=0000000013 event.dataset=windows.security host.hostname=dc01 srcip=1.2.3.4`
	p := New(Options{Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }})
	out, res := p.AppendJSON(nil, []byte(msg))
	if res.Format != FormatKV {
		t.Fatalf("not kv: %s", out)
	}
	v, err := fastjson.ParseBytes(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"event.dataset", "host.hostname"} {
		if v.Get(k) != nil {
			t.Errorf("pair %q written as a top-level member next to the parser's own field: %s", k, out)
		}
	}

	// What the rules see after normalization.
	c, err := normalize.Compile(normalize.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	meta := &pipeline.Meta{Input: "syslog", Protocol: "syslog-tcp", Peer: "10.0.0.1", IngestTime: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixNano()}
	em := &normalize.EventMeta{DefaultSourceType: []byte("syslog"), KeepOwnLogrouter: true}
	if _, _, err := n.Append(nil, v, nil, meta, em); err != nil {
		t.Fatal(err)
	}
	if got := string(n.Lookup("event.dataset").Str); got != "fortinet.fortigate" {
		t.Errorf("rules see event.dataset %q, want the parser's %q", got, "fortinet.fortigate")
	}
	if got := string(n.Lookup("host.hostname").Str); got != "fw01" {
		t.Errorf("rules see host.hostname %q, want the header's %q", got, "fw01")
	}
}
