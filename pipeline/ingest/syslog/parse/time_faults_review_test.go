package parse

// A review of how event times are read, end to end (syslog parser side).
// Each test fails against the code as found and passes once the fault it
// describes is fixed.

import (
	"testing"
	"time"
)

// TestReview17tSnareWallClockOverridesZonedHeader
//
// What is wrong: a Snare for Windows event with an RFC 5424 header is
// dated by its payload's DateTime, a wall-clock time without a zone read
// in Options.Location (UTC by default), even though the header carries
// the exact instant with its offset. parseSnare (snare.go) sets
// pl.hasTime unconditionally, and AppendJSON (parse.go) writes the
// payload's time before the header's. With the agent at UTC+01:00, the
// event below, sent at 08:00:01+01:00 (07:00:01Z) and received 29 s
// later, is dated 08:00:00Z: an hour after it was sent and received, in
// the next hour's archive partition and, near midnight, the next day's
// OpenSearch index, and an hour away from the logon's other evidence in
// the SIEM. The same happens to Splunk's classic WinEventLog rendering
// ("11/30/2026 08:00:00 AM", winclassic.go/classicTime) behind a zoned
// header.
//
// Real source: Snare Agent for Windows v5 destinations offer the formats
// "SYSLOG (RFC3164)", "SYSLOG Alt (RFC5424 Compatible)" and "SYSLOG
// (RFC5424)" (Snare's "Destination Configuration" page); the payload is
// "MSWinEventLog<TAB>criticality<TAB>logname<TAB>counter<TAB>DateTime
// <TAB>event id..." with DateTime like "Thu Mar 06 17:44:29 2025", the
// host's local time (Snare's "Appendix A - Windows Event Output Format").
//
// Expected: the rule the parser applies to FortiGate's date/time without
// tz (kv.go: "Without tz, date/time are in Options.Location: they replace
// only a header time that has no zone of its own either"; header.go: a
// header time without an offset is "replaceable by a zoned payload time",
// not the other way round; TestFortiGateJoinOverridesSyslogTime). A
// wall-clock payload time must not replace a zoned header: the timestamp
// is 07:00:01Z (the header), or 07:00:00Z (the DateTime read at the
// header's offset), never 08:00:00Z.
func TestReview17tSnareWallClockOverridesZonedHeader(t *testing.T) {
	recv := time.Date(2026, 11, 30, 7, 0, 30, 0, time.UTC)
	msg := "<14>1 2026-11-30T08:00:01.000+01:00 WIN-DC01 MSWinEventLog - - - MSWinEventLog\t1\tSecurity\t472890\t" +
		"Mon Nov 30 08:00:00 2026\t4624\tMicrosoft-Windows-Security-Auditing\tCORP\\jdoe\tN/A\tSuccess Audit\tWIN-DC01\t" +
		"Logon\t\tAn account was successfully logged on.\t1"
	p := New(Options{Now: func() time.Time { return recv }})
	out, r := p.AppendJSON(nil, []byte(msg))
	if r.Format != "snare" {
		t.Fatalf("precondition: payload format %q, want snare\n%s", r.Format, out)
	}
	got := field(t, out, "timestamp")
	if got != `"2026-11-30T07:00:01.000Z"` && got != `"2026-11-30T07:00:00.000Z"` {
		t.Errorf("timestamp %s, want 2026-11-30T07:00:01.000Z (the zoned header) or 07:00:00Z (DateTime at the header's offset): "+
			"the wall-clock DateTime read as UTC replaced the header's exact time\n%s", got, out)
	}
}
