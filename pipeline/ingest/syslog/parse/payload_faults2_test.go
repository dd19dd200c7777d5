package parse

// Tests from review 18p of the syslog parser against what real devices
// send, checked against the format specifications and vendor documents
// quoted in each comment. Each failed on the code as it was found, because
// of the fault its comment describes.

import (
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

// r18Parse parses msg with a fixed receive time and returns the output.
func r18Parse(t *testing.T, msg string) []byte {
	t.Helper()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	p := New(Options{Now: func() time.Time { return now }})
	out, _ := p.AppendJSON(nil, []byte(msg))
	if _, err := fastjson.ParseBytes(out); err != nil {
		t.Fatalf("invalid output %s: %v", out, err)
	}
	return out
}

// r18Get returns the JSON text of path in out ("" when absent).
func r18Get(t *testing.T, out []byte, path ...string) string {
	t.Helper()
	v, err := fastjson.ParseBytes(out)
	if err != nil {
		t.Fatalf("invalid output %s: %v", out, err)
	}
	if v = v.Get(path...); v == nil {
		return ""
	}
	return v.String()
}

// TestLEEFAfterIBMRFC5424Header
//
// What is wrong: IBM's LEEF guide (QRadar DSM guide, "LEEF event
// components"; the same text in Juniper JSA's LEEF guide) defines the
// syslog header a LEEF event may carry: "The syslog header is an optional
// component of the LEEF format. If you include a syslog header, you must
// separate the syslog header from the LEEF header with a space. ... RFC
// 5424 header format: <priority tag>1 <timestamp> <IP address or
// hostname>", with the examples "<13>1 2019-01-18T11:07:53.520Z
// 192.168.1.1" and "<133>1 2019-01-18T11:07:53.520+07:00 myhostname",
// followed by "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|" and
// "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|". Senders that follow IBM's
// document therefore write the LEEF header right after the host name,
// without APP-NAME, PROCID, MSGID and STRUCTURED-DATA. parse5424 takes the
// LEEF header's first words for APP-NAME/PROCID/MSGID (a space in the
// product version, a tab in the attributes), fails, and the BSD fallback
// keeps "1 2019-01-18T... 192.168.1.1 LEEF:..." as plain text: every LEEF
// attribute (src, dst, ...) is lost, and so are the timestamp and the host.
// The same LEEF event after an RFC 3164 header ("<13>Jan 18 11:07:53
// 192.168.1.1 LEEF:...", IBM's other example) is parsed.
//
// Expected: with IBM's RFC 5424 header the LEEF payload is parsed
// (leef.vendor, leef.extensions.src ...), the timestamp is the header's
// (2019-01-18T11:07:53.520Z) and host.hostname its host.
func TestLEEFAfterIBMRFC5424Header(t *testing.T) {
	for _, c := range []struct{ msg, vendor, src, ts, host string }{
		{"<13>1 2019-01-18T11:07:53.520Z 192.168.1.1 LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=10.50.1.1\tdst=2.10.20.20\tspt=1200",
			"Microsoft", "10.50.1.1", "2019-01-18T11:07:53.520Z", "192.168.1.1"},
		{"<133>1 2019-01-18T11:07:53.520+07:00 myhostname LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5^srcPort=81^dstPort=21",
			"Lancope", "10.0.1.8", "2019-01-18T04:07:53.520Z", "myhostname"},
	} {
		out := r18Parse(t, c.msg)
		if got := r18Get(t, out, "leef", "vendor"); got != `"`+c.vendor+`"` {
			t.Errorf("leef.vendor %s, want %q\n%s", got, c.vendor, out)
			continue
		}
		if got := r18Get(t, out, "leef", "extensions", "src"); got != `"`+c.src+`"` {
			t.Errorf("leef.extensions.src %s, want %q\n%s", got, c.src, out)
		}
		if got := r18Get(t, out, "timestamp"); got != `"`+c.ts+`"` {
			t.Errorf("timestamp %s, want %q\n%s", got, c.ts, out)
		}
		if got := r18Get(t, out, "host", "hostname"); got != `"`+c.host+`"` {
			t.Errorf("host.hostname %s, want %q\n%s", got, c.host, out)
		}
	}
}

// TestFortiGateCSVFormat
//
// What is wrong: FortiOS sends syslog in one of several fixed formats,
// chosen with "config log syslogd setting / set format [default|csv|cef|
// rfc5424|json]" (FortiOS CLI reference; FortiOS 8.0 "Custom log format
// support for syslog server": "Previously, FortiGate only sent logs in fixed
// formats (CSV, CEF, RFC 5424, JSON)"; FortiOS 5.4 named it "set csv
// enable"). The csv format is the default format's key=value pairs
// separated by commas instead of spaces, e.g.
//
//	<189>date=2014-01-16,time=11:26:14,devname=...,devid=...,logid=000013,type=traffic,srcip=192.168.192.123,srcport=2072,...
//
// detectKV splits pairs on blanks only, so the whole line is one pair
// whose value runs to the end ("date" = "2017-11-15,time=...,msg=..."),
// fewer than 3 pairs are found, and the line stays plain text: no srcip,
// dstip, action, policyid..., no event.dataset fortinet.fortigate (so no
// FortiGate profile, no P2 firewall rule) and no event time from
// date/time/tz. The package doc promises "key=value ("kv"): FortiGate ...
// pairs as top-level string fields".
//
// Expected: FortiGate's csv format gives the same fields as its default
// format (srcip, dstport, action, msg with its comma kept inside the
// quotes...), event.dataset fortinet.fortigate and the timestamp from
// date, time and tz.
func TestFortiGateCSVFormat(t *testing.T) {
	msg := `<189>date=2026-11-28,time=11:44:16,devname="FGT200E",devid="FG200E4Q17900000",logid="0000000013",type="traffic",subtype="forward",level="notice",vd="root",eventtime=1795866256,tz="+0100",srcip=10.1.100.155,srcname="pc1",srcport=40772,srcintf="port12",dstip=35.197.51.42,dstport=443,dstintf="port11",sessionid=8058,proto=6,action="close",policyid=1,policytype="policy",service="HTTPS",msg="allowed, then closed"`
	out := r18Parse(t, msg)
	for _, c := range []struct{ key, want string }{
		{"srcip", `"10.1.100.155"`},
		{"dstport", `"443"`},
		{"action", `"close"`},
		{"policyid", `"1"`},
		{"msg", `"allowed, then closed"`},
	} {
		if got := r18Get(t, out, c.key); got != c.want {
			t.Errorf("%s = %s, want %s", c.key, got, c.want)
		}
	}
	if got := r18Get(t, out, "event", "dataset"); got != `"fortinet.fortigate"` {
		t.Errorf("event.dataset %s, want \"fortinet.fortigate\"", got)
	}
	if got := r18Get(t, out, "timestamp"); got != `"2026-11-28T10:44:16.000Z"` {
		t.Errorf("timestamp %s, want 2026-11-28T10:44:16.000Z (date, time, tz +0100)", got)
	}
	if t.Failed() {
		t.Logf("output: %s", out)
	}
}

// TestLEEFSpaceDelimiterCutsValues
//
// What is wrong: LEEF 2.0 names its attribute delimiter in the header
// (IBM's LEEF guide: "DelimiterCharacter: Use the specified attribute in the
// LEEF 2.0 header for an alternative delimiter character. You can use a
// single character or the hex value for the character"). Palo Alto
// Networks' Strata Logging Service documents its LEEF output ("Authentication
// LEEF Fields", "Example Authentication log in LEEF") with a space as that
// character and values that contain spaces:
//
//	LEEF:2.0|Palo Alto Networks|Next Generation Firewall|null|authentication success| |TimeReceived=2021-09-21 07:25:01.057423 DeviceSN=... devTime=2021-09-21 07:25:01.057449 ... Object=Authentication object5 AuthenticationPolicy=Captive Portal ...
//
// parseDelimPairs splits on every space, so each value is cut at its
// first space: devTime becomes "2021-09-21" (the time of day is lost),
// TimeReceived "2021-09-21", Object "Authentication", AuthenticationPolicy
// "Captive"; the rest of each value is a word in no pair. The parser
// already reads the same shape right when a LEEF 1.0 sender uses spaces
// (parseLEEF: "split CEF-style on spaces"): a value runs to the next
// " key=".
//
// Expected: with a space delimiter the values run to the next " key=", as
// the parser does for space-separated LEEF 1.0 and CEF: devTime
// "2021-09-21 07:25:01.057449", Object "Authentication object5",
// AuthenticationPolicy "Captive Portal".
func TestLEEFSpaceDelimiterCutsValues(t *testing.T) {
	msg := "<14>1 2021-09-21T07:25:05.173Z stream-logfwd20-b7167985 logforwarder - panwlogs - " +
		"LEEF:2.0|Palo Alto Networks|Next Generation Firewall|null|authentication success| |" +
		"TimeReceived=2021-09-21 07:25:01.057423 DeviceSN=012501002341 cat=auth SubType=Unknown ConfigVersion= " +
		"devTime=2021-09-21 07:25:01.057449 VirtualLocation=vsys1 src=10.1.2.3 User= usrName=corp\\jdoe " +
		"Object=Authentication object5 AuthenticationPolicy=Captive Portal CountOfRepeats=1"
	out := r18Parse(t, msg)
	for _, c := range []struct{ key, want string }{
		{"TimeReceived", `"2021-09-21 07:25:01.057423"`},
		{"devTime", `"2021-09-21 07:25:01.057449"`},
		{"Object", `"Authentication object5"`},
		{"AuthenticationPolicy", `"Captive Portal"`},
		{"src", `"10.1.2.3"`},
	} {
		if got := r18Get(t, out, "leef", "extensions", c.key); got != c.want {
			t.Errorf("leef.extensions.%s = %s, want %s", c.key, got, c.want)
		}
	}
	if t.Failed() {
		t.Logf("output: %s", out)
	}
}
