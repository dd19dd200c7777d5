package parse

import (
	"bytes"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the time zone tests run without a system zoneinfo

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline/normalize"
)

// field returns the JSON text of the value at a dotted path of out ("" when
// absent). Keys containing dots cannot be addressed; the tests avoid them.
func field(t *testing.T, out []byte, path string) string {
	t.Helper()
	v, err := fastjson.ParseBytes(out)
	if err != nil {
		t.Fatalf("invalid output %s: %v", out, err)
	}
	v = v.Get(strings.Split(path, ".")...)
	if v == nil {
		return ""
	}
	return v.String()
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	if name == "UTC+14" {
		return time.FixedZone(name, 14*3600)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s unavailable: %v", name, err)
	}
	return loc
}

func TestYearBoundary(t *testing.T) {
	tests := []struct {
		name     string
		loc      string
		received string
		msg      string
		want     string
	}{
		{"dec31 received jan1", "UTC", "2027-01-01T00:00:05Z", "<13>Dec 31 23:59:59 h app: x", "2026-12-31T23:59:59.000Z"},
		{"jan1 received dec31", "UTC", "2026-12-31T23:59:58Z", "<13>Jan  1 00:00:01 h app: x", "2027-01-01T00:00:01.000Z"},
		{"same day", "UTC", "2026-06-15T12:00:00Z", "<13>Jun 15 11:00:00 h app: x", "2026-06-15T11:00:00.000Z"},
		// Asia/Tokyo is UTC+9: 2027-01-01T00:00:05Z is 09:00:05 on Jan 1 there.
		{"tokyo dec31 received jan1", "Asia/Tokyo", "2027-01-01T00:00:05Z", "<13>Dec 31 23:59:59 h app: x", "2026-12-31T14:59:59.000Z"},
		// 2026-12-31T14:59:58Z is 23:59:58 on Dec 31 in Tokyo.
		{"tokyo jan1 received dec31", "Asia/Tokyo", "2026-12-31T14:59:58Z", "<13>Jan  1 00:00:01 h app: x", "2026-12-31T15:00:01.000Z"},
		// New York, EST (UTC-5): it is already 2027 in UTC but not locally.
		{"new york dec31 late", "America/New_York", "2027-01-01T04:59:59Z", "<13>Dec 31 23:59:58 h app: x", "2027-01-01T04:59:58.000Z"},
		{"new york jan1 received dec31", "America/New_York", "2027-01-01T04:59:58Z", "<13>Jan  1 00:00:01 h app: x", "2027-01-01T05:00:01.000Z"},
		// Daylight saving time: EDT is UTC-4.
		{"new york summer", "America/New_York", "2026-07-04T16:00:00Z", "<13>Jul  4 12:00:00 h app: x", "2026-07-04T16:00:00.000Z"},
		// A timestamp with its own zone or offset ignores Location.
		{"explicit zone", "America/New_York", "2026-07-04T16:00:00Z", "<13>Jul  4 12:00:00 UTC h app: x", "2026-07-04T12:00:00.000Z"},
		{"iso offset", "America/New_York", "2026-07-04T16:00:00Z", "<13>2026-07-04T12:00:00+02:00 h app: x", "2026-07-04T10:00:00.000Z"},
		{"iso no zone", "America/New_York", "2026-07-04T16:00:00Z", "<13>2026-07-04T12:00:00 h app: x", "2026-07-04T16:00:00.000Z"},
		{"cisco year", "America/New_York", "2026-12-01T00:00:00Z", "<166>Nov 28 2026 10:00:00: %ASA-6-113004: x", "2026-11-28T15:00:00.000Z"},
		{"rfc3164 5.4 zone and year", "UTC", "2026-12-01T00:00:00Z", "<165>Aug 24 05:34:00 CST 1987 h p[10]: x", "1987-08-24T11:34:00.000Z"},
		// Half a year away the past wins, whichever is nearer: at
		// 2026-07-02T05:00Z Jan 1 00:00 in UTC+14 is 2026's (2025-12-31T10:00Z,
		// 182d19h back), not 2027's (182d5h ahead): logs come from the past.
		{"half year in utc+14", "UTC+14", "2026-07-02T05:00:00Z", "<13>Jan  1 00:00:00 h app: x", "2025-12-31T10:00:00.000Z"},
		// A backfill: "May 14" read on Nov 30 is this year's, although next
		// May is nearer; a sender's clock a little ahead over New Year
		// still gets the new year.
		{"backfill", "UTC", "2026-11-30T12:00:00Z", "<13>May 14 10:00:00 h app: x", "2026-05-14T10:00:00.000Z"},
		{"clock ahead over new year", "UTC", "2026-12-31T23:59:00Z", "<13>Jan  1 00:01:00 h app: x", "2027-01-01T00:01:00.000Z"},
		{"half year in utc", "UTC", "2026-07-02T05:00:00Z", "<13>Jan  1 00:00:00 h app: x", "2026-01-01T00:00:00.000Z"},
		// RFC 5424 carries its offset: Location does not apply.
		{"rfc5424", "Asia/Tokyo", "2026-12-01T00:00:00Z", "<13>1 2026-11-28T10:00:00Z h app - - - x", "2026-11-28T10:00:00.000Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now, err := time.Parse(time.RFC3339, tt.received)
			if err != nil {
				t.Fatal(err)
			}
			p := New(Options{Location: mustLoad(t, tt.loc), Now: func() time.Time { return now }})
			out, _ := p.AppendJSON(nil, []byte(tt.msg))
			if got := field(t, out, "timestamp"); got != `"`+tt.want+`"` {
				t.Errorf("timestamp %s, want %s\n%s", got, tt.want, out)
			}
		})
	}
}

