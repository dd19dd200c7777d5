package route_test

// Fault tests from a review of normalization: each failed before the fix
// it describes (the comments describe the profiles and code as found).

// Review of normalization (pipeline/normalize and rules/profiles) against
// what the vendors and their usual shippers send. Each test routes one
// event through the router of the embedded example configuration (its
// normalize block and the starter profiles) and fails on the wrong
// @timestamp, the wrong field type or the wrong field meaning it describes.
// The comments describe the code and profiles as they were found.

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline/normalize"
)

// kindAt returns the JSON type of the output field at path (dotted, as
// nested objects), or "missing".
func kindAt(res vendorResult, path string) string {
	v := res.out.Get(strings.Split(path, ".")...)
	if v == nil {
		return "missing"
	}
	return v.Type().String()
}

// TestPANOSSyslogZonelessReceiveTimeBeatsZonedHeader
// Input: a PAN-OS TRAFFIC log over syslog with an RFC 5424 header
// "2026-11-28T10:00:05-08:00" (18:00:05Z); the CSV's receive_time and
// generated_time are the firewall's wall clock, "2026/11/28 10:00:05",
// without a zone. The syslog parser writes the header time as "timestamp"
// and the generated-time column as "generated_time".
// What happens: the paloalto.panos profile's timestamp fields are
// [high_res_timestamp, time_generated, receive_time]: time_generated is
// not the parser's name (generated_time), so receive_time, a zoneless wall
// clock, is read as UTC and beats the header's zoned time: @timestamp is
// 10:00:05Z, eight hours early; the real time is left in "timestamp".
// Expected: 2026-11-28T18:00:05Z (a zoneless vendor field must not beat
// a zoned time of the same event; the syslog input's timezone applies to
// wall-clock times, never UTC by default).
// Why it matters: every PAN-OS syslog event of a firewall not on UTC is
// misplaced on the timeline and outside correlation windows with the
// EDR/IdP events of the same incident.
func TestPANOSSyslogZonelessReceiveTimeBeatsZonedHeader(t *testing.T) {
	line := `<14>1 2026-11-28T10:00:05-08:00 PA-5250 - - - - 1,2026/11/28 10:00:05,013201001234,TRAFFIC,end,2561,2026/11/28 10:00:05,` +
		`10.1.1.5,93.184.216.34,198.51.100.10,93.184.216.34,allow-web,corp\jdoe,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,` +
		`Forward-to-SIEM,2026/11/28 10:00:00,34567,1,51234,443,40123,443,0x400053,tcp,allow,5120,1200,3920,22,2026/11/28 09:59:30,30,` +
		`business-and-economy,0,7123456789,0x0,10.0.0.0-10.255.255.255,United States,0,12,10,tcp-fin,0,0,0,0,,PA-5250,from-policy,,,0,,0,,N/A,0,0,0,0,` +
		`0b9f2f8e-1c1d-4c2e-8e7b-6f8f0e1d2c3b,0`
	res := vendorSyslog(t, line)
	if res.str("event", "dataset") != "paloalto.panos" {
		t.Fatalf("not normalized as PAN-OS: %s", res.raw)
	}
	if got := res.str("@timestamp"); got != "2026-11-28T18:00:05.000Z" {
		t.Errorf("@timestamp = %s, want 2026-11-28T18:00:05.000Z (the header's -08:00 time): %s", got, res.raw)
	}
}

// TestPANOSBytesAreStrings
// Input: the same PAN-OS TRAFFIC log over syslog (bytes_sent 1200,
// bytes_received 3920; the CSV parser writes every column as a string).
// What happens: paloalto.panos renames bytes_sent/bytes_received to
// source.bytes/destination.bytes but converts only the IPs and ports:
// source.bytes is the string "1200". The index template has no mapping for
// it, so in the PAN-OS index it becomes keyword (strings_as_keyword), while
// fortinet.fortigate (convert int) and Zeek (numbers) give long.
// Expected: numbers, as ECS (long) and the other firewall profile have it.
// Why it matters: sum/range queries and detections on bytes (exfiltration
// volume) fail or silently skip PAN-OS, and logs-* index patterns report a
// type conflict for source.bytes.
func TestPANOSBytesAreStrings(t *testing.T) {
	line := `<14>1 2026-11-28T10:00:05Z PA-5250 - - - - 1,2026/11/28 10:00:05,013201001234,TRAFFIC,end,2561,2026/11/28 10:00:05,` +
		`10.1.1.5,93.184.216.34,198.51.100.10,93.184.216.34,allow-web,corp\jdoe,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,` +
		`Forward-to-SIEM,2026/11/28 10:00:00,34567,1,51234,443,40123,443,0x400053,tcp,allow,5120,1200,3920,22,2026/11/28 09:59:30,30,` +
		`business-and-economy,0,7123456789,0x0,10.0.0.0-10.255.255.255,United States,0,12,10,tcp-fin,0,0,0,0,,PA-5250,from-policy,,,0,,0,,N/A,0,0,0,0,` +
		`0b9f2f8e-1c1d-4c2e-8e7b-6f8f0e1d2c3b,0`
	res := vendorSyslog(t, line)
	for _, p := range []string{"source.bytes", "destination.bytes"} {
		if k := kindAt(res, p); k != "number" {
			t.Errorf("%s is %s, want number: %s", p, k, res.raw)
		}
	}
}

