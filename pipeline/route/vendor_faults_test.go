package route_test

// Fault tests from a review of routing real vendor logs: each failed before
// the rule or profile change it describes (the comments describe the rules
// as they were found).

// Review of the starter rules, profiles and syslog payload detection against
// real vendor output. Each test feeds an event as the vendor (or its usual
// shipper) emits it, through the input it arrives on, to the router of the
// embedded example configuration, and fails on the misrouting or the wrongly
// normalized key field it describes.

import (
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog/parse"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

var reviewIngest = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)

type vendorResult struct {
	prio pipeline.Priority
	rule string
	out  *fastjson.Value
	raw  string
}

// vendorJSON routes one JSON event as the HTTP inputs do: sourcetype is the
// HEC sourcetype ("" for none: _bulk, /ingest NDJSON, HEC without one).
func vendorJSON(t *testing.T, sourcetype, event string) vendorResult {
	t.Helper()
	var p fastjson.Parser
	v, err := p.Parse(event)
	if err != nil {
		t.Fatalf("sample is not JSON: %v", err)
	}
	em := normalize.EventMeta{SourceType: []byte(sourcetype)}
	return vendorRoute(t, "http", v, &em)
}

// vendorSyslog parses one syslog message as the syslog input does (default
// source type "syslog") and routes it.
func vendorSyslog(t *testing.T, line string) vendorResult {
	t.Helper()
	ps := parse.New(parse.Options{Now: func() time.Time { return reviewIngest }})
	obj, _ := ps.AppendJSON(nil, []byte(line))
	var p fastjson.Parser
	v, err := p.ParseBytes(obj)
	if err != nil {
		t.Fatalf("parser output is not JSON: %v\n%s", err, obj)
	}
	em := normalize.EventMeta{DefaultSourceType: []byte("syslog"), KeepOwnLogrouter: true}
	return vendorRoute(t, "syslog", v, &em)
}

func vendorRoute(t *testing.T, input string, v *fastjson.Value, em *normalize.EventMeta) vendorResult {
	t.Helper()
	r := exampleRouter(t)
	w := r.NewWorker()
	meta := pipeline.Meta{Input: input, Protocol: "test", IngestTime: reviewIngest.UnixNano()}
	out, ev, err := w.Explain(nil, &meta, v, nil, em)
	if err != nil {
		t.Fatalf("rejected by normalization: %v", err)
	}
	var p fastjson.Parser
	ov, err := p.ParseBytes(out)
	if err != nil {
		t.Fatalf("normalized output is not JSON: %v", err)
	}
	return vendorResult{prio: ev.Priority, rule: r.Rules.RuleName(int(ev.Rule)), out: ov, raw: string(out)}
}

func (res vendorResult) str(path ...string) string { return string(res.out.GetStringBytes(path...)) }

// Microsoft Defender XDR streaming API to Azure Event Hubs (the documented
// "Stream Microsoft Defender XDR events to Azure Event Hubs" format,
// learn.microsoft.com/defender-xdr/streaming-api-event-hub: each record is
// {time, tenantId, operationName: "Publish", category: "AdvancedHunting-<Table>",
// properties: {<the advanced hunting row>}}). This is how Splunk/Elastic/
// Sentinel-less shops get Defender alerts in bulk.
//
// Found: an AlertInfo record (a Defender alert) matches no rule: P3 default,
// archive only; the DeviceProcessEvents telemetry is P3 too.
// Want: AdvancedHunting-AlertInfo / AdvancedHunting-AlertEvidence are P1
// (EDR findings); AdvancedHunting-Device* / Identity* / Email* are P2
// (raw EDR telemetry, like Falcon FDR).
// Why: every Defender alert streamed this way is a missed SIEM alert.
func TestDefenderStreamingAPIAlertInfo(t *testing.T) {
	alert := `{"time":"2026-01-01T10:15:54.1234567Z","tenantId":"a839b112-1253-6432-9bf6-94542403f21c","operationName":"Publish","category":"AdvancedHunting-AlertInfo","properties":{"Timestamp":"2026-01-01T10:14:00Z","AlertId":"da637472900382838869_1364969609","Title":"Suspicious PowerShell command line","Category":"Execution","Severity":"High","ServiceSource":"Microsoft Defender for Endpoint","DetectionSource":"EDR","AttackTechniques":"[\"PowerShell (T1059.001)\"]"}}`
	if res := vendorJSON(t, "", alert); res.prio != pipeline.P1 {
		t.Errorf("Defender XDR streaming AlertInfo: %s (%s), want P1\n%s", res.prio, res.rule, res.raw)
	}
	telemetry := `{"time":"2026-01-01T10:15:54.1234567Z","tenantId":"a839b112-1253-6432-9bf6-94542403f21c","operationName":"Publish","category":"AdvancedHunting-DeviceProcessEvents","properties":{"Timestamp":"2026-01-01T10:14:00Z","DeviceId":"111e6dd8c833c8a052ea231ec1b19adaf497b625","DeviceName":"ws-042.corp.example","ActionType":"ProcessCreated","FileName":"powershell.exe","ProcessCommandLine":"powershell.exe -enc SQBFAFgA","AccountName":"jdoe"}}`
	if res := vendorJSON(t, "", telemetry); res.prio != pipeline.P2 {
		t.Errorf("Defender XDR streaming DeviceProcessEvents: %s (%s), want P2\n%s", res.prio, res.rule, res.raw)
	}
}

