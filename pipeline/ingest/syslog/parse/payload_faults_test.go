package parse

// Fault tests from a review of the payload parsers (CEF, LEEF, key=value,
// PAN-OS CSV, Cisco ASA/FTD, Snare, JSON): each failed before the fix of the
// bug it describes (the comments describe the code as it was found, what
// the vendor documents and what the parser should do instead).

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// reviewGet returns the string at the dotted path of out ("" when absent or
// not a string), failing the test when out is not valid JSON.
func reviewGet(t *testing.T, out []byte, path ...string) string {
	t.Helper()
	v, err := fastjson.ParseBytes(out)
	if err != nil {
		t.Fatalf("invalid output %s: %v", out, err)
	}
	return string(v.GetStringBytes(path...))
}

// TestPANOSConfigDefaultColumns
//
// Fault: panosConfigCols (panos.go) places "before_change_detail" and
// "after_change_detail" at columns 15 and 16, right after "path". Palo Alto's
// own field description for the Config log (PAN-OS 10.1/10.2 admin guide,
// "Config Log Fields") says of both: "This field is in custom logs only; it
// is not in the default format." A firewall using the default syslog format
// therefore sends Sequence Number in column 15, Action Flags in 16, the
// device group hierarchy in 17-20, Virtual System Name in 21 and Device Name
// in 22 (as in Elastic's panw integration corpus,
// packages/panw/data_stream/panos/_dev/test/pipeline/
// test-panw-panos-config-sample.log, the line used here). Every column from
// 15 on is named two places too late: the sequence number is written as
// before_change_detail, "seqno" becomes "0", "actionflags" "0", and
// "device_name" (renamed to observer.name by the paloalto.panos profile) is
// empty while dg_hier_level_4 holds the firewall's name.
//
// Correct: for the default format, seqno is column 15, actionflags 16,
// dg_hier_level_1..4 17-20, vsys_name 21, device_name 22 (then Device Group,
// Audit Comment, FUTURE_USE, High Resolution Timestamp); the two change
// details, when a custom format sends them, come after those.
func TestPANOSConfigDefaultColumns(t *testing.T) {
	msg := `1,2023/10/04 08:50:28,007058000248010,CONFIG,0,2816,2023/10/04 08:50:28,81.2.69.193,,move,admin,Web,Succeeded, vsys  vsys1 rulebase security rules  block-81.2.69.193,7286123782408765487,0x0,0,0,0,0,,PA-VM,0,,0,2023-10-04T08:50:28.421+01:00`
	out, res := newTestParser().AppendJSON(nil, []byte(msg))
	if res.Format != FormatPANOS {
		t.Fatalf("not PAN-OS CSV: %s", out)
	}
	for _, c := range []struct{ key, want string }{
		{"admin_host", "81.2.69.193"},
		{"cmd", "move"},
		{"result", "Succeeded"},
		{"seqno", "7286123782408765487"},
		{"actionflags", "0x0"},
		{"device_name", "PA-VM"},
	} {
		if got := reviewGet(t, out, c.key); got != c.want {
			t.Errorf("%s = %q, want %q (default-format CONFIG column order)", c.key, got, c.want)
		}
	}
	if got := reviewGet(t, out, "before_change_detail"); got == "7286123782408765487" {
		t.Errorf("the sequence number is written as before_change_detail, a custom-format-only column")
	}
	if t.Failed() {
		t.Logf("output: %s", out)
	}
}