// TestLinuxAuthBeatHostBecomesObjectHostName
// Input: an auth.log line from Filebeat's system module (through _bulk):
// event.dataset "system.auth" (which selects linux.auth) and the Beat's
// host object {"name","hostname","os",...}.
// What happens: linux.auth renames "host" to host.name for a JSON tail's
// host string; the host object moves too, and only host.hostname is
// renamed out of it, so host.name becomes an object
// {"name":"web-1","os":{...},...}.
// Expected: host.name is the string "web-1" (the Beat's host.* stay where
// they are).
// Why it matters: the index template maps host.name as keyword, so
// OpenSearch rejects every such document (mapper_parsing_exception); rules
// and the SIEM lose the host of every Filebeat auth event.
func TestLinuxAuthBeatHostBecomesObjectHostName(t *testing.T) {
	ev := `{"@timestamp":"2026-11-28T10:00:00.000Z","event":{"dataset":"system.auth","module":"system"},` +
		`"host":{"name":"web-1","hostname":"web-1","architecture":"x86_64","os":{"family":"debian","version":"12"},"id":"4c4c4544"},` +
		`"message":"Failed password for root from 203.0.113.7 port 52211 ssh2","log":{"file":{"path":"/var/log/auth.log"}}}`
	var p fastjson.Parser
	v, err := p.Parse(ev)
	if err != nil {
		t.Fatal(err)
	}
	res := vendorRoute(t, "http", v, &normalize.EventMeta{})
	if res.str("event", "dataset") != "system.auth" || res.str("event", "module") != "system" {
		t.Fatalf("not normalized by linux.auth: %s", res.raw)
	}
	if k := kindAt(res, "host.name"); k != "string" || res.str("host", "name") != "web-1" {
		t.Errorf("host.name is %s, want the string web-1: %s", k, res.raw)
	}
}

// TestSuricataBeatHostMovesUnderObserverHostname
// Input: a Suricata EVE record with a Beat's host object (the profile
// itself names this case: "a Beat's own host (Filebeat's suricata
// module): kept").
// What happens: suricata.eve renames "host" (EVE's sensor name string) to
// observer.hostname and keeps only host.name and host.hostname; the other
// members of the Beat's host object (architecture, os, id, ip, mac) move
// to observer.hostname, which becomes an object.
// Expected: observer.hostname is absent or a string; the Beat's host.*
// members stay under host.
// Why it matters: in the same suricata index, EVE records not shipped by a
// Beat have observer.hostname as a string (and Zeek's _system_name too):
// OpenSearch rejects whichever shape comes second; host.os/host.ip are
// lost for host correlation.
func TestSuricataBeatHostMovesUnderObserverHostname(t *testing.T) {
	res := vendorJSON(t, "suricata.eve", `{"timestamp":"2026-11-28T10:00:00.123456+0000","flow_id":1234,"in_iface":"eth0",`+
		`"event_type":"alert","src_ip":"10.0.0.5","src_port":51234,"dest_ip":"203.0.113.9","dest_port":443,"proto":"TCP",`+
		`"alert":{"action":"allowed","signature_id":2019401,"signature":"ET POLICY x","severity":2},`+
		`"host":{"name":"ids-1","hostname":"ids-1","architecture":"x86_64","os":{"family":"debian"},"id":"abc","ip":["10.0.0.2"]}}`)
	if k := kindAt(res, "observer.hostname"); k != "string" && k != "missing" {
		t.Errorf("observer.hostname is %s, want a string or absent: %s", k, res.raw)
	}
	if res.str("host", "os", "family") != "debian" {
		t.Errorf("host.os.family lost: %s", res.raw)
	}
}