// TestFields checks specific fields of specific messages.
func TestFields(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want map[string]string // path -> JSON text; "" = absent
	}{
		{"pri max", "<191>1 - - - - - - x", map[string]string{
			"log.syslog.facility.name": `"local7"`, "log.syslog.severity.name": `"debug"`, "logrouter.parse_status": `"rfc5424"`}},
		{"pri zero", "<0>Nov 28 10:00:00 h x", map[string]string{"log.syslog.priority": "0", "host.hostname": `"h"`}},
		{"pri 00", "<00>1 - - - - - - x", map[string]string{"logrouter.parse_status": `"raw"`, "log": ""}},
		{"pri 4 digits", "<1000>1 - - - - - - x", map[string]string{"logrouter.parse_status": `"raw"`}},
		{"version 0", "<13>0 - - - - - - x", map[string]string{"logrouter.parse_status": `"rfc3164"`, "message": `"0 - - - - - - x"`}},
		{"nil timestamp", "<13>1 - h a p m - x", map[string]string{"timestamp": "", "host.hostname": `"h"`, "process.pid": "", "process.entity_id": `"p"`}},
		{"pid leading zero", "<13>1 - h a 0123 - - x", map[string]string{"process.entity_id": `"0123"`, "process.pid": ""}},
		{"pid only", "<13>1 - - - 77 - - x", map[string]string{"process.pid": "77", "process.name": ""}},
		{"sd no space before msg", `<13>1 - h a - - [x@1 a="b"]msg`, map[string]string{
			"log.syslog.structured_data": "", "message": `"[x@1 a=\"b\"]msg"`}},
		{"sd unicode value", `<13>1 - h a - - [x@1 a="é\\\""] m`, map[string]string{"log.syslog.structured_data.x@1.a": `"é\\\""`}},
		{"bom only 5424", "<13>1 - h a - - - \xef\xbb\xbf", map[string]string{"message": ""}},
		{"cisco host colon", "<166>Nov 28 2026 10:00:30 asa-fw01 : %ASA-6-302014: Teardown TCP connection 1 for outside:1.2.3.4/5 to inside:10.0.0.1/80 duration 0:00:01 bytes 1", map[string]string{
			"host.hostname": `"asa-fw01"`, "source.ip": `"1.2.3.4"`, "source.port": "5", "destination.port": "80", "event.action": `"teardown"`}},
		{"asa outbound swaps", "%ASA-6-302013: Built outbound TCP connection 1 for outside:8.8.8.8/443 (8.8.8.8/443) to inside:10.0.0.1/5000 (1.1.1.1/6000)", map[string]string{
			"source.ip": `"10.0.0.1"`, "source.port": "5000", "destination.ip": `"8.8.8.8"`, "destination.port": "443"}},
		{"asa non numeric port", "%ASA-6-302013: Built inbound TCP connection 1 for outside:8.8.8.8/http (8.8.8.8/80) to inside:10.0.0.1/99999 (1.1.1.1/6000)", map[string]string{
			"source.port": "", "destination.port": "", "source.ip": `"8.8.8.8"`}},
		{"asa unknown id", "%ASA-3-999999: whatever", map[string]string{"cisco.asa.message_id": `"999999"`, "cisco.asa.severity": "3", "source": "", "event.action": "", "message": `"whatever"`}},
		{"ftd", "%FTD-1-106023: Deny udp src a:1.1.1.1/1 dst b:2.2.2.2/2 by access-group \"x\"", map[string]string{
			"cisco.ftd.message_id": `"106023"`, "event.dataset": `"cisco.ftd"`, "event.action": `"deny"`}},
		{"forti tz", `date=2026-11-28 time=10:00:00 devname="x" devid="FGT1" tz="-0800" a=b`, map[string]string{
			"timestamp": `"2026-11-28T18:00:00.000Z"`, "event.dataset": `"fortinet.fortigate"`, "message": ""}},
		{"forti no tz keeps zoned header", `<189>1 2026-11-28T10:00:00-08:00 h - - - - date=2026-11-28 time=10:00:00 devname="x" devid="FGT1" a=b`, map[string]string{
			"timestamp": `"2026-11-28T18:00:00.000Z"`}},
		{"forti no tz replaces 3164 header", `<189>Nov 28 10:00:09 h date=2026-11-28 time=10:00:00 devname="x" devid="FGT1" a=b`, map[string]string{
			"timestamp": `"2026-11-28T10:00:00.000Z"`}},
		{"forti logid devname", `date=2026-11-28 time=10:00:00 devname="x" logid="0100" type=event`, map[string]string{"event.dataset": `"fortinet.fortigate"`}},
		{"kv not fortigate", `a=1 b=2 c=3`, map[string]string{"event": "", "a": `"1"`, "logrouter.payload": `"kv"`, "logrouter.parse_status": `"raw"`}},
		{"kv two pairs is text", `a=1 b=2`, map[string]string{"a": "", "message": `"a=1 b=2"`}},
		{"kv unterminated quote", `a=1 b=2 c="open quote`, map[string]string{"c": `"open quote"`}},
		{"kv empty value", `a= b=2 c=3`, map[string]string{"a": `""`, "b": `"2"`}},
		{"kv glued text keeps message", `a="x"y b=2 c=3 d=4 e=5`, map[string]string{"a": `"x"`, "message": `"a=\"x\"y b=2 c=3 d=4 e=5"`}},
		{"cef escapes", `CEF:0|V\|x|P\\y|1|2|N|3|a=b\=c\\d e=line1\nline2 f=g\|h`, map[string]string{
			"cef.device_vendor": `"V|x"`, "cef.device_product": `"P\\y"`, "cef.extensions.a": `"b=c\\d"`,
			"cef.extensions.e": `"line1\nline2"`, "cef.extensions.f": `"g|h"`}},
		{"cef trailing spaces", "CEF:0|V|P|1|2|N|3|a=b   c=d  ", map[string]string{"cef.extensions.a": `"b"`, "cef.extensions.c": `"d"`}},
		{"cef bad version", "CEF:x|V|P|1|2|N|3|a=b", map[string]string{"cef": "", "message": `"CEF:x|V|P|1|2|N|3|a=b"`}},
		{"cef leading space", "<13>1 - - - - - -   CEF:0|V|P|1|2|N|3|a=b", map[string]string{"cef.extensions.a": `"b"`}},
		{"leef 2 hex delim", "LEEF:2.0|V|P|1|E|0x7c|a=1|b=2", map[string]string{"leef.extensions.a": `"1"`, "leef.extensions.b": `"2"`, "leef.delimiter": `"0x7c"`}},
		{"leef 2 empty delim", "LEEF:2.0|V|P|1|E||a=1\tb=2", map[string]string{"leef.extensions.b": `"2"`}},
		{"leef dup", "LEEF:1.0|V|P|1|E|a=1\ta=2", map[string]string{"leef.extensions.a": `"1"`, "message": `"LEEF:1.0|V|P|1|E|a=1\ta=2"`}},
		{"json payload key wins", `<13>1 2026-11-28T10:00:00Z h a - - - {"timestamp":"x","log":1,"host":2,"process":3}`, map[string]string{
			"timestamp": `"x"`, "log": "1", "host": "2", "process": "3"}},
		{"json escaped reserved key", `{"log\u0072outer":1}`, map[string]string{"logrouter.payload": ""}},
		{"json escaped timestamp key", `<13>1 2026-11-28T10:00:00Z h a - - - {"\u0074imestamp":"x","\u00e9":1}`, map[string]string{"timestamp": `"x"`}},
		{"json too deep is text", "<13>1 - - - - - - " + strings.Repeat("[", 200) + strings.Repeat("]", 200), map[string]string{"logrouter.payload": ""}},
		{"json deep object", "{\"a\":" + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "}", map[string]string{"logrouter.payload": `"json"`}},
		{"json raw control char", "{\"a\":\"x\x01\"}", map[string]string{"logrouter.payload": ""}},
		{"json bad escape", `{"a":"\x"}`, map[string]string{"logrouter.payload": ""}},
		{"json bad number", `{"a":1.}`, map[string]string{"logrouter.payload": ""}},
		{"json ws", "\t{\"a\":1}\r\n", map[string]string{"a": "1"}},
		{"panos quoted comma", `1,2026/11/28 10:00:00,0123,TRAFFIC,end,0,2026/11/28 10:00:00,"a,b",x`, map[string]string{"src": `"a,b"`, "dst": `"x"`}},
		{"panos bad port", `1,2026/11/28 10:00:00,0123,TRAFFIC,end,0,2026/11/28 10:00:00,s,d` + strings.Repeat(",", 16) + `99999,08,`, map[string]string{"sport": `"99999"`, "dport": `"08"`}},
		{"panos unterminated quote", `1,2026/11/28 10:00:00,0123,SYSTEM,x,0,2026/11/28 10:00:00,"v,e`, map[string]string{"vsys": `"\"v"`, "eventid": `"e"`}},
		{"snare short", "MSWinEventLog\t1\tSecurity\t1\tbad time\t4624", map[string]string{
			"timestamp": "", "winlog.event_id": `"4624"`, "event.dataset": `"windows.security"`}},
		{"auditd text", "<13>Nov 28 10:00:00 h type=X msg=audit(1.1:1): only text here and nothing else", map[string]string{"event.dataset": `"linux.auditd"`, "logrouter.payload": ""}},
		{"raw text has nothing else", "type=X msg=audit(1.1:1): only text here and nothing else", map[string]string{"event": "", "logrouter.parse_status": `"raw"`}},
		{"tag too long", "<13>Nov 28 10:00:00 h " + strings.Repeat("a", 70) + ": m", map[string]string{"process": ""}},
		{"tag then eof", "<13>Nov 28 10:00:00 h app:", map[string]string{"process.name": `"app"`, "message": ""}},
		{"lone token after timestamp", "<13>Nov 28 10:00:00 word", map[string]string{"host": "", "message": `"word"`}},
		{"iso with space", "<13>2026-11-28 10:00:00 h app: m", map[string]string{"timestamp": `"2026-11-28T10:00:00.000Z"`, "host.hostname": `"h"`}},
		{"month lowercase", "<13>nov 28 10:00:00 h app: m", map[string]string{"timestamp": `"2026-11-28T10:00:00.000Z"`}},
		{"no pri timestamp only", "Nov 28 10:00:00", map[string]string{"logrouter.parse_status": `"rfc3164"`, "timestamp": `"2026-11-28T10:00:00.000Z"`}},
	}
	p := newTestParser()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, res := p.AppendJSON(nil, []byte(tt.msg))
			checkOutput(t, p, []byte(tt.msg), out, res)
			for path, want := range tt.want {
				if got := field(t, out, path); got != want {
					t.Errorf("%s = %s, want %s\n%s", path, got, want, out)
				}
			}
		})
	}
}

