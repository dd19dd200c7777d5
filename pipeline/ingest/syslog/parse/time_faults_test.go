package parse

// Fault tests from a review of event times: each failed before the fix of
// the bug it describes (the comments describe the code as it was found).

import (
	"os"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// TestISOHeaderSpaceZoneIgnored
//
// Fault: parseISO3164 (header.go) cuts an ISO 8601 header timestamp at the
// first space after the clock ("2023-03-01 14:54:44.502"), so a zone written
// after a space (" +0100", " UTC") is never part of the token: isoHasZone
// sees no zone, wallTime reads the clock as a wall-clock time in
// Options.Location, and the zone is left to the rest of the header (a
// " UTC" even becomes the HOSTNAME).
//
// Real source: Barracuda Web Application Firewall sends exactly this header,
// "<129>2023-03-01 14:54:44.502 +0100  barracuda WF ALER ..." (Elastic's
// barracuda.waf integration test corpus, packages/barracuda/data_stream/waf/
// _dev/test/pipeline/test-*.log, whose expected @timestamp for
// "2023-03-30 03:11:07.915 +0200" is 2023-03-30T01:11:07.915Z). With the
// default Location (UTC) every such event is dated one or two hours late.
//
// Correct: the offset (or a zone abbreviation timeparse accepts) that
// follows the clock after one space is part of the timestamp, as timeparse
// layout 1 already reads "2006-01-02 15:04:05.999 -0700" and "... UTC"; the
// instant is then independent of Options.Location.
func TestISOHeaderSpaceZoneIgnored(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	now := time.Date(2023, 3, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		loc  *time.Location
		msg  string
		want string
	}{
		{time.UTC, `<129>2023-03-01 14:54:44.502 +0100  barracuda WF ALER NO_PARAM_PROFILE_MATCH 81.2.69.144 61507 67.43.156.4 443 Hackazon:adaptive_url_42099b4af021e53fd8fd URL_PROFILE LOG NONE [Parameter\="0x\\[\\]" value\="androxgh0st"] POST / TLSv1.2 "-" "Mozilla/5.0" 1.128.0.3 61507 "-" "-" 1869d743696-dfcf8d96`,
			"2023-03-01T13:54:44.502Z"},
		{time.UTC, `<134>2023-03-30 03:11:07.915 +0200  barracuda SYS APS INFO 19034 Num clients to walk : 0`,
			"2023-03-30T01:11:07.915Z"},
		// A zone abbreviation after the space is ignored the same way: read
		// in Location (Berlin, UTC+2 in summer) instead of as UTC.
		{berlin, `<134>2023-07-01 10:00:00 UTC fw01 sshd[42]: Accepted publickey for root`,
			"2023-07-01T10:00:00.000Z"},
	}
	for _, tt := range tests {
		p := New(Options{Location: tt.loc, Now: func() time.Time { return now }})
		out, _ := p.AppendJSON(nil, []byte(tt.msg))
		if got := field(t, out, "timestamp"); got != `"`+tt.want+`"` {
			t.Errorf("%.60q (Location %s): timestamp %s, want %q (the zone after the clock is ignored)\nhost: %s",
				tt.msg, tt.loc, got, tt.want, field(t, out, "host.hostname"))
		}
	}
}

// TestIPv6HostnameEatsTimestamp
//
// Fault: parseTimestamp3164 (header.go) takes four digits after the clock
// followed by ' ', ':' or the end as a trailing year ("Aug 24 05:34:00 CST
// 1987", RFC 3164 section 5.4). An IPv6 HOSTNAME such as "2001:db8::1"
// (or any address under 2001:, 2600:, 2607:, 2620:, 2400:...) starts with
// four digits and a ':', so "2001" is taken as the year; parse3164 then
// finds 'd' instead of a space after the "year" and decides that the
// timestamp was "not a timestamp after all": the header time and the host
// are dropped and the event gets the ingest time.
//
// RFC 3164 section 4.1.2: "The HOSTNAME field will contain only the
// hostname, the IPv4 address, or the IPv6 address of the originator of the
// message." The message below is the RFC's own example (section 5.4) with
// an IPv6 originator.
//
// Correct: a trailing year is four digits followed by a space, the end, or
// ": " (Cisco); "2001:db8::1" is the HOSTNAME and Oct 11 22:14:15 the time.
func TestIPv6HostnameEatsTimestamp(t *testing.T) {
	now := time.Date(2024, 10, 12, 0, 0, 0, 0, time.UTC)
	p := New(Options{Now: func() time.Time { return now }})
	msg := "<34>Oct 11 22:14:15 2001:db8::1 su: 'su root' failed for lonvick on /dev/pts/8"
	out, _ := p.AppendJSON(nil, []byte(msg))
	if got, want := field(t, out, "timestamp"), `"2024-10-11T22:14:15.000Z"`; got != want {
		t.Errorf("timestamp %s, want %s\n%s", got, want, out)
	}
	if got, want := field(t, out, "host.hostname"), `"2001:db8::1"`; got != want {
		t.Errorf("host.hostname %s, want %s\n%s", got, want, out)
	}
}

// TestRFC5424DateOnlyTimestamp
//
// Fault: parse5424 (header.go) accepts any TIMESTAMP token of at least 10
// bytes that starts like a date, and timeparse reads a bare "2024-05-01" as
// midnight. A sender that writes a space instead of 'T'
// ("2024-05-01 13:15:02") thus yields a date-only TIMESTAMP: the event is
// stamped 2024-05-01T00:00:00Z (13 hours early) and every header field
// shifts by one (HOSTNAME "13:15:02", APP-NAME the host, ...).
//
// RFC 5424 section 6.2.3: TIMESTAMP = NILVALUE / FULL-DATE "T" FULL-TIME;
// the package documentation promises "TIMESTAMP (RFC 3339 or "-")", and an
// RFC 3339 date-time always has a time. A date alone is not a TIMESTAMP:
// the header is not RFC 5424 and, as documented ("A header that breaks
// before STRUCTURED-DATA falls back to RFC 3164, then to raw"), the event
// must not be dated from it (fallback: ingest time).
func TestRFC5424DateOnlyTimestamp(t *testing.T) {
	now := time.Date(2024, 5, 1, 13, 15, 5, 0, time.UTC)
	p := New(Options{Now: func() time.Time { return now }})
	msg := "<13>1 2024-05-01 13:15:02 fw01 sshd 4242 - - Accepted publickey for root"
	out, _ := p.AppendJSON(nil, []byte(msg))
	if got := field(t, out, "timestamp"); got == `"2024-05-01T00:00:00.000Z"` {
		t.Errorf("date-only RFC 5424 TIMESTAMP accepted as midnight: timestamp %s, host %s, status %s\n%s",
			got, field(t, out, "host.hostname"), field(t, out, "logrouter.parse_status"), out)
	}
}

// TestFortiGateJoinOverridesSyslogTime
//
// Fault (normalizer, with the starter profiles): fortinet.fortigate
// (rules/profiles/50-firewall.yaml) has timestamp {fields: [eventtime],
// join: [date, time, tz]}, and profileTime (pipeline/normalize/normalize.go)
// tries the join before the global timestamp_fields, which hold the syslog
// input's "timestamp". For a FortiGate line without eventtime and tz
// (FortiOS 5.x, or a relay that drops fields) the join is "2026-11-28
// 10:00:00", which timeparse reads as UTC, and it replaces the time this
// parser resolved. The parser documents the rule (kv.go, detectKV):
// "without tz they are in Options.Location and replace only a header
// timestamp that has no zone either", and its own test case "forti no tz
// keeps zoned header" expects 2026-11-28T18:00:00.000Z for the message
// below (RFC 5424 header with offset -08:00; FortiGate wall clock 10:00,
// no tz). After the normalizer the event is dated 2026-11-28T10:00:00Z,
// eight hours early. With a syslog input whose timezone is not UTC every
// tz-less FortiGate event is likewise shifted by that zone's offset.
//
// Correct: a zone-less join must not override a time the input already
// resolved with a zone or its configured Location: @timestamp must equal
// the parser's "timestamp" (as TestNormalizes requires without profiles).
func TestFortiGateJoinOverridesSyslogTime(t *testing.T) {
	specs, err := normalize.LoadProfiles(os.DirFS("../../../../rules"), "profiles")
	if err != nil {
		t.Fatal(err)
	}
	var forti []normalize.ProfileSpec
	for _, s := range specs {
		if s.Name == "fortinet.fortigate" {
			forti = append(forti, s)
		}
	}
	if len(forti) != 1 {
		t.Fatal("starter profile fortinet.fortigate not found")
	}
	cfg := normalize.DefaultConfig()
	cfg.Profiles = forti
	cfg.NewTextParser = NewTextParser
	c, err := normalize.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()

	msg := `<189>1 2026-11-28T10:00:00-08:00 fw01 - - - - date=2026-11-28 time=10:00:00 devname="fw01" devid="FGT60E0000000001" logid="0000000013" type="traffic" subtype="forward" srcip=10.0.0.5 dstip=8.8.8.8 action="accept"`
	recv := time.Date(2026, 11, 28, 18, 0, 5, 0, time.UTC)
	p := New(Options{Now: func() time.Time { return recv }})
	js, _ := p.AppendJSON(nil, []byte(msg))
	var jp, op fastjson.Parser
	v, err := jp.ParseBytes(js)
	if err != nil {
		t.Fatal(err)
	}
	parserTS := string(v.GetStringBytes("timestamp"))
	if parserTS != "2026-11-28T18:00:00.000Z" {
		t.Fatalf("precondition: parser timestamp %q\n%s", parserTS, js)
	}
	bm := &pipeline.Meta{Input: "syslog", Protocol: "syslog-tcp", Peer: "10.0.0.1", IngestTime: recv.UnixNano()}
	em := &normalize.EventMeta{DefaultSourceType: []byte("syslog"), KeepOwnLogrouter: true} // as the syslog input
	out, _, err := n.Append(nil, v, nil, bm, em)
	if err != nil {
		t.Fatal(err)
	}
	ov, err := op.ParseBytes(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(ov.GetStringBytes("@timestamp")); got != parserTS {
		t.Errorf("@timestamp %s, want the syslog input's %s (tz-less date/time join read as UTC wins)\n%s", got, parserTS, out)
	}
}