// TestPANOSGlobalProtectColumnsNamed
//
// Fault: panosType (panos.go) maps GLOBALPROTECT (and HIPMATCH, USERID,
// AUTH, DECRYPTION ...) to panosCommonCols, which names only the first seven
// columns; everything after is written as column_8, column_9 ... The package
// doc promises "PAN-OS CSV: columns as top-level fields named as PAN-OS
// documents them", and PAN-OS documents the GlobalProtect log order
// (PAN-OS 10.1 admin guide, "GlobalProtect Log Fields"): ..., Generated
// Time, Virtual System (vsys), Event ID (eventid), Stage (stage),
// Authentication Method (auth_method), Tunnel Type (tunnel_type), Source
// User (srcuser), Source Region (srcregion), Machine Name (machinename),
// Public IP (public_ip), Public IPv6, Private IP (private_ip), Private IPv6,
// Host ID, Serial Number, Client Version, Client OS, Client OS Version,
// Repeat Count, Reason, Error, Description, Status (status), Location, Login
// Duration, Connect Method, Error Code, Portal (portal), Sequence Number
// (seqno), Action Flags, ... As written, a VPN login's user, public address
// and result are column_13, column_16 and column_29: the paloalto.panos
// profile (srcuser -> source.user.name, seqno, vsys) never sees them and no
// rule can find GlobalProtect logins by user without knowing column numbers.
//
// Correct: a GLOBALPROTECT column list following the documented order. The
// line is from Elastic's panw corpus (test-panw-panos-globalprotect-sample.log).
func TestPANOSGlobalProtectColumnsNamed(t *testing.T) {
	msg := `1,2021/03/02 09:55:42,12345678999,GLOBALPROTECT,0,2305,2021/03/02 09:55:39,vsys1,gateway-auth,login,Other,,maxmustermann,10.0.0.0-10.255.255.255,PC1234,10.20.30.40,0.0.0.0,0.0.0.0,0.0.0.0,985e865f-7da3-43b4-89a9-299b1bb0c975,SERIALNR,5.1.1,OS,"OS 10 Enterprise, 64-bit",1,,,,success,,0,pre-logon,0,GP GW intern,6894571632887748064,0x8000000000000000`
	out, res := newTestParser().AppendJSON(nil, []byte(msg))
	if res.Format != FormatPANOS {
		t.Fatalf("not PAN-OS CSV: %s", out)
	}
	for _, c := range []struct{ key, want string }{
		{"vsys", "vsys1"},
		{"eventid", "gateway-auth"},
		{"stage", "login"},
		{"srcuser", "maxmustermann"},
		{"machinename", "PC1234"},
		{"public_ip", "10.20.30.40"},
		{"status", "success"},
		{"portal", "GP GW intern"},
		{"seqno", "6894571632887748064"},
	} {
		if got := reviewGet(t, out, c.key); got != c.want {
			t.Errorf("%s = %q, want %q (documented GlobalProtect column)", c.key, got, c.want)
		}
	}
	if t.Failed() {
		t.Logf("output: %s", out)
	}
}

// TestLEEFDelimiterIsACharacter
//
// Fault: leefDelim (cef.go) decodes the LEEF 2.0 delimiter field into one
// byte, and parseDelimPairs splits on that byte. LEEF is UTF-8 text, and
// the delimiter field names a character: IBM's LEEF 2.0 format allows "a
// single character or the hex value of it prefixed by 0x or x"; IBM's own
// Guardium universal connector documents and tests exactly
// "LEEF:2.0|Lancope|StealthWatch|1.0|41|xa6|src=192.0.2.0¦dst=..." ("'xa6'
// is the hex of a segmented-bar (¦)", IBM/universal-connectors,
// common/.../custom_parsing/parsers/LeefParser.java and its test, with xa6
// and 0xa6), and senders such as Trinity Cyber's PTI and jSonar emit "xa6".
// U+00A6 is the two bytes C2 A6 in UTF-8; splitting on the byte A6 leaves a
// stray C2 at the end of every value, which the output turns into U+FFFD:
// "src":"192.0.2.0\ufffd". The same character written literally in the
// header ("|¦|") is two bytes long, so leefDelim refuses it: the delimiter
// field is not consumed and no attribute is parsed at all (only "message"
// keeps the line).
//
// Correct: decode the field as a code point (a hex value, or one UTF-8
// encoded character) and split the attributes on that character's UTF-8
// encoding.
func TestLEEFDelimiterIsACharacter(t *testing.T) {
	const attrs = "src=192.0.2.0\u00a6dst=172.50.123.1\u00a6sev=5\u00a6cat=anomaly"
	for _, d := range []string{"xa6", "0xa6", "\u00a6"} {
		msg := "LEEF:2.0|Lancope|StealthWatch|1.0|41|" + d + "|" + attrs
		out, res := newTestParser().AppendJSON(nil, []byte(msg))
		if res.Format != FormatLEEF {
			t.Errorf("delimiter %q: not LEEF: %s", d, out)
			continue
		}
		for _, c := range []struct{ key, want string }{
			{"src", "192.0.2.0"},
			{"dst", "172.50.123.1"},
			{"sev", "5"},
			{"cat", "anomaly"},
		} {
			if got := reviewGet(t, out, "leef", "extensions", c.key); got != c.want {
				t.Errorf("delimiter %q: leef.extensions.%s = %q, want %q\n%s", d, c.key, got, c.want, out)
			}
		}
		if bytes.Contains(out, []byte(`\ufffd`)) {
			t.Errorf("delimiter %q: U+FFFD in the output: the character was split inside its UTF-8 encoding\n%s", d, out)
		}
	}
}