func TestKeepOriginal(t *testing.T) {
	p := New(Options{KeepOriginal: true, Now: func() time.Time { return testNow }})
	for _, tt := range []struct {
		msg  string
		keep bool
	}{
		{"<13>Nov 28 10:00:00 h CEF:0|V|P|1|2|N|3|a=b", true},
		{"LEEF:1.0|V|P|1|E|a=1", true},
		{`{"a":1}`, true},
		{"a=1 b=2 c=3", true},
		{"1,2026/11/28 10:00:00,0123,TRAFFIC,end", true},
		{"<13>Nov 28 10:00:00 h app: plain text", false},
		{"%ASA-6-113004: x", false},
		{"garbage", false},
	} {
		out, _ := p.AppendJSON(nil, []byte(tt.msg))
		got := field(t, out, "event.original")
		if want := jsonString(tt.msg); tt.keep && got != want || !tt.keep && got != "" {
			t.Errorf("%q: event.original = %s (keep %v)\n%s", tt.msg, got, tt.keep, out)
		}
	}
	// Without the option, never.
	out, _ := newTestParser().AppendJSON(nil, []byte("CEF:0|V|P|1|2|N|3|a=b"))
	if got := field(t, out, "event.original"); got != "" {
		t.Errorf("event.original without KeepOriginal: %s", out)
	}
}

