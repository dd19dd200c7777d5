package route_test

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline/route"
	"github.com/logrouter/logrouter/rules"
)

func faultRun(t *testing.T, r *route.Router, yml string) []route.TestResult {
	t.Helper()
	cases, err := rules.ParseTests("review_test.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	return r.RunTests(cases)
}

// TestRuleTestLargeIntegersCompareExactly: expect.fields is
// documented as "compared as JSON: 3 and "3" differ" (rules/README.md,
// rules/testfile.go Expect.Fields), but sameJSON decodes both sides with
// encoding/json into interface{} values, i.e. float64: two different
// integers above 2^53 compare equal. A case asserting a 64-bit value passes
// when the normalized event holds a different one, so a profile change that
// corrupts such a value (an int-through-float conversion, a truncation) is
// not caught by the rule tests - a wrong pass.
//
// Shipper/event: NXLog im_msvistalog to_json writes Keywords as a 64-bit
// integer (Audit Success = 0x8020000000000000 = -9214364837600034816; e.g.
// the NXLog-format 4624 record in OpenWEC's test data, and NXLog CE output
// samples: "Keywords":-9214364837600034816); the profile renames it to
// winlog.keywords. Other 64-bit values: Windows record ids, FortiGate
// eventtime in nanoseconds, SentinelOne/Twitter-style snowflake ids.
// What the SOC loses: the rule tests meant to gate profile changes in CI
// accept a corrupted identifier.
func TestRuleTestLargeIntegersCompareExactly(t *testing.T) {
	r := exampleRouter(t)
	res := faultRun(t, r, `tests:
  - name: off by one in the last digit
    event: {"EventTime": "2026-11-29T10:00:00Z", "Hostname": "WKS10001", "Keywords": -9214364837600034816,
      "EventType": "AUDIT_SUCCESS", "EventID": 4624, "SourceName": "Microsoft-Windows-Security-Auditing", "Channel": "Security"}
    expect:
      fields: {winlog.keywords: -9214364837600034815}
  - name: the float64 rounding of the value
    event: {"EventTime": "2026-11-29T10:00:00Z", "Hostname": "WKS10001", "Keywords": -9.214364837600035e+18,
      "EventType": "AUDIT_SUCCESS", "EventID": 4624, "SourceName": "Microsoft-Windows-Security-Auditing", "Channel": "Security"}
    expect:
      fields: {winlog.keywords: -9214364837600034816}
  - name: a 64-bit id no profile touches
    event: {"detection_id": 1234567890123456789}
    expect:
      fields: {detection_id: 1234567890123456788}
`)
	for _, rs := range res {
		if rs.Diff == "" {
			var path string
			for p := range rs.Case.Expect.FieldsJSON {
				path = p
			}
			v := fastjson.MustParseBytes(rs.Output).Get(strings.Split(path, ".")...)
			t.Errorf("case %q passed: expected %s = %s, the normalized event holds %s (a different number)",
				rs.Case.Name, path, rs.Case.Expect.FieldsJSON[path], v.MarshalTo(nil))
		}
	}
}

// jsonKinds flattens a normalized event into path -> JSON kind of its leaves
// (an array counts as the kind of its elements, as OpenSearch maps it).
func jsonKinds(v *fastjson.Value, prefix string, out map[string]string) {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		o.Visit(func(k []byte, c *fastjson.Value) {
			p := string(k)
			if prefix != "" {
				p = prefix + "." + p
			}
			jsonKinds(c, p, out)
		})
	case fastjson.TypeArray:
		for _, e := range v.GetArray() {
			jsonKinds(e, prefix, out)
		}
	case fastjson.TypeNumber:
		out[prefix] = "number"
	case fastjson.TypeString:
		out[prefix] = "string"
	case fastjson.TypeTrue, fastjson.TypeFalse:
		out[prefix] = "boolean"
	}
}