// TestCiscoMessageClassTag
//
// Fault: parseCisco (cisco.go) accepts only "%ASA-<level>-<id>:" and
// "%FTD-<level>-<id>:". ASA and FTD also emit the tag with the message class
// between facility and level, "%ASA-session-5-106100:" or
// "%ASA-config-7-111009:" (Elastic's Cisco ASA module corpus,
// x-pack/filebeat/module/cisco/asa/test/sample.log, has
// "Apr 15 2014 09:34:34 EDT: %ASA-session-5-106100: access-list acl_in
// permitted tcp inside/10.1.2.16(2241) -> outside/192.0.0.89(2000) hit-cnt 1
// first hit [0x71a87d94, 0x0]", and Splunk's Cisco ASA add-on fixed its
// extraction for these "infixed" tags). Such a line is left as plain text:
// no cisco.asa fields, no source/destination, and no event.dataset, so the
// fw-cisco rule (event.dataset in ["cisco.asa", "cisco.ftd"]) never sees it.
//
// Correct: accept an optional "<class>-" (letters, digits, '_') between
// "%ASA-"/"%FTD-" and the level digit; the message id and the documented
// message wording that follow are the same.
func TestCiscoMessageClassTag(t *testing.T) {
	msg := `<166>Apr 15 2014 09:34:34 EDT: %ASA-session-5-106100: access-list acl_in permitted tcp inside/10.1.2.16(2241) -> outside/192.0.0.89(2000) hit-cnt 1 first hit [0x71a87d94, 0x0]`
	out, res := newTestParser().AppendJSON(nil, []byte(msg))
	if res.Format != FormatCiscoASA {
		t.Fatalf("Format %q, want %q: %s", res.Format, FormatCiscoASA, out)
	}
	if got := reviewGet(t, out, "cisco", "asa", "message_id"); got != "106100" {
		t.Errorf("cisco.asa.message_id %q, want 106100: %s", got, out)
	}
	if got := reviewGet(t, out, "event", "dataset"); got != "cisco.asa" {
		t.Errorf("event.dataset %q, want cisco.asa: %s", got, out)
	}
	if got := reviewGet(t, out, "source", "ip"); got != "10.1.2.16" {
		t.Errorf("source.ip %q, want 10.1.2.16: %s", got, out)
	}
}