func jsonString(s string) string {
	var a fastjson.Arena
	return a.NewString(s).String()
}

func TestAppendToDst(t *testing.T) {
	p := newTestParser()
	msg := []byte("<13>1 2026-11-28T10:00:00Z h a - - - hello")
	out, res := p.AppendJSON([]byte("prefix\n"), msg)
	if !bytes.HasPrefix(out, []byte("prefix\n{")) || !bytes.HasSuffix(out, []byte("}}")) {
		t.Fatalf("not appended: %s", out)
	}
	if res.Status != StatusRFC5424 || string(res.Hostname) != "h" || res.Format != "" {
		t.Errorf("result %+v", res)
	}
	_, res = p.AppendJSON(nil, []byte("<13>Nov 28 10:00:00 fw01 %ASA-6-113004: x"))
	if res.Status != StatusRFC3164 || string(res.Hostname) != "fw01" || res.Format != FormatCiscoASA {
		t.Errorf("result %+v", res)
	}
	_, res = p.AppendJSON(nil, []byte("junk"))
	if res.Status != StatusRaw || res.Hostname != nil || res.Format != "" {
		t.Errorf("result %+v", res)
	}
}

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{StatusRFC5424: "rfc5424", StatusRFC3164: "rfc3164", StatusRaw: "raw", 0: "unknown", 9: "unknown"} {
		if got := s.String(); got != want {
			t.Errorf("Status(%d).String() = %q, want %q", s, got, want)
		}
	}
}

