package route_test

// A review: allocations left on convert's paths after b31210d's
// pre-checks (decimalText, addrText in pipeline/normalize/profile.go).
// Each test fails on the code as found; the comments describe that code.
// profileAllocs is in profile_allocs_faults_test.go.

import (
	"fmt"
	"testing"

	"github.com/logrouter/logrouter/pipeline"
)

// fortigateDeny is TestUnconvertedZeroAllocs' FortiGate event (P2) with
// srcip and srcport left to fill.
const fortigateDeny = `{"date": "2026-11-28", "time": "01:00:00", "devname": "FGT-HQ-FRA-01", "devid": "FG100FTK22004317", "logid": "0000000013", "type": "traffic", "subtype": "forward", "level": "notice", "vd": "root", "srcip": %s, "srcport": %s, "dstip": "34.107.221.82", "dstport": 443, "action": "deny"}`

// TestPrecheckPassesUnparsableTexts
//
// What is wrong: b31210d stops failed parses from allocating their errors
// by parsing only texts that "can be" a number or an address, but the
// pre-checks test the characters, not the form: decimalText passes any
// mix of digits, signs, '.', 'e' and 'E', addrText any mix of hex digits,
// '.' and ':'. So a port range "1024-65535" (also dates, "1.2.3",
// addresses in a port field) still reaches strconv.ParseInt and
// strconv.ParseFloat, which allocate a NumError and a copy of the text
// each (4 allocations per event); an address with its port
// "10.0.0.1:51234", or a name made of hex letters ("cafe", "dc01",
// "fade"), still reaches netip.ParseAddr, whose error is boxed (1 per
// event). Every such event then sets the value aside.
//
// How to reproduce: the embedded example router; the FortiGate deny event
// of TestUnconvertedZeroAllocs with srcport "1024-65535", or srcip
// "10.0.0.1:51234" or "cafe"; 100 per batch, AllocsPerRun.
//
// Expected: 0 (normalize.go package doc: "Nothing here allocates per event
// in steady state"; the commit: "failed conversions allocated their parse
// errors on the hot path ... texts that cannot be a number or an address
// are no longer parsed"). A sender decides these values: the allocation
// per event the fix was for is still one field value away.
func TestPrecheckPassesUnparsableTexts(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	for _, c := range []struct{ srcip, srcport string }{
		{`"10.0.0.1"`, `"1024-65535"`},
		{`"10.0.0.1:51234"`, `49538`},
		{`"cafe"`, `49538`},
	} {
		ev := []byte(fmt.Sprintf(fortigateDeny, c.srcip, c.srcport))
		if a := profileAllocs(t, ev, "fortinet.fortigate", pipeline.P2); a != 0 {
			t.Errorf("srcip %s srcport %s: %.1f allocations per batch of 100 events, want 0 (%.1f per event)", c.srcip, c.srcport, a, a/100)
		}
	}
}

// TestConvertBoolZeroAllocs
//
// What is wrong: convert (profile.go) reads a JSON true or false as
// s = []byte("true") / []byte("false"). s flows into netip.ParseAddr(b2s(s))
// (convIP), which keeps its input in its error, so escape analysis moves
// both literals to the heap: `go build -gcflags=-m` says
// "([]byte)("true") escapes to heap" at profile.go's TypeTrue case. Every
// conversion of a boolean (to int, ip, bool ...) allocates, whatever the
// pre-checks then decide; since 12f05ad such a value is also set aside on
// this path, which b31210d meant to be free of allocations.
//
// How to reproduce: the FortiGate deny event with "srcport": true (the
// profile converts source.port to int); 100 per batch, AllocsPerRun.
//
// Expected: 0 allocations per event (normalize.go package doc). The
// words can be package-level byte slices (textTrue/textFalse, which textOf
// already uses).
func TestConvertBoolZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	ev := []byte(fmt.Sprintf(fortigateDeny, `"10.0.0.1"`, `true`))
	if a := profileAllocs(t, ev, "fortinet.fortigate", pipeline.P2); a != 0 {
		t.Errorf("%.1f allocations per batch of 100 events with a boolean srcport, want 0 (%.1f per event)", a, a/100)
	}
}

// TestConvertIntExponentZeroAllocs
//
// What is wrong: convInt (profile.go) tries strconv.ParseInt on
// intPart(s) first and falls back to strconv.ParseFloat for "4.2e1"
// (its comment: `"4.2e1"; past 2^53 ...`). For every value written with an
// exponent or a fraction the first parse fails and allocates its NumError
// and a copy of the text (2 allocations), although the conversion then
// succeeds (42). decimalText does not help: the text is a number.
//
// How to reproduce: the FortiGate deny event with "srcport": "4.2e1" (or
// the JSON number 4.2e1); 100 per batch, AllocsPerRun.
//
// Expected: 0 allocations per event for a value that converts (normalize.go
// package doc: "Nothing here allocates per event in steady state"); e.g.
// parse with ParseInt only when s has no '.', 'e' or 'E' beyond intPart.
func TestConvertIntExponentZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	for _, port := range []string{`"4.2e1"`, `4.2e1`} {
		ev := []byte(fmt.Sprintf(fortigateDeny, `"10.0.0.1"`, port))
		if a := profileAllocs(t, ev, "fortinet.fortigate", pipeline.P2); a != 0 {
			t.Errorf("srcport %s (converts to 42): %.1f allocations per batch of 100 events, want 0 (%.1f per event)", port, a, a/100)
		}
	}
}