// TestWindowsEventlogShapesShareFieldTypes: the profile gives
// Winlogbeat's and NXLog's records one source type (windows.eventlog), so
// with the default OpenSearch index "logs-{source_type}-{yyyy.MM.dd}" they
// share one index, where each field gets one mapping. The profile renames
// NXLog's Keywords (a 64-bit integer bitmask) to winlog.keywords, the field
// Winlogbeat fills with an array of strings (["Audit Failure"]). Whichever
// shipper's event arrives first in a day's index fixes the type: after an
// NXLog event, dynamic mapping makes winlog.keywords a long and every
// Winlogbeat/Elastic Agent Windows event is refused (mapper_parsing_exception,
// "Audit Failure" is not a long) and quarantined: the SOC loses the day's
// Windows telemetry in OpenSearch. The values do not even mean the same
// (a bitmask vs the rendered keyword names).
//
// Shapes: Winlogbeat 8 (winlog.keywords array of strings,
// https://www.elastic.co/guide/en/beats/winlogbeat/current/exported-fields-winlog.html
// "winlog.keywords: The keywords are used to classify an event", e.g.
// ["Audit Failure"]); NXLog im_msvistalog to_json ("Keywords":
// -9218868437227405312 for Audit Failure, 0x8010000000000000, as NXLog CE
// writes it; NXLog Agent 6 writes it as a hex number string,
// https://docs.nxlog.co/agent/current/im/msvistalog.html "Backward-compatibility").
func TestWindowsEventlogShapesShareFieldTypes(t *testing.T) {
	r := exampleRouter(t)
	res := faultRun(t, r, `tests:
  - name: winlogbeat 8 failed logon
    event: {"@timestamp": "2026-11-29T10:00:00.123Z", "agent": {"type": "winlogbeat", "version": "8.11.0"},
      "host": {"name": "DC01.corp.example.com"}, "message": "An account failed to log on.",
      "event": {"code": "4625", "kind": "event", "provider": "Microsoft-Windows-Security-Auditing", "outcome": "failure",
        "created": "2026-11-29T10:00:01.000Z"},
      "log": {"level": "information"},
      "winlog": {"channel": "Security", "computer_name": "DC01.corp.example.com", "event_id": "4625",
        "provider_name": "Microsoft-Windows-Security-Auditing", "record_id": "123456", "api": "wineventlog",
        "keywords": ["Audit Failure"], "task": "Logon", "opcode": "Info", "version": 0,
        "process": {"pid": 636, "thread": {"id": 1234}},
        "event_data": {"TargetUserName": "administrator", "TargetDomainName": "CORP", "LogonType": "3",
          "IpAddress": "185.220.101.4", "IpPort": "51234", "Status": "0xc000006d"}}}
    expect: {source_type: windows.eventlog}
  - name: nxlog failed logon
    event: {"EventTime": "2026-11-29T10:00:00Z", "Hostname": "DC01.corp.example.com", "Keywords": -9218868437227405312,
      "EventType": "AUDIT_FAILURE", "SeverityValue": 4, "Severity": "ERROR", "EventID": 4625,
      "SourceName": "Microsoft-Windows-Security-Auditing", "ProviderGuid": "{54849625-5478-4994-A5BA-3E3B0328C30D}",
      "Version": 0, "Task": 12544, "OpcodeValue": 0, "RecordNumber": 123457, "ProcessID": 636, "ThreadID": 1234,
      "Channel": "Security", "Category": "Logon", "Opcode": "Info", "Message": "An account failed to log on.",
      "TargetUserName": "administrator", "TargetDomainName": "CORP", "LogonType": "3",
      "IpAddress": "185.220.101.4", "IpPort": "51234", "Status": "0xc000006d",
      "EventReceivedTime": "2026-11-29T10:00:01Z", "SourceModuleName": "eventlog", "SourceModuleType": "im_msvistalog"}
    expect: {source_type: windows.eventlog}
`)
	for _, rs := range res {
		if rs.Diff != "" {
			t.Fatalf("%s: %s\n%s", rs.Case.Name, rs.Diff, rs.Output)
		}
	}
	wb, nx := map[string]string{}, map[string]string{}
	jsonKinds(fastjson.MustParseBytes(res[0].Output), "", wb)
	jsonKinds(fastjson.MustParseBytes(res[1].Output), "", nx)
	var clash []string
	for p, k := range wb {
		if k2, ok := nx[p]; ok && k2 != k {
			clash = append(clash, fmt.Sprintf("%s: winlogbeat %s, nxlog %s", p, k, k2))
		}
	}
	sort.Strings(clash)
	if len(clash) > 0 {
		t.Errorf("the two shapes of one source type (one OpenSearch index) give a field two JSON types:\n  %s\nwinlogbeat: %s\nnxlog:      %s",
			strings.Join(clash, "\n  "), res[0].Output, res[1].Output)
	}
}