// TestDefaults: the zero Options use UTC and the real clock.
func TestDefaults(t *testing.T) {
	p := New(Options{})
	now := time.Now().UTC()
	msg := []byte("<13>" + now.Format(time.Stamp) + " h app: x")
	out, _ := p.AppendJSON(nil, msg)
	want := now.Truncate(time.Second).Format("2006-01-02T15:04:05") + ".000Z"
	if got := field(t, out, "timestamp"); got != `"`+want+`"` {
		t.Errorf("timestamp %s, want %s", got, want)
	}
}

// TestZeroParser: a Parser not made by New uses the default Options.
func TestZeroParser(t *testing.T) {
	var p Parser
	msg := "CEF:0|V|P|1|2|N|3|" + strings.Repeat("k1=v ", 20) + strings.Repeat("x", 1) + "=1"
	out, res := p.AppendJSON(nil, []byte(msg))
	if res.Format != FormatCEF || field(t, out, "cef.extensions.x") != `"1"` {
		t.Errorf("%+v %s", res, out)
	}
}

// TestNoStateLeak: a Parser reused across many messages gives, for each,
// the output of a fresh Parser.
func TestNoStateLeak(t *testing.T) {
	lines := allCorpus(t)
	shared := newTestParser()
	var buf []byte
	for i := len(lines) - 1; i >= 0; i-- { // reverse order: different predecessors than the golden run
		var got []byte
		got, _ = shared.AppendJSON(buf[:0], lines[i])
		want, _ := newTestParser().AppendJSON(nil, lines[i])
		if !bytes.Equal(got, want) {
			t.Fatalf("line %q:\nreused: %s\n fresh: %s", lines[i], got, want)
		}
		buf = got
	}
}