// Microsoft Defender for Endpoint alerts API (GET /api/alerts, the "Alert
// resource type" of learn.microsoft.com/defender-endpoint/api/alerts, the
// shape the Splunk add-on and most SOAR/SIEM connectors pull). It has
// detectionSource ("WindowsDefenderAv", "EDR", "CustomTi", ...) but no
// serviceSource (that is the Graph alerts_v2 shape the rule knows).
//
// Found: P3 default. Want: P1 (an EDR detection, here Mimikatz).
func TestDefenderEndpointAPIAlert(t *testing.T) {
	ev := `{"id":"da637472900382838869_1364969609","incidentId":1126093,"investigationId":null,"assignedTo":null,"severity":"High","status":"New","classification":null,"determination":null,"investigationState":"Queued","detectionSource":"WindowsDefenderAv","detectorId":"17e10bbc-3a68-474a-8aad-faef14d43c54","category":"CredentialAccess","threatFamilyName":"Mimikatz","title":"'Mimikatz' credential theft tool","description":"The credential theft tool Mimikatz was detected on this device.","alertCreationTime":"2026-01-01T20:33:57.7220239Z","firstEventTime":"2026-01-01T20:31:32.9562661Z","lastEventTime":"2026-01-01T20:31:33.0577322Z","lastUpdateTime":"2026-01-01T20:33:59.2Z","resolvedTime":null,"machineId":"111e6dd8c833c8a052ea231ec1b19adaf497b625","computerDnsName":"ws-042.corp.example","rbacGroupName":"A","aadTenantId":"a839b112-1253-6432-9bf6-94542403f21c","threatName":"HackTool:Win32/Mimikatz","mitreTechniques":["T1003"],"relatedUser":{"userName":"jdoe","domainName":"CORP"},"comments":[],"evidence":[]}`
	if res := vendorJSON(t, "", ev); res.prio != pipeline.P1 {
		t.Errorf("MDE API alert: %s (%s), want P1\n%s", res.prio, res.rule, res.raw)
	}
}