// TestSuricataShipperTimestampBeatsEVETime
// Input: an EVE record as a JSON shipper sends it (Filebeat filestream with
// the ndjson parser, Logstash, Fluent Bit): the shipper's own @timestamp
// (when it read the line, 10:05) and EVE's "timestamp" (the packet time,
// 10:00:00.123456).
// What happens: suricata.eve has no timestamp fields, so the global list
// is used, and its first entry, @timestamp, the shipper's read time, wins;
// EVE's own time is left as a plain "timestamp" field.
// Expected: @timestamp 2026-11-28T10:00:00.123456Z, the time in the field
// the source defines (as zeek.conn does with ts).
// Why it matters: alert timelines are shifted by the shipping delay (minutes
// to hours after a backlog), and Suricata alerts no longer line up with
// the Zeek and EDR events of the same flow.
func TestSuricataShipperTimestampBeatsEVETime(t *testing.T) {
	res := vendorJSON(t, "suricata.eve", `{"@timestamp":"2026-11-28T10:05:00.000Z","timestamp":"2026-11-28T10:00:00.123456+0000",`+
		`"flow_id":1234,"in_iface":"eth0","event_type":"flow","src_ip":"10.0.0.5","src_port":51234,"dest_ip":"203.0.113.9","dest_port":443}`)
	if got := res.str("@timestamp"); got != "2026-11-28T10:00:00.123456Z" {
		t.Errorf("@timestamp = %s, want EVE's 2026-11-28T10:00:00.123456Z: %s", got, res.raw)
	}
}

// TestSuricataIPv6ZoneNotConverted
// Input: an EVE record whose src_ip is a link-local IPv6 address with a
// zone, "fe80::1c2b:3cff:fe4d:5e6f%eth0" (as Go/Linux tools print it; the
// Windows form is "%12").
// What happens: `convert: ip` parses it with netip.ParseAddr, which accepts
// the zone, and writes it back with the zone: source.ip is
// "fe80::...%eth0", which the template's ip type cannot parse; with
// ignore_malformed it is silently not indexed.
// Expected: "fe80::1c2b:3cff:fe4d:5e6f" (the zone is not part of an
// address an ip field or a rule compares).
// Why it matters: the event cannot be found by source.ip, CIDR queries and
// rules on source.ip miss it.
func TestSuricataIPv6ZoneNotConverted(t *testing.T) {
	res := vendorJSON(t, "suricata.eve", `{"timestamp":"2026-11-28T10:00:00.123456+0000","flow_id":1,"in_iface":"eth0",`+
		`"event_type":"flow","src_ip":"fe80::1c2b:3cff:fe4d:5e6f%eth0","src_port":546,"dest_ip":"ff02::1:2","dest_port":547,"proto":"UDP"}`)
	if got := res.str("source", "ip"); got != "fe80::1c2b:3cff:fe4d:5e6f" {
		t.Errorf("source.ip = %q, want fe80::1c2b:3cff:fe4d:5e6f: %s", got, res.raw)
	}
}

// TestZeekHTTPHostStaysString
// Input: a Zeek http.log record (JSON): "host" is the HTTP Host header,
// a string.
// What happens: zeek.conn (the profile of every zeek.* log) does not
// rename "host", so the output has "host":"www.example.com" at the root.
// Expected: no string at "host" (e.g. zeek.host, or url.domain for
// http.log); host is the ECS object.
// Why it matters: the index template maps host as an object
// (host.name keyword): OpenSearch rejects every Zeek http.log record (and
// known_hosts/software records, whose host is an IP) with
// mapper_parsing_exception; these are P2 events that go to OpenSearch.
func TestZeekHTTPHostStaysString(t *testing.T) {
	res := vendorJSON(t, "zeek.http", `{"ts":1795860000.123456,"uid":"CHhAvVGS1DHFjwGM9","id.orig_h":"10.0.0.5","id.orig_p":51234,`+
		`"id.resp_h":"93.184.216.34","id.resp_p":80,"trans_depth":1,"method":"GET","host":"www.example.com","uri":"/index.html",`+
		`"version":"1.1","user_agent":"curl/8.5.0","status_code":200,"_path":"http"}`)
	if k := kindAt(res, "host"); k != "object" && k != "missing" {
		t.Errorf("host is %s, want an object (the template maps host.name): %s", k, res.raw)
	}
}