// allocSamples is one message per format for the allocation test and the
// benchmarks.
var allocSamples = []struct{ name, msg string }{
	{"rfc5424", `<165>1 2026-11-28T10:00:00.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][meta@1 p="a\"b"] An application event log entry with some text in it, as applications write.`},
	{"rfc3164", "<38>Nov 28 10:00:02 web01 sshd[2212]: Failed password for invalid user admin from 198.51.100.23 port 41234 ssh2, and a few more words of message text"},
	{"cef", `<134>Nov 28 10:00:00 falcon-siem CEF:0|CrowdStrike|FalconHost|1.0|DetectionSummaryEvent|Detection Summary Event|5|cat=DetectionSummaryEvent rt=1795860000000 shost=WS-042 suser=CORP\\jdoe fname=powershell.exe cs1Label=CommandLine cs1=powershell.exe -enc SQBFAFgA msg=Adversary used PowerShell to download a payload`},
	{"fortigate_kv", `<189>date=2026-11-28 time=10:00:00 devname="FGT60E-HQ" devid="FGT60E4Q16000000" eventtime=1795860000000000000 tz="-0800" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.20.44.128 srcport=49538 srcintf="internal" srcintfrole="lan" dstip=34.107.221.82 dstport=443 dstintf="wan1" dstintfrole="wan" sessionid=123456 proto=6 action="close" policyid=1 policytype="policy" service="HTTPS" dstcountry="United States" srccountry="Reserved" trandisp="snat" transip=198.51.100.2 transport=49538 duration=12 sentbyte=1830 rcvdbyte=4512 sentpkt=10 rcvdpkt=12 appcat="unscanned"`},
	{"panos_csv", `<14>Nov 28 10:00:00 PA-5250 1,2026/11/28 10:00:00,013201001234,TRAFFIC,end,2561,2026/11/28 10:00:00,10.1.1.5,93.184.216.34,198.51.100.10,93.184.216.34,allow-web,corp\jdoe,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,Forward-to-SIEM,2026/11/28 10:00:00,34567,1,51234,443,40123,443,0x400053,tcp,allow,5120,1200,3920,22,2026/11/28 09:59:30,30,business-and-economy,0,7123456789,0x0,10.0.0.0-10.255.255.255,United States,0,12,10,tcp-fin,0,0,0,0,,PA-5250,from-policy,,,0,,0,,N/A,0,0,0,0,0b9f2f8e-1c1d-4c2e-8e7b-6f8f0e1d2c3b,0`},
	{"cisco_asa", "<166>Nov 28 2026 10:00:00: %ASA-6-302013: Built inbound TCP connection 4926 for outside:203.0.113.5/51234 (203.0.113.5/51234) to inside:10.1.1.10/443 (198.51.100.10/443)"},
	{"json", `<14>1 2026-11-28T10:00:00Z app01 checkout 1234 - - {"level":"error","msg":"payment failed","order_id":"A-1001","amount":12.5,"tags":["pay","eu"],"user":{"id":42,"name":"Zoë"},"ok":false,"x":null}`},
	{"leef", "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5^srcPort=81^dstPort=21"},
	{"snare", "<13>Nov 28 10:00:00 DC01 MSWinEventLog\t1\tSecurity\t1523\tSat Nov 28 10:00:00 2026\t4624\tMicrosoft-Windows-Security-Auditing\tCORP\\jdoe\tN/A\tSuccess Audit\tDC01\tLogon\t\tAn account was successfully logged on.\t1522"},
	{"windows_xml", "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/><EventID>4625</EventID><Version>0</Version><Level>0</Level><Task>12544</Task><Opcode>0</Opcode><Keywords>0x8010000000000000</Keywords><TimeCreated SystemTime='2026-11-28T10:00:00.123456700Z'/><EventRecordID>908812</EventRecordID><Correlation/><Execution ProcessID='636' ThreadID='4120'/><Channel>Security</Channel><Computer>DC01.corp.example.com</Computer><Security/></System><EventData><Data Name='SubjectUserSid'>S-1-0-0</Data><Data Name='TargetUserName'>svc_backup</Data><Data Name='TargetDomainName'>CORP</Data><Data Name='Status'>0xc000006d</Data><Data Name='LogonType'>3</Data><Data Name='ProcessName'>C:\\Windows\\System32\\svchost.exe -k &quot;netsvcs&quot;</Data><Data Name='IpAddress'>10.20.31.44</Data><Data Name='IpPort'>50112</Data></EventData><RenderingInfo Culture='en-US'><Message>An account failed to log on.&#13;&#10;</Message><Level>Information</Level><Task>Logon</Task><Opcode>Info</Opcode><Keywords><Keyword>Audit Failure</Keyword></Keywords></RenderingInfo></Event>"},
	{"windows_classic", classic4625},
	{"auditd", `type=USER_LOGIN msg=audit(1795860420.123:2411): pid=5120 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct="root" exe="/usr/sbin/sshd" hostname=? addr=198.51.100.23 terminal=sshd res=failed'`},
	{"json_escaped_keys", `{"log\u0067":1,"\u00e9t\u00e9":"summer","a\"b":2}`},
	{"raw", "\x00garbage \xff that is no syslog at all"},
}