// AWS Security Hub "Security Hub Findings - Imported" EventBridge event
// carrying an Amazon Inspector finding (docs.aws.amazon.com/securityhub/
// latest/userguide/securityhub-cwe-event-formats.html: the ASFF finding is
// in detail.findings[]). Inspector findings are the bulk of Security Hub's
// EventBridge volume (one per CVE per instance/image/function).
//
// Found: P1 (cloud-aws-securityhub). Its Inspector exclusion reads the
// top-level ProductArn/ProductName of a bare ASFF finding, which the
// EventBridge envelope does not have. Want: not P1 (P3, as the bare ASFF
// Inspector finding already is). Why: CVE findings flood the SIEM.
func TestSecurityHubInspectorViaEventBridge(t *testing.T) {
	ev := `{"version":"0","id":"8e5622f9-d81c-4d81-612a-9319e7ee2506","detail-type":"Security Hub Findings - Imported","source":"aws.securityhub","account":"123456789012","time":"2026-01-01T22:40:05Z","region":"us-east-1","resources":["arn:aws:securityhub:us-east-1::product/aws/inspector/arn:aws:inspector2:us-east-1:123456789012:finding/0c3f0b5b2d1f4a6e"],"detail":{"findings":[{"SchemaVersion":"2018-10-08","Id":"arn:aws:inspector2:us-east-1:123456789012:finding/0c3f0b5b2d1f4a6e","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/inspector","ProductName":"Inspector","CompanyName":"Amazon","Region":"us-east-1","GeneratorId":"AWSInspector","AwsAccountId":"123456789012","Types":["Software and Configuration Checks/Vulnerabilities/CVE"],"Title":"CVE-2023-4863 - libwebp","Severity":{"Label":"HIGH","Normalized":70},"Resources":[{"Type":"AwsEc2Instance","Id":"arn:aws:ec2:us-east-1:123456789012:instance/i-0abc123def4567890"}],"RecordState":"ACTIVE","Workflow":{"Status":"NEW"}}]}}`
	if res := vendorJSON(t, "", ev); res.prio == pipeline.P1 {
		t.Errorf("Inspector finding via Security Hub EventBridge: %s (%s), want P3 like the bare ASFF one", res.prio, res.rule)
	}
}

// Filebeat's suricata module through _bulk (docs/shippers.md documents
// Filebeat's elasticsearch output pointed at logrouter). The module decodes
// EVE in Filebeat itself (x-pack/filebeat/module/suricata/eve/config/eve.yml:
// message -> event.original, decode_json_fields target suricata.eve, src/dest
// to source.*/destination.*, event.kind "alert" for alerts) and sends
// event.dataset "suricata.eve".
//
// Found: P2 (ndr-suricata-telemetry): the P1 rule tests event_type and
// suricata.event_type, not the module's suricata.eve.event_type. Also the
// suricata.eve profile renames the Beat's host object to observer.hostname,
// an object where ECS (and every other source) has a keyword, and host.name
// disappears. Want: P1; host.name "ids01" kept.
func TestFilebeatSuricataModuleAlert(t *testing.T) {
	ev := `{"@timestamp":"2026-01-01T10:00:00.123Z","event":{"original":"{\"timestamp\":\"2026-01-01T10:00:00.123456+0000\",\"flow_id\":1234567890123456,\"in_iface\":\"eth0\",\"event_type\":\"alert\",\"src_ip\":\"10.0.0.5\",\"src_port\":51234,\"dest_ip\":\"198.51.100.7\",\"dest_port\":443,\"proto\":\"TCP\",\"alert\":{\"action\":\"allowed\",\"gid\":1,\"signature_id\":2024897,\"rev\":2,\"signature\":\"ET MALWARE Cobalt Strike Beacon\",\"category\":\"A Network Trojan was detected\",\"severity\":1}}","created":"2026-01-01T10:00:00.500Z","kind":"alert","category":["network","intrusion_detection"],"module":"suricata","dataset":"suricata.eve"},"fileset":{"name":"eve"},"suricata":{"eve":{"event_type":"alert","flow_id":1234567890123456,"in_iface":"eth0","alert":{"action":"allowed","gid":1,"signature_id":2024897,"rev":2,"signature":"ET MALWARE Cobalt Strike Beacon","category":"A Network Trojan was detected","severity":1}}},"source":{"address":"10.0.0.5","ip":"10.0.0.5","port":51234},"destination":{"address":"198.51.100.7","ip":"198.51.100.7","port":443},"network":{"transport":"TCP"},"input":{"type":"log"},"log":{"file":{"path":"/var/log/suricata/eve.json"},"offset":1234},"service":{"type":"suricata"},"host":{"name":"ids01"},"agent":{"type":"filebeat","version":"8.12.0"},"ecs":{"version":"1.5.0"}}`
	res := vendorJSON(t, "", ev)
	if res.prio != pipeline.P1 {
		t.Errorf("Filebeat suricata module alert: %s (%s), want P1", res.prio, res.rule)
	}
	if got := res.str("host", "name"); got != "ids01" {
		t.Errorf("host.name %q, want \"ids01\"; observer.hostname is %s", got, res.out.Get("observer", "hostname"))
	}
}

