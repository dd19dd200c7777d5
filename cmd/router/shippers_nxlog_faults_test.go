package main

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestNXLogRecipeDoesNotStampLocalTimeAsUTC: docs/shippers.md
// ("NXLog (Windows event logs)") tells SOC engineers to send
//
//	Exec $EventTime = strftime($EventTime, '%Y-%m-%dT%H:%M:%SZ'); to_json();
//
// "to send it as UTC" (the same advice is in rules/profiles/40-os.yaml).
// NXLog's strftime() with a C strftime format renders the datetime in the
// host's LOCAL time zone (NXLog docs, "Format timestamps": "uses the
// strftime() function to convert $EventTime to a string in the local time
// zone"; UTC needs the YYYY-MM-DDThh:mm:ssUTC formats or DateFormat
// YYYY-MM-DDThh:mm:ss.sUTC, "Preserve timestamps across time zones",
// https://docs.nxlog.co/platform/current/log-collection/how-to/format-timestamps.html).
// The literal "Z" then labels local wall-clock time as UTC: on a host at
// UTC+1 a 10:00Z logon is sent as "11:00:00Z" and logrouter (correctly)
// takes it as 11:00Z. Without the Exec, NXLog's default xm_json DateFormat
// (YYYY-MM-DDThh:mm:ss.sTZ, local time WITH its offset, e.g.
// "2024-02-22T20:38:56.221331+01:00") would have given the right
// @timestamp. Shipper: NXLog (every Windows channel). Analyst loses: the
// right @timestamp (off by the host's UTC offset, silently, with no way to
// tell from the event) - timelines across DC and endpoints misordered,
// correlation windows missed.
func TestNXLogRecipeDoesNotStampLocalTimeAsUTC(t *testing.T) {
	raw, err := os.ReadFile("../../docs/shippers.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i := strings.Index(doc, "## NXLog")
	if i < 0 {
		t.Skip("no NXLog section")
	}
	sec := doc[i:]
	if j := strings.Index(sec[3:], "\n## "); j >= 0 {
		sec = sec[:j+3]
	}
	// strftime with a C format (it has '%') whose output ends in a literal Z
	// or +00:00: local time written as if it were UTC.
	re := regexp.MustCompile(`strftime\(\s*\$\w+\s*,\s*'[^']*%[^']*(Z|\+00:?00)'\s*\)`)
	if m := re.FindString(sec); m != "" {
		t.Errorf("docs/shippers.md NXLog section recommends %s: NXLog renders a C strftime format in the host's local time, so the literal Z mislabels local time as UTC (use DateFormat YYYY-MM-DDThh:mm:ss.sUTC, a ...UTC strftime format, or NXLog's default zoned format)", m)
	}
}