// TestZeroAllocs: in steady state AppendJSON allocates nothing, for every
// format, in UTC and in another Location.
func TestZeroAllocs(t *testing.T) {
	for _, loc := range []string{"UTC", "America/New_York"} {
		p := New(Options{Location: mustLoad(t, loc), Now: func() time.Time { return testNow }})
		dst := make([]byte, 0, 8192)
		for _, s := range allocSamples {
			msg := []byte(s.msg)
			dst, _ = p.AppendJSON(dst[:0], msg) // warm up the scratch buffers
			if n := testing.AllocsPerRun(200, func() { dst, _ = p.AppendJSON(dst[:0], msg) }); n != 0 {
				t.Errorf("%s (%s): %v allocations per message", s.name, loc, n)
			}
		}
	}
	// The default clock (time.Now) does not allocate either.
	p := New(Options{})
	dst := make([]byte, 0, 4096)
	msg := []byte("<13>Nov 28 10:00:00 h app: x")
	if n := testing.AllocsPerRun(200, func() { dst, _ = p.AppendJSON(dst[:0], msg) }); n != 0 {
		t.Errorf("default Now: %v allocations per message", n)
	}
}

// TestPathological: large adversarial inputs stay linear (each must finish
// well within the test's time) and produce valid output.
func TestPathological(t *testing.T) {
	big := func(unit string, n int) string { return strings.Repeat(unit, n) }
	inputs := map[string]string{
		"many sd elements":    "<13>1 - h a - - " + big(`[a@1 x="1"]`, 20000) + " m",
		"many sd ids":         "<13>1 - h a - - " + big(`[a x="1" y="2"]`, 20000),
		"many kv pairs":       big("k=v ", 30000),
		"many kv dups":        big("key=value other=x ", 20000),
		"many cef spaces":     "CEF:0|V|P|1|2|N|3|a=" + big(" x", 100000),
		"many cef keys":       "CEF:0|V|P|1|2|N|3|" + big("a=b ", 50000),
		"cef no ext pipes":    "CEF:0|" + big("|", 100000),
		"many csv columns":    "1,2026/11/28 10:00:00,0123,TRAFFIC" + big(",x", 100000),
		"many tabs":           "MSWinEventLog" + big("\t", 100000),
		"deep json":           "{\"a\":" + big("[", 100000) + "}",
		"long json string":    "{\"a\":\"" + big("x", 300000) + "\"}",
		"many leef pieces":    "LEEF:1.0|V|P|1|E|" + big("a=b\t", 50000),
		"many equals":         big("=", 300000),
		"many quotes":         "a=1 b=2 c=" + big(`"`, 300000),
		"long tag":            "<13>Nov 28 10:00:00 h " + big("a", 300000),
		"long host":           "<13>1 - " + big("h", 300000) + " a - - - m",
		"asa many for":        "%ASA-6-302013: Built inbound " + big(" for ", 50000),
		"month then spaces":   "<13>Nov " + big(" ", 300000),
		"many xml data":       "<Event><System><EventID>1</EventID></System><EventData>" + big("<Data Name='a'>b &amp; c</Data>", 50000) + "</EventData></Event>",
		"deep xml":            "<Event>" + big("<a>", 100000) + big("</a>", 100000) + "</Event>",
		"xml many attrs":      "<Event" + big(" a='1'", 100000) + ">",
		"xml many ampersands": "<Event><System><EventID>1</EventID></System><EventData><Data Name='a'>" + big("&", 600000) + "</Data></EventData></Event>",
		"xml many entities":   "<Event><System><EventID>" + big("&#x41;", 100000) + "</EventID></System></Event>",
		"many classic keys":   "LogName=Security\nEventCode=1\n" + big("Type=x\n", 50000) + "Message=m",
		"many classic lines":  "LogName=Security\nEventCode=1\nMessage=m\n" + big("\tAccount Name:\tx\n", 50000),
	}
	p := newTestParser()
	for name, in := range inputs {
		// A quadratic parser takes minutes on these; linear ones take
		// milliseconds. The best of three runs keeps a loaded CI machine
		// from failing a linear parser.
		best := time.Hour
		var out []byte
		var res Result
		for i := 0; i < 3 && best > 2*time.Second; i++ {
			start := time.Now()
			out, res = p.AppendJSON(out[:0], []byte(in))
			best = min(best, time.Since(start))
		}
		if best > 2*time.Second {
			t.Errorf("%s: %v (best of three)", name, best)
		}
		checkOutput(t, p, []byte(in), out, res)
	}
}

// TestAppendStr: the fast path writes exactly what normalize.AppendString
// writes.
func TestAppendStr(t *testing.T) {
	inputs := []string{"", "a", "plain ascii text of some length", "12345678", "1234567\"", `"`, `\`,
		"\x00", "\x1f", " ", "\x7f", "\x80", "é", "\u2028", "\u2029", "\xff\xfe", "tab\there",
		"abcdefgh\"ijklmnop", "abcdefghijklmno\x01", "\xe2\x80", strings.Repeat("x", 1000) + "\n"}
	for c := 0; c < 256; c++ {
		inputs = append(inputs, strings.Repeat("a", c%9)+string(rune(c))+"bcdefghij", strings.Repeat("a", c%9)+string([]byte{byte(c)}))
	}
	for _, in := range inputs {
		if a, b := appendStr(nil, []byte(in)), normalize.AppendString(nil, []byte(in)); !bytes.Equal(a, b) {
			t.Errorf("%q: appendStr %s, normalize.AppendString %s", in, a, b)
		}
	}
}