// Filebeat's crowdstrike module through _bulk: it decodes the Falcon SIEM
// Connector's JSON in Filebeat (x-pack/filebeat/module/crowdstrike/falcon/
// config/falcon.yml: decode_json_fields message -> target "crowdstrike",
// message dropped) and sends event.dataset "crowdstrike.falcon". The
// detection's type is then crowdstrike.metadata.eventType.
//
// Found: P2 (edr-crowdstrike-audit, which takes the whole dataset): the P1
// allowlist reads event.action / metadata.eventType only. Want: P1.
func TestFilebeatCrowdStrikeModuleDetection(t *testing.T) {
	ev := `{"@timestamp":"2026-01-01T10:00:05.000Z","crowdstrike":{"metadata":{"customerIDString":"fedcba9876543210fedcba9876543210","offset":123456,"eventType":"DetectionSummaryEvent","eventCreationTime":1767261600123,"version":"1.0"},"event":{"ProcessStartTime":1767261590,"ProcessId":"38684386611","ComputerName":"ws-042","UserName":"jdoe","DetectName":"Credential Dumping","DetectDescription":"A process accessed LSASS memory","Severity":4,"SeverityName":"High","FileName":"mimikatz.exe","CommandLine":"mimikatz.exe sekurlsa::logonpasswords","Tactic":"Credential Access","Technique":"OS Credential Dumping","PatternDispositionDescription":"Prevention, process killed.","SensorId":"0123456789abcdef0123456789abcdef","DetectId":"ldt:0123456789abcdef0123456789abcdef:38684386611"}},"event":{"module":"crowdstrike","dataset":"crowdstrike.falcon"},"fileset":{"name":"falcon"},"input":{"type":"log"},"log":{"offset":0,"file":{"path":"/var/log/crowdstrike/falconhoseclient/output"},"flags":["multiline"]},"service":{"type":"crowdstrike"},"agent":{"type":"filebeat","version":"8.12.0"},"ecs":{"version":"1.9.0"}}`
	if res := vendorJSON(t, "", ev); res.prio != pipeline.P1 {
		t.Errorf("Filebeat crowdstrike module detection: %s (%s), want P1", res.prio, res.rule)
	}
}

// Check Point firewalls over syslog. (a) Log Exporter's default "syslog"
// format, RFC 5424 with APP-NAME "CheckPoint" and [key:"value"; ...] pairs
// (this line is from elastic/integrations packages/checkpoint/data_stream/
// firewall/_dev/test/pipeline/test-checkpoint.log); (b) Log Exporter's CEF
// format, which the syslog parser already labels checkpoint.firewall
// (vendorDataset).
//
// Found: both P3 default (no rule names checkpoint.firewall; the native
// format is not recognized at all). Want: P2 like every other firewall.
func TestCheckPointFirewall(t *testing.T) {
	native := `<134>1 2020-03-30T06:13:42Z gw-da58d3 CheckPoint 8363 - [action:"Drop"; flags:"425984"; ifdir:"outbound"; ifname:"eth0"; logid:"1"; loguid:"{0x5e818e17,0x0,0x6401a8c0,0x108620ab}"; origin:"192.168.1.100"; originsicname:"cn=cp_mgmt,o=gw-da58d3..tmn8s8"; sequencenum:"1"; version:"5"; __policy_id_tag:"product=VPN-1 & FireWall-1[db_tag={880771B0-FD92-2C4F-82FC-B96FC3DE5A07};mgmt=gw-da58d3;date=1585502566;policy_name=Standard\]"; dst:"2.21.41.118"; product:"VPN-1 & FireWall-1"; proto:"6"; s_port:"65488"; service:"80"; src:"192.168.1.100"; tcp_flags:"FIN-ACK"; tcp_packet_out_of_state:"First packet isn't SYN"]`
	if res := vendorSyslog(t, native); res.prio != pipeline.P2 {
		t.Errorf("Check Point Log Exporter (syslog format) drop: %s (%s, dataset %s), want P2", res.prio, res.rule, res.str("event", "dataset"))
	}
	cef := `<134>Jan  1 10:00:00 cp-mgmt CEF:0|Check Point|VPN-1 & FireWall-1|Check Point|Drop|Drop|Unknown|act=Drop deviceDirection=0 rt=1767261600000 spt=51234 dpt=445 src=10.0.0.5 dst=198.51.100.7 proto=TCP ifname=eth1 inzone=Internal outzone=External product=VPN-1 & FireWall-1`
	if res := vendorSyslog(t, cef); res.prio != pipeline.P2 {
		t.Errorf("Check Point Log Exporter (CEF) drop: %s (%s, dataset %s), want P2", res.prio, res.rule, res.str("event", "dataset"))
	}
}