// TestCiscoEndpointNameNotIP
//
// Fault: colonEndpoint and slashEndpoint (cisco.go) take whatever stands
// between "interface:" and "/port" as the address, and appendEndpoint writes
// it as source.ip / destination.ip without checking it. When the ASA has
// "names" configured it logs the name instead of the address ("to
// dmz:OCSP_Server/5678 (OCSP_Server/5678)": Elastic's Cisco ASA corpus,
// x-pack/filebeat/module/cisco/asa/test/sample.log, and its hostnames.log).
// The event then carries source.ip = "OCSP_Server". ECS defines source.ip
// and destination.ip as IP addresses (the raw value, IP or name, belongs in
// source.address, a name in source.domain); the OpenSearch template maps
// them as type ip with ignore_malformed, so the field is silently not
// indexed, and rules or dashboards keyed on source.ip lose the endpoint.
// The parser already refuses a port that is not a number; it accepts any
// address.
//
// Correct: write source.ip / destination.ip only when the text parses as an
// IP address (netip.ParseAddr or an equivalent check); otherwise put the
// name in source.address (or .domain), keeping the port.
func TestCiscoEndpointNameNotIP(t *testing.T) {
	msg := `<166>Dec 11 2018 08:01:31 asa01 : %ASA-6-302013: Built outbound TCP connection 447236 for outside:192.0.2.222/1234 (192.0.2.222/1234) to dmz:OCSP_Server/5678 (OCSP_Server/5678)`
	out, res := newTestParser().AppendJSON(nil, []byte(msg))
	if res.Format != FormatCiscoASA {
		t.Fatalf("not Cisco: %s", out)
	}
	for _, side := range []string{"source", "destination"} {
		ip := reviewGet(t, out, side, "ip")
		if ip == "" {
			continue
		}
		if _, err := netip.ParseAddr(ip); err != nil {
			t.Errorf("%s.ip = %q is not an IP address: %s", side, ip, out)
		}
	}
	// The real address on the other side is still parsed.
	if got := reviewGet(t, out, "destination", "ip"); got != "192.0.2.222" {
		t.Errorf("destination.ip %q, want 192.0.2.222: %s", got, out)
	}
}

// TestJSONEscapedNonASCIILogrouterKey
//
// Fault: reservedJSONKey (json.go) decodes an escaped member name to decide
// whether it is reserved, but returns "not reserved" as soon as a \uXXXX
// escape decodes to a code point >= 0x80 ("non-ASCII names are not
// reserved"). reservedKey, however, reserves every "logrouter.<anything>",
// non-ASCII included: {"logrouter.é":...} written raw is refused, while
// {"logrouter.\u00e9":...}, the same name, is accepted as a JSON payload and
// its member is copied to the top level of the event next to the parser's
// own "logrouter" object. The syslog input's split path (SplitJSON +
// fastjson + AppendAround) sees the unescaped name and refuses it, so the two
// paths that the package documents as equivalent (TestSplitMatchesAppendJSON,
// FuzzSplitMatchesAppendJSON) disagree, and a sender can plant arbitrary
// logrouter.* members (kept by the normalizer for syslog, which keeps the
// parser's own logrouter object) by spelling the name with an escape.
//
// Correct: a name whose decoded prefix is "logrouter." is reserved whatever
// follows; only the decision for names that cannot be reserved may stop at
// a non-ASCII character (e.g. decode into the buffer and stop once the first
// 10 bytes are known not to be "logrouter.").
func TestJSONEscapedNonASCIILogrouterKey(t *testing.T) {
	p := newTestParser()
	for _, key := range []string{`logrouter.é`, `logrouter.\u00e9`, `log\u0072outer.\u00e9x`} {
		msg := `<14>1 2026-11-28T10:00:00Z h app - - - {"` + key + `":"spoof","a":1}`

		// The split path (the syslog input's) refuses the payload.
		obj := p.SplitJSON([]byte(msg))
		if obj == nil {
			t.Fatalf("%s: SplitJSON found no object", key)
		}
		v, err := fastjson.ParseBytes(obj)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		o, _ := v.Object()
		_, _, _, splitOK := p.AppendAround(nil, o)
		if !splitOK {
			p.AppendOther(nil)
		}

		out, res := p.AppendJSON(nil, []byte(msg))
		ov, err := fastjson.ParseBytes(out)
		if err != nil {
			t.Fatalf("%s: invalid output %s: %v", key, out, err)
		}
		var planted []string
		ov.GetObject().Visit(func(k []byte, _ *fastjson.Value) {
			if strings.HasPrefix(string(k), "logrouter.") || string(k) == "a" {
				planted = append(planted, string(k))
			}
		})
		if res.Format != "" || len(planted) > 0 {
			t.Errorf("member %q: AppendJSON took the payload as %q, top-level members %q (split path took it: %v): %s; want it left as text, as the raw name is", key, res.Format, planted, splitOK, out)
		}
	}
}
