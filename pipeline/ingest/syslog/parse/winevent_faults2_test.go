package parse

// Fault tests from a second review of 67c392a (Windows events as text:
// Sysmon's classic messages, XML text joined across comments/CDATA). Each
// failed before the fix of the fault it describes (the comments describe
// the code as it was found).

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// TestSysmonNamesWithDigits: sysmonData takes a line as "Name:
// value" only when Name is letters (sysmonName); any other line continues
// the value before it. Sysmon's own Data names are not all letters: event
// 3 (network connection) has SourceIsIpv6 and DestinationIsIpv6. What I
// did: a Sysmon 3 in Splunk's classic rendering, its message exactly as
// Sysmon renders it. What happens: winlog.event_data.Initiated is
// "true\r\nSourceIsIpv6: false" and SourcePortName "-\r\nDestinationIsIpv6:
// false"; SourceIsIpv6 and DestinationIsIpv6 are missing. What should
// happen: Initiated "true", SourceIsIpv6 "false", as the event's XML (and
// Winlogbeat) has them. Why it matters: Initiated is what the Sysmon
// network detections key on (Sigma's network_connection rules filter
// Initiated: 'true' for outbound connections); here it never equals
// "true" for any Sysmon 3 sent as WinEventLog, so those rules miss every
// one.
func TestSysmonNamesWithDigits(t *testing.T) {
	msg := []byte("LogName=Microsoft-Windows-Sysmon/Operational\r\nEventCode=3\r\nComputerName=WS01.corp.example.com\r\n" +
		"SourceName=Microsoft-Windows-Sysmon\r\nType=Information\r\nRecordNumber=4711\r\nTaskCategory=Network connection detected (rule: NetworkConnect)\r\n" +
		"Message=Network connection detected:\r\nRuleName: -\r\nUtcTime: 2026-11-28 10:00:00.000\r\nProcessGuid: {4b1f2e3a-0000-0000-0000-000000000001}\r\n" +
		"ProcessId: 1234\r\nImage: C:\\Windows\\System32\\rundll32.exe\r\nUser: CORP\\jdoe\r\nProtocol: tcp\r\nInitiated: true\r\n" +
		"SourceIsIpv6: false\r\nSourceIp: 10.0.0.5\r\nSourceHostname: ws01.corp.example.com\r\nSourcePort: 50000\r\nSourcePortName: -\r\n" +
		"DestinationIsIpv6: false\r\nDestinationIp: 198.51.100.9\r\nDestinationHostname: -\r\nDestinationPort: 443\r\nDestinationPortName: https\r\n")
	p := newTestParser()
	out, res := p.AppendJSON(nil, msg)
	checkOutput(t, p, msg, out, res)
	if res.Format != FormatWinClassic {
		t.Fatalf("not parsed as the classic form: %s", out)
	}
	v, err := fastjson.ParseBytes(out)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"Initiated": "true", "SourceIsIpv6": "false", "SourcePortName": "-", "DestinationIsIpv6": "false"} {
		if got := string(v.GetStringBytes("winlog", "event_data", k)); got != want {
			t.Errorf("winlog.event_data.%s = %q, want %q", k, got, want)
		}
	}
}

// TestXMLJoinBufferGrowsQuadratically: winPiece joins an element's
// text pieces in w.buf, which parseWinXML sizes to the event ("never
// longer than b, so spans into it stay valid while it fills"). But a
// span's "first piece" is any earlier text of the same field, not of the
// same element: a System field that occurs again is joined to the text it
// already has, and when another join came in between (joined() is false)
// that whole text is copied to w.buf's end again. What I did: an <Event>
// whose System repeats <EventID>1</EventID><Version>2</Version> to 64 KiB
// (the syslog input's default max_message_bytes). What happens: w.buf
// grows to about 3 MB, 45 times the event (the copies grow with every
// repetition: quadratic), and winlog.event_id is "111...1" (every
// occurrence concatenated; before 67c392a the last one counted). With
// HEC's default max_event_bytes (1 MiB) the same event makes w.buf about
// 750 MB, kept by the parser (the buffer is reused, never shrunk). What
// should happen: w.buf stays within the event's size, as the code says.
// Why it matters: one event from any HEC or syslog sender costs the
// parser memory quadratic in its size, held for the life of the worker
// (normalize keeps one text parser per Normalizer): a cheap denial of
// service, on top of the CPU to copy it.
func TestXMLJoinBufferGrowsQuadratically(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(`<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Channel>Security</Channel>`)
	for sb.Len() < 64<<10 {
		sb.WriteString(`<EventID>1</EventID><Version>2</Version>`)
	}
	sb.WriteString(`</System></Event>`)
	msg := []byte(sb.String())
	p := newTestParser()
	out, res := p.AppendJSON(nil, msg)
	checkOutput(t, p, msg, out, res)
	if res.Format != FormatWinXML {
		t.Fatalf("not parsed as XML: %.300s", out)
	}
	if c := cap(p.win.buf); c > 2*len(msg) {
		t.Errorf("parsing a %d-byte event grew the join buffer to %d bytes (%.0fx)", len(msg), c, float64(c)/float64(len(msg)))
	}
}