// Windows Security events from NXLog's im_msvistalog sent as BSD syslog
// (xm_syslog to_syslog_bsd(), docs.nxlog.co xm_syslog: the TAG is the
// event's SourceName, the message its rendered Message), the most common
// NXLog CE setup towards a syslog collector.
//
// Found: P3 default (dataset "syslog"; os-windows-security knows only
// Winlogbeat/NXLog JSON and Snare). Want: P2 (OS security log; a 4625
// failed logon here).
func TestWindowsSecurityNXLogBSDSyslog(t *testing.T) {
	line := `<14>Jan  1 08:50:42 DC01 Microsoft-Windows-Security-Auditing[588]: An account failed to log on.  Subject:  Security ID:  S-1-0-0  Account Name:  -  Account Domain:  -  Logon ID:  0x0  Logon Type:  3  Account For Which Logon Failed:  Security ID:  S-1-0-0  Account Name:  administrator  Account Domain:  CORP  Failure Information:  Failure Reason:  Unknown user name or bad password.  Status:  0xC000006D  Network Information:  Workstation Name:  -  Source Network Address:  203.0.113.5  Source Port:  0`
	if res := vendorSyslog(t, line); res.prio != pipeline.P2 {
		t.Errorf("NXLog BSD syslog Windows 4625: %s (%s), want P2", res.prio, res.rule)
	}
}

// FortiGate UTM web filter log over syslog (FortiOS Log Message Reference,
// LOG_ID_WEB_URLFILTER / logid 0317013312: "hostname" is the requested web
// site). The global rename hostname -> host.name applies to it.
//
// Found: host.name "ground-control.wixsite.com" (the visited site), the
// firewall being observer.name. Want: host.name not the web site (ECS
// url.domain / destination.domain). Why: host.name is the pivot "which
// machine logged this"; every web filter log claims to come from the site.
func TestFortiGateWebfilterHostname(t *testing.T) {
	line := `<189>date=2026-01-01 time=11:45:03 devname="FG600E-HQ" devid="FG6H0E5819900000" logid="0317013312" type="utm" subtype="webfilter" eventtype="ftgd_allow" level="notice" vd="root" eventtime=1767267903 policyid=1 sessionid=5295 srcip=10.1.100.11 srcport=44258 srcintf="port12" srcintfrole="undefined" dstip=185.230.61.185 dstport=80 dstintf="port11" dstintfrole="undefined" proto=6 service="HTTP" hostname="ground-control.wixsite.com" profile="default" action="passthrough" reqtype="direct" url="/" sentbyte=304 rcvdbyte=0 direction="outgoing" msg="URL belongs to an allowed category in policy" method="domain" cat=41 catdesc="Search Engines and Portals"`
	res := vendorSyslog(t, line)
	if got := res.str("host", "name"); got == "ground-control.wixsite.com" {
		t.Errorf("FortiGate web filter: host.name %q is the visited web site (observer.name %q)", got, res.str("observer", "name"))
	}
}

// Linux audit USER_AUTH record via the audit syslog plugin (audisp-syslog /
// audispd; linux-audit record format: hostname= and addr= are the REMOTE
// peer of the login). The kv payload's "hostname" goes through the global
// rename hostname -> host.name.
//
// Found: host.name "203.0.113.5", the attacker's address, next to
// host.hostname "web01". Want: host.name not the remote peer (source.address
// / source.ip). Why: searches for host.name:web01 miss the brute force, and
// the attacker appears as a host of ours.
func TestAuditdRemoteHostnameIsNotHostName(t *testing.T) {
	line := `<13>Jan  1 08:50:42 web01 audisp-syslog: type=USER_AUTH msg=audit(1767257442.123:457): pid=1234 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:authentication grantors=? acct="root" exe="/usr/sbin/sshd" hostname=203.0.113.5 addr=203.0.113.5 terminal=ssh res=failed'`
	res := vendorSyslog(t, line)
	if res.prio != pipeline.P2 {
		t.Fatalf("auditd: %s (%s), expected P2 already", res.prio, res.rule)
	}
	if got := res.str("host", "name"); got == "203.0.113.5" {
		t.Errorf("auditd USER_AUTH: host.name %q is the remote peer (host.hostname %q)", got, res.str("host", "hostname"))
	}
}