// TestWindowsEventlogEventCreatedIsADate: the profile renames NXLog's
// EventReceivedTime to event.created, an ECS date field that Winlogbeat and
// Elastic Agent fill with an ISO 8601 UTC time (event.created
// "2026-11-29T10:00:01.000Z") in the same index (logs-windows.eventlog-*).
// NXLog CE (and any NXLog without a DateFormat with a zone) writes its
// datetimes as "YYYY-MM-DD hh:mm:ss" in the host's local time - the
// project's own docs say so ("NXLog writes EventTime in the host's local
// time without a zone", rules/profiles/40-os.yaml, docs/shippers.md), and
// the recommended Exec in docs/shippers.md converts only $EventTime. Such a
// value is not a date OpenSearch parses (strict_date_optional_time): once
// event.created is mapped as a date (ECS templates; dynamic date detection
// on the first Winlogbeat event), every NXLog Windows event is refused
// (mapper_parsing_exception) and quarantined, and its value is local time
// with no zone anyway. Unlike EventTime, which goes through the timestamp
// parser into @timestamp, event.created is copied verbatim.
//
// Shapes: NXLog CE to_json writes datetimes as "2017-12-19 17:45:02"
// (real NXLog CE Windows records quoted in public code, e.g.
// {"EventTime":"2017-12-19 17:45:02","Hostname":...,"Keywords":-9214364837600034816,...});
// NXLog outputs local time unless told otherwise
// (https://docs.nxlog.co/platform/current/log-collection/how-to/format-timestamps.html);
// the repository's own NXLog rule test in 20-p2-security-telemetry_test.yaml
// uses "EventTime": "2026-11-28 10:00:00"; ECS event.created:
// https://www.elastic.co/guide/en/ecs/current/ecs-event.html#field-event-created (type date).
func TestWindowsEventlogEventCreatedIsADate(t *testing.T) {
	r := exampleRouter(t)
	res := faultRun(t, r, `tests:
  - name: nxlog ce sysmon process creation
    event: {"EventTime": "2026-11-29 10:00:00", "Hostname": "ENG-WS-2201.corp.example.com", "EventType": "INFO",
      "SeverityValue": 2, "Severity": "INFO", "EventID": 1, "SourceName": "Microsoft-Windows-Sysmon",
      "Channel": "Microsoft-Windows-Sysmon/Operational", "Image": "C:\\Windows\\System32\\cmd.exe",
      "CommandLine": "cmd.exe /c whoami", "User": "CORP\\bob",
      "EventReceivedTime": "2026-11-29 10:00:01", "SourceModuleName": "eventlog", "SourceModuleType": "im_msvistalog"}
    expect: {source_type: windows.eventlog}
`)
	rs := res[0]
	if rs.Diff != "" {
		t.Fatalf("%s\n%s", rs.Diff, rs.Output)
	}
	v := fastjson.MustParseBytes(rs.Output).Get("event", "created")
	if v == nil {
		return // not copied into the ECS date field: fine
	}
	s := string(v.GetStringBytes())
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		t.Errorf("event.created = %q: not an ISO 8601 date with a zone (OpenSearch's date mapping refuses it, and it is the host's local time): %v\n%s",
			s, err, rs.Output)
	}
}

// TestExpectFieldsReadsWhatRulesRead: expect.fields paths are
// documented as "dotted paths as rules name them" (rules/README.md) and
// outputField as reading "the member of the normalized event at a dotted
// path as rules read it (normalize.Lookup)". But outputField reads the
// written output, after empty values (null, "", {}, []) were removed, while
// rules read the event before that removal (README: "Rules run before that:
// ... "", {} and [] are seen as they are"). When an event has the literal
// dotted key as well as the nested member - a shipper that flattens some
// fields (Logstash/Vector/HEC fields write "winlog.channel") - and the
// literal one is empty, the rule reads the literal key ("", or null = nil)
// and the test reads the nested one: the case asserting
// winlog.channel: Security passes although the rule engine saw "" and the
// event fell to P3 (default). The rule test then certifies a field value the
// rules never saw - a wrong pass, the same blind spot `router explain`
// shows (its printed event has winlog.channel "Security" next to
// rule=default).
func TestExpectFieldsReadsWhatRulesRead(t *testing.T) {
	r := exampleRouter(t)
	res := faultRun(t, r, `tests:
  - name: literal dotted key left empty, nested member set
    event: {"winlog.channel": "", "winlog": {"channel": "Security", "event_id": 4624,
      "provider_name": "Microsoft-Windows-Security-Auditing", "event_data": {"TargetUserName": "jdoe"}}}
    expect:
      fields: {winlog.channel: Security}
`)
	rs := res[0]
	if rs.Rule == "os-windows-security" {
		t.Skipf("the rules read winlog.channel as Security: no divergence (%s)", rs.Output)
	}
	if rs.Diff == "" {
		t.Errorf("expect.fields winlog.channel: Security passed, but the rules read winlog.channel as \"\" (the literal key) and gave rule=%s priority=%s instead of os-windows-security P2\n%s",
			rs.Rule, rs.Prio, rs.Output)
	}
}
