package normalize

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// faultParseConfig is a config with one profile, "fw", whose parse has
// format syslog (as the starter firewall profiles), and maxFields fields.
func faultParseConfig(t *testing.T, maxFields int) *Compiled {
	t.Helper()
	if testTextParser == nil {
		t.Skip("no text parser (matcher_ext_test.go)")
	}
	cfg := DefaultConfig()
	cfg.MaxFields = maxFields
	cfg.NewTextParser = testTextParser
	cfg.Profiles = []ProfileSpec{{
		Name:   "fw",
		Parse:  &ParseSpec{Format: "syslog"},
		Rename: OrderedMap{Keys: []string{"srcip"}, Values: []string{"source.ip"}},
	}}
	c, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// reviewLongLine is a FortiGate-like key=value line with pairs extra
// pairs; with word it has a word that is not a pair, so the parser writes
// a "message" (the rest of MSG) before the pairs.
func reviewLongLine(pairs int, word bool) string {
	var b strings.Builder
	b.WriteString(`<189>date=2026-11-28 time=10:00:00 devid=FG100 logid=0000000013 srcip=10.0.0.5`)
	if word {
		b.WriteString(` truncated`)
	}
	for i := 0; i < pairs; i++ {
		fmt.Fprintf(&b, " k%d=v%d", i, i)
	}
	return b.String()
}

// TestParseTextOverflowRefusesEventWithHECFields
//
// What I did: a HEC text event (a firewall line, sourcetype selecting a
// profile with parse format syslog) whose line yields more fields than
// normalize.max_fields, sent with one HEC indexed field (fields:
// {"env":"prod"}, which every HEC client of a Splunk migration sets).
//
// What happened: Build returns ErrTooManyFields and the event is refused
// (quarantined). parseText hits the limit, clears n.err and says "the
// event is not refused for it", but leaves n.fields above the limit: the
// next walk (the HEC fields into labels) fails at its first member.
//
// What should happen: as parseText's comment and docs/schema.md promise,
// the line stays whole and the event is delivered; the same event without
// fields is delivered, so whether a line that overflows is refused depends
// on an unrelated envelope option.
//
// Why it matters: a device (or an attacker writing into a logged field:
// a URL, a user agent, a DNS name with many "a=b" words) can make every
// such event of a HEC sender with indexed fields go to quarantine instead
// of the SIEM.
func TestParseTextOverflowRefusesEventWithHECFields(t *testing.T) {
	c := faultParseConfig(t, 30)
	n := c.New()
	line := []byte(reviewLongLine(40, false))
	var p fastjson.Parser
	fields, err := p.Parse(`{"env":"prod"}`)
	if err != nil {
		t.Fatal(err)
	}
	// Without HEC fields: delivered with the line kept (the documented
	// behaviour).
	if _, _, err := n.Append(nil, nil, line, testMeta(), &EventMeta{SourceType: []byte("fw")}); err != nil {
		t.Fatalf("without HEC fields: %v", err)
	}
	out, _, err := n.Append(nil, nil, line, testMeta(), &EventMeta{SourceType: []byte("fw"), Fields: fields})
	if err != nil {
		t.Fatalf("the same line with one HEC indexed field is refused: %v (parseText left the field count over max_fields)", err)
	}
	if !strings.Contains(string(out), `"labels":{"env":"prod"}`) {
		t.Errorf("HEC field lost: %s", out)
	}
}

// TestParseTextOverflowWritesMessageTwice
//
// What I did: a text event with a firewall line that has one word that is
// not a key=value pair (so the syslog parser writes the rest of MSG as
// "message" before the pairs) and more pairs than normalize.max_fields.
//
// What happened: parseText marks the event's message removed and walks the
// parsed object: its "message" becomes a second node named message; then
// the limit is hit and parseText puts the original message back: the
// output has "message" twice in one object.
//
// What should happen: one "message" (the line, left whole, as parseText's
// comment says).
//
// Why it matters: OpenSearch (Jackson with strict duplicate detection)
// refuses a document with a duplicate key (mapper_parsing_exception:
// Duplicate field 'message'), so the event is lost from the index, and
// SIEMs' JSON parsers keep one of the two values arbitrarily.
func TestParseTextOverflowWritesMessageTwice(t *testing.T) {
	c := faultParseConfig(t, 30)
	n := c.New()
	line := reviewLongLine(40, true)
	out, _, err := n.Append(nil, nil, []byte(line), testMeta(), &EventMeta{SourceType: []byte("fw")})
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if k := strings.Count(string(out), `"message":`); k != 1 {
		t.Errorf(`%d "message" keys in one object: %s`, k, out)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if m["message"] != line {
		t.Errorf("message %q, want the line kept whole", m["message"])
	}
}

// TestParsePANOSLineAllocates
//
// What I did: a PAN-OS TRAFFIC line sent as text with Splunk's pan:traffic
// (the starter profiles, the normalizer reused: steady state), as
// rules/49-splunk-sourcetypes_test.yaml sends it.
//
// What happened: two heap allocations per event, one per address the
// profile converts (source.ip, destination.ip: ip): convert writes the
// address with AppendTo(n.scratch[:0]); n.scratch
// has no capacity for this profile (nothing else grows it: no join
// timestamp, no number marshalled), and the grown buffer is dropped, so
// every event allocates again. TestProfileParseSyslog's zero-allocation
// check uses a profile without converts, so it does not see it.
//
// What should happen: commit 75d4b64 says parse format syslog does "no
// allocation per event" (and TestProfilesZeroAllocs holds the starters to
// zero); a PAN-OS line through paloalto.panos, the feature's main use,
// should be zero too.
//
// Why it matters: PAN-OS traffic logs are the highest-volume source most
// security teams have (tens of thousands per second); the hot path's
// zero-allocation design (docs/performance) is what keeps GC pauses and
// memory flat at that rate.
func TestParsePANOSLineAllocates(t *testing.T) {
	if testTextParser == nil {
		t.Skip("no text parser (matcher_ext_test.go)")
	}
	if raceEnabled {
		t.Skip("allocations differ under -race")
	}
	cfg := testConfig()
	cfg.Profiles = starterProfiles(t)
	cfg.CompileMatcher = testMatcher
	cfg.NewTextParser = testTextParser
	c, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	line := []byte(`1,2026/11/28 10:00:00,007954000123456,TRAFFIC,end,2561,2026/11/28 10:00:00,10.20.72.226,94.180.6.63,0.0.0.0,0.0.0.0,allow-web-outbound,corp\mschmidt,,web-browsing,vsys1,trust,untrust,ethernet1/2,ethernet1/1,log-fwd,2026/11/28 10:00:00,12345,1,62464,80,0,0,0x400064,tcp,allow,1518158,78,1518080`)
	em := &EventMeta{SourceType: []byte("pan:traffic")}
	dst, bm := make([]byte, 0, 8192), testMeta()
	run := func() { dst, _, _ = n.Append(dst[:0], nil, line, bm, em) }
	run()
	run()
	if !strings.Contains(string(dst), `"source":{"ip":"10.20.72.226"`) {
		t.Fatalf("not parsed: %s", dst)
	}
	if a := testing.AllocsPerRun(100, run); a != 0 {
		t.Errorf("%.1f allocations per PAN-OS line parsed with format syslog (pan:traffic)", a)
	}
}