// Google Workspace Admin SDK Reports API activity, applicationName "login"
// (developers.google.com/admin-sdk/reports/v1/appendix/activity/login: the
// time is id.time, the user actor.email, the client ipAddress). Google
// Workspace is an identity provider like Okta and Entra ID.
//
// Found: P3 default, @timestamp the ingest time. Want: P2 (idp), with
// @timestamp from id.time. Why: failed/suspicious Google logins never reach
// OpenSearch; the time is off by the polling delay.
func TestGoogleWorkspaceLogin(t *testing.T) {
	ev := `{"kind":"admin#reports#activity","id":{"time":"2026-01-01T09:12:54.123Z","uniqueQualifier":"-2961349722222158937","applicationName":"login","customerId":"C03az79cb"},"etag":"\"JDMC8884sebSctZ17CIssbQ/Xg3hjAs1JkTHEQuoXaaa\"","actor":{"email":"jdoe@example.com","profileId":"114368422334411111111"},"ipAddress":"203.0.113.5","events":[{"type":"login","name":"login_failure","parameters":[{"name":"login_type","value":"google_password"},{"name":"login_failure_type","value":"login_failure_invalid_password"},{"name":"is_suspicious","boolValue":true}]}]}`
	res := vendorJSON(t, "", ev)
	if res.prio != pipeline.P2 {
		t.Errorf("Google Workspace login_failure: %s (%s), want P2", res.prio, res.rule)
	}
	if got := res.str("@timestamp"); got != "2026-01-01T09:12:54.123Z" {
		t.Errorf("@timestamp %s, want id.time 2026-01-01T09:12:54.123Z", got)
	}
}

// Proofpoint TAP SIEM API, /v2/siem/messages/delivered (help.proofpoint.com
// TAP SIEM API: GUID, QID, messageTime, sender, senderIP, recipient,
// threatsInfoMap[]): a message with an active malware attachment that was
// delivered. Email security is P2 in the taxonomy ("email metadata"), and
// a delivered threat is arguably P1.
//
// Found: P3 default (email-message-trace knows only the Microsoft 365
// MessageId/SenderAddress/RecipientAddress shape). Want: at least P2.
func TestProofpointTAPDeliveredThreat(t *testing.T) {
	ev := `{"GUID":"c26dbea0-80d5-463b-b93c-4e8b708219ce","QID":"r2FNwRHF004109","ccAddresses":[],"clusterId":"pharmtech_hosted","completelyRewritten":"true","fromAddress":["badguy@evil.zz"],"headerFrom":"\"A. Badguy\" <badguy@evil.zz>","messageID":"20160624211145.62086.mail@evil.zz","messageTime":"2026-01-01T21:18:38.000Z","phishScore":46,"quarantineFolder":"Attachment Defense","recipient":["clark.kent@pharmtech.zz"],"sender":"e99d7ed5580193f36a51f597bc2c0210@evil.zz","senderIP":"192.0.2.255","spamScore":4,"subject":"Please find a totally safe invoice attached.","threatsInfoMap":[{"classification":"MALWARE","threat":"2fab740f143fc1aa4c1cd0146d334c5593b1428f6d062b2c406e5efe8abe95ca","threatID":"2fab740f143fc1aa4c1cd0146d334c5593b1428f6d062b2c406e5efe8abe95ca","threatStatus":"active","threatTime":"2026-01-01T21:18:00.000Z","threatType":"ATTACHMENT","threatUrl":"https://threatinsight.proofpoint.com/#/73aa0499-dfc8-75eb-1de8-a471b24a2e75/threat/u/2fab740f143fc1aa4c1cd0146d334c5593b1428f6d062b2c406e5efe8abe95ca"}],"toAddresses":["clark.kent@pharmtech.zz"],"xmailer":"Spambot v2.5"}`
	if res := vendorJSON(t, "", ev); res.prio == pipeline.P3 {
		t.Errorf("Proofpoint TAP delivered threat: %s (%s), want P2 or P1", res.prio, res.rule)
	}
}