// TestZeekNTLMClientHostnameBecomesHostName
// Input: a Zeek ntlm.log record: "hostname" is the NetBIOS name of the
// remote client that authenticated (here an attacker's WORKSTATION-X).
// What happens: zeek.conn has no rename for hostname, so the global
// `hostname: host.name` applies and the client's name becomes host.name,
// the host the event is about (the same fault the linux.auditd profile was
// written for).
// Expected: host.name is not the remote client's name (e.g. the field kept
// as zeek.ntlm.hostname / source.domain).
// Why it matters: host-based correlation attributes the attacker's
// workstation as the observed host; the sensor's events are misfiled.
func TestZeekNTLMClientHostnameBecomesHostName(t *testing.T) {
	res := vendorJSON(t, "zeek.ntlm", `{"ts":1795860000.5,"uid":"C1","id.orig_h":"203.0.113.7","id.orig_p":49152,`+
		`"id.resp_h":"10.0.0.10","id.resp_p":445,"username":"administrator","hostname":"WORKSTATION-X","domainname":"CORP",`+
		`"server_nb_computer_name":"DC01","success":false,"_path":"ntlm"}`)
	if got := res.str("host", "name"); got == "WORKSTATION-X" {
		t.Errorf("host.name is the NTLM client's name %q: %s", got, res.raw)
	}
}

// TestAppJSONNumericLevel
// Input: application logs of the app.* source types: pino/bunyan write
// "level":30 (a number), most other loggers "level":"info"; likewise
// "version":2 next to "version":"1.4.2".
// What happens: app.json renames level to log.level and version to
// service.version without a conversion: numbers stay numbers.
// Expected: strings ("30", "2"), ECS's keyword type.
// Why it matters: the index's dynamic mapping takes the type of the day's
// first document: after a numeric one (long), every "info"/"1.4.2" event is
// rejected by OpenSearch, and the other way round log.level range filters
// do not work.
func TestAppJSONNumericLevel(t *testing.T) {
	res := vendorJSON(t, "app.checkout", `{"level":30,"time":1795860000123,"pid":7,"hostname":"checkout-1","version":2,"msg":"order placed"}`)
	for _, p := range []string{"log.level", "service.version"} {
		if k := kindAt(res, p); k != "string" {
			t.Errorf("%s is %s, want string: %s", p, k, res.raw)
		}
	}
}

// TestFortiGateUserURLAgentAtObjectRoots
// Input: a FortiGate web filter log as JSON: user="jdoe", url="/login",
// agent="Mozilla/5.0 ...", hostname="portal.example.com".
// What happens: fortinet.fortigate maps hostname to url.domain but leaves
// url, user and agent unmapped: url is displaced to url.value (not an ECS
// field), while user and agent stay strings where ECS (and the Okta,
// CloudTrail and CrowdStrike profiles: user.name, agent.id) has objects.
// Expected: source.user.name "jdoe" (the session's user, as PAN-OS, Check
// Point and CEF write it and Elastic's FortiGate pipelines map it; it was
// user.name until a schema review), url.original (or url.path) "/login",
// user_agent.original the agent string.
// Why it matters: user-centric correlation (user.name across the IdP and
// the firewall) misses every FortiGate event; logs-* index patterns get
// object/keyword conflicts for user and agent.
func TestFortiGateUserURLAgentAtObjectRoots(t *testing.T) {
	res := vendorJSON(t, "fortinet.fortigate", `{"date":"2026-11-28","time":"10:00:00","tz":"+0000","eventtime":"1795860000123456789",`+
		`"logid":"0316013056","type":"utm","subtype":"webfilter","level":"warning","devname":"FGT-HQ","devid":"FG100FTK19000000",`+
		`"srcip":"10.0.0.5","srcport":51234,"dstip":"93.184.216.34","dstport":443,"action":"blocked","user":"jdoe",`+
		`"hostname":"portal.example.com","url":"/login","agent":"Mozilla/5.0 (Windows NT 10.0)","catdesc":"Phishing"}`)
	if got := res.str("source", "user", "name"); got != "jdoe" || kindAt(res, "user") != "missing" {
		t.Errorf("source.user.name = %q, want jdoe (user is %s): %s", got, kindAt(res, "user"), res.raw)
	}
	if res.str("url", "original") != "/login" && res.str("url", "path") != "/login" {
		t.Errorf("url path not in url.original/url.path: %s", res.raw)
	}
	if k := kindAt(res, "agent"); k == "string" {
		t.Errorf("agent (the user agent) is a string at the ECS agent object: %s", res.raw)
	}
}

// TestCrowdStrikeAuditEventsMarkedAlert
// Input: a Falcon streaming API console audit event
// (metadata.eventType AuthActivityAuditEvent), which the starter rules route
// as P2 telemetry (edr-crowdstrike-audit), not as a finding.
// What happens: crowdstrike.falcon sets event.kind: alert on every event of
// the stream.
// Expected: event.kind "event" for audit events (alert only for
// detections).
// Why it matters: OpenSearch Security Analytics, dashboards and SIEM
// alert counts treat event.kind:alert as findings: every console login
// shows as an EDR alert.
func TestCrowdStrikeAuditEventsMarkedAlert(t *testing.T) {
	res := vendorJSON(t, "", `{"metadata":{"customerIDString":"abc","offset":1,"eventType":"AuthActivityAuditEvent",`+
		`"eventCreationTime":1795860000123,"version":"1.0"},"event":{"UserId":"admin@example.com","UserIp":"10.0.0.5",`+
		`"OperationName":"userAuthenticate","ServiceName":"CrowdStrike Authentication","Success":true,"UTCTimestamp":1795860000}}`)
	if res.str("event", "dataset") != "crowdstrike.falcon" {
		t.Fatalf("not detected as crowdstrike.falcon: %s", res.raw)
	}
	if got := res.str("event", "kind"); got == "alert" {
		t.Errorf("event.kind = alert on a console audit event (%s, %s): %s", res.prio, res.rule, res.raw)
	}
}

// TestOktaOutcomeNotECS
// Input: an Okta System Log failed sign-in, outcome.result "FAILURE".
// What happens: okta.system renames outcome.result to event.outcome
// unchanged: "FAILURE".
// Expected: "failure" (ECS allowed values: success, failure, unknown).
// Why it matters: event.outcome is a keyword (case-sensitive);
// cross-source detections of failed logins (event.outcome:failure) and
// OpenSearch Security Analytics rules miss every Okta failure.
func TestOktaOutcomeNotECS(t *testing.T) {
	res := vendorJSON(t, "okta.system", `{"uuid":"e1","published":"2026-11-28T10:00:00.000Z","eventType":"user.session.start",`+
		`"severity":"WARN","displayMessage":"User login to Okta","actor":{"id":"00u1","type":"User","alternateId":"jdoe@example.com"},`+
		`"client":{"ipAddress":"203.0.113.7"},"outcome":{"result":"FAILURE","reason":"INVALID_CREDENTIALS"}}`)
	if got := res.str("event", "outcome"); got != "failure" {
		t.Errorf("event.outcome = %q, want failure: %s", got, res.raw)
	}
}

// TestEventBridgeCloudTrailSourceString
// Input: a CloudTrail record delivered by Amazon EventBridge ("detail-type":
// "AWS API Call via CloudTrail", "source":"aws.iam", the record in
// detail), which cloud-aws-cloudtrail routes as P2, to OpenSearch.
// What happens: no profile maps the EventBridge envelope, so its
// "source" string is written at the root unchanged.
// Expected: no string at "source" (ECS source is an object; e.g. the
// envelope's source as event.provider or aws.eventbridge.source).
// Why it matters: the index template maps source as an object (source.ip
// ip, source.port integer): OpenSearch rejects every EventBridge-delivered
// CloudTrail record with mapper_parsing_exception, so the P2 audit trail
// of those accounts never reaches OpenSearch.
func TestEventBridgeCloudTrailSourceString(t *testing.T) {
	res := vendorJSON(t, "", `{"version":"0","id":"6f2b7e4c-1d2e-4f6a-9b8c-0a1b2c3d4e5f","detail-type":"AWS API Call via CloudTrail",`+
		`"source":"aws.iam","account":"123456789012","time":"2026-11-28T10:00:00Z","region":"us-east-1","resources":[],`+
		`"detail":{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/jdoe"},`+
		`"eventTime":"2026-11-28T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","awsRegion":"us-east-1",`+
		`"sourceIPAddress":"203.0.113.7","eventID":"e1"}}`)
	if k := kindAt(res, "source"); k != "object" && k != "missing" {
		t.Errorf("source is %s, want an object (the template maps source.ip/source.port) (%s, %s): %s", k, res.prio, res.rule, res.raw)
	}
}
