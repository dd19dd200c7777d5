package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logrouter/logrouter/internal/config"
)

func run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// TestExampleConfigValidates keeps config.example.yaml from rotting: it must
// load, validate and compile its rules from disk and embedded.
func TestExampleConfigValidates(t *testing.T) {
	if _, err := config.Load("../../config.example.yaml"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"validate", "-c", "../../config.example.yaml"}, {"validate"}} {
		out, err := run(t, "", args...)
		if err != nil || !strings.Contains(out, "OK") {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
}

// TestStarterRulesPass runs the rule test files shipped in rules/.
func TestStarterRulesPass(t *testing.T) {
	out, err := run(t, "", "rules", "test", "-c", "../../config.example.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, " 0 failed") {
		t.Fatalf("unexpected output:\n%s", out)
	}
}

func TestRulesTestReportsFailures(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("10-r.yaml", "rules:\n  - name: edr\n    priority: P1\n    expr: event.dataset == \"edr\"\n")
	write("10-r_test.yaml", `tests:
  - name: passes
    sourcetype: edr
    event: {a: 1}
    expect: {priority: P1, rule: edr, destinations: [siem, archive]}
  - name: fails
    event: {a: 1}
    expect: {priority: P1, rule: edr, destinations: [archive, siem]}
`)
	out, err := run(t, "", "rules", "test", "--rules", dir)
	if exitCode(err) != 1 {
		t.Fatalf("exit %d (%v), want 1\n%s", exitCode(err), err, out)
	}
	for _, want := range []string{"FAIL", "10-r_test.yaml:7 fails", "priority:\n    - want P1\n    + got  P3", "rule:\n    - want edr\n    + got  default",
		"- want [archive, siem]\n    + got  [archive]", "2 rule tests, 1 passed, 1 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestValidateRejectsUnknownKeysWithLine(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), "  level: info ", "  levle: info ", 1)
	p := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "", "validate", "-c", p)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), `bad.yaml:13: unknown key "levle"`) {
		t.Fatalf("exit %d: %v\n%s", exitCode(err), err, out)
	}
}

func TestExplain(t *testing.T) {
	in := `{"metadata":{"eventType":"DetectionSummaryEvent"},"event":{"ComputerName":"ws1"}}
not json but text
{"broken":
`
	out, err := run(t, in, "explain", "--sourcetype", "crowdstrike.falcon")
	if exitCode(err) != 1 {
		t.Fatalf("want exit 1 for the broken line, got %v\n%s", err, out)
	}
	for _, want := range []string{"line 1: rule=", "priority=P1", "destinations=[archive, siem]", "line 2:", `"message":"not json but text"`, "line 3: rejected (invalid_json)"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain output lacks %q:\n%s", want, out)
		}
	}
	out, err = run(t, `{"a":1}`+"\n", "explain", "-o", "json")
	if err != nil || !strings.Contains(out, `"priority":"P3"`) || !strings.Contains(out, `"event":{"@timestamp"`) {
		t.Errorf("json explain: %v\n%s", err, out)
	}
}

// TestExplainBatchEnvelope: an Event Hubs batch is explained record by
// record, as the inputs split it; each Entra record meets the Entra rule.
func TestExplainBatchEnvelope(t *testing.T) {
	in := `{"records":[{"time":"2026-11-29T10:00:00Z","resourceId":"/tenants/1/providers/Microsoft.aadiam","operationName":"Sign-in activity","category":"SignInLogs","tenantId":"1","callerIpAddress":"203.0.113.7"},` +
		`{"time":"2026-11-29T10:00:02Z","resourceId":"/tenants/1/providers/Microsoft.aadiam","operationName":"Add member to role","category":"AuditLogs","tenantId":"1"}]}` + "\n"
	out, err := run(t, in, "explain", "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := strings.Split(strings.TrimSpace(out), "\n")
	if len(got) != 2 {
		t.Fatalf("%d results, want one per record:\n%s", len(got), out)
	}
	for i, g := range got {
		if !strings.Contains(g, fmt.Sprintf(`"line":1,"record":%d,`, i+1)) || !strings.Contains(g, `"source_type":"azure.entra_id"`) || !strings.Contains(g, `"priority":"P2"`) {
			t.Errorf("record %d: %s", i+1, g)
		}
	}
}

// TestSyslogLinesThroughStarterRules: vendor lines as devices send them over
// syslog get the priority the taxonomy promises.
func TestSyslogLinesThroughStarterRules(t *testing.T) {
	lines := []struct{ line, prio, dataset string }{
		{`<190>date=2026-11-28 time=10:04:00 devname="FGT60E-HQ" devid="FGT60E4Q16000001" logid="0000000013" type="traffic" subtype="forward" level="notice" srcip=10.1.1.5 srcport=51234 dstip=8.8.8.8 dstport=53 action="accept" policyid=4`, "P2", "fortinet.fortigate"},
		{`<166>Nov 28 2026 10:00:00 asa01 : %ASA-6-302013: Built inbound TCP connection 4926 for outside:203.0.113.5/51234 (203.0.113.5/51234) to inside:10.1.1.10/443 (10.1.1.10/443)`, "P2", "cisco.asa"},
		{`<38>Nov 28 10:00:00 web01 sshd[2212]: Failed password for root from 198.51.100.23 port 41234 ssh2`, "P2", "linux.auth"},
		{`<14>1 2026-11-28T10:00:00Z app01 checkout - - - {"level":"info","msg":"order placed","event":{"dataset":"app.checkout"}}`, "P3", "app.checkout"},
		{`<9>CEF:0|CrowdStrike|FalconHost|1.0|DetectionSummaryEvent|Detection Summary Event|8|src=10.0.0.1 suser=CORP\\jdoe`, "P1", "crowdstrike.falcon"},
	}
	var in strings.Builder
	for _, l := range lines {
		in.WriteString(l.line + "\n")
	}
	out, err := run(t, in.String(), "explain", "--format", "syslog", "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := strings.Split(strings.TrimSpace(out), "\n")
	if len(got) != len(lines) {
		t.Fatalf("%d results for %d lines:\n%s", len(got), len(lines), out)
	}
	for i, l := range lines {
		if !strings.Contains(got[i], `"priority":"`+l.prio+`"`) || !strings.Contains(got[i], `"source_type":"`+l.dataset+`"`) {
			t.Errorf("line %d (%s): want %s %s, got %s", i+1, l.dataset, l.prio, l.dataset, got[i])
		}
	}
}

// TestProductionExample keeps docs/examples/production.yaml (S3, Splunk HEC,
// syslog CEF, OpenSearch) valid, and its archive queryable: router archive
// ddl prints the Athena table for its s3 destination.
func TestProductionExample(t *testing.T) {
	for _, v := range []string{"LOGROUTER_NODE", "LOGROUTER_HEC_TOKEN", "LOGROUTER_CLOUDTRAIL_TOKEN", "KAFKA_PASSWORD", "SPLUNK_HEC_TOKEN"} {
		t.Setenv(v, "x-"+strings.ToLower(v))
	}
	t.Setenv("LOGROUTER_HASH_KEY", "00112233445566778899aabbccddeeff")
	// The example names the rules where the gateway mounts them
	// (/etc/logrouter/rules); here they are the repository's.
	data, err := os.ReadFile("../../docs/examples/production.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rulesDir, _ := filepath.Abs("../../rules")
	local := strings.Replace(string(data), "/etc/logrouter/rules", rulesDir, 1)
	if local == string(data) {
		t.Fatal("production.yaml no longer names /etc/logrouter/rules")
	}
	cfg := filepath.Join(t.TempDir(), "production.yaml")
	if err := os.WriteFile(cfg, []byte(local), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "", "validate", "-c", cfg)
	if err != nil || !strings.Contains(out, "OK") || !strings.Contains(out, "destinations: archive, splunk, qradar, opensearch") {
		t.Fatalf("validate: %v\n%s", err, out)
	}
	out, err = run(t, "", "archive", "ddl", "-c", cfg, "--table", "security.logrouter_archive")
	if err != nil {
		t.Fatalf("archive ddl: %v\n%s", err, out)
	}
	for _, want := range []string{"CREATE EXTERNAL TABLE IF NOT EXISTS `security`.`logrouter_archive`",
		"LOCATION 's3://acme-security-archive/logs/'", "'projection.enabled'='true'"} {
		if !strings.Contains(out, want) {
			t.Errorf("archive ddl output lacks %q:\n%s", want, out)
		}
	}
	// Where the table is made (a laptop, a CI job) the router's secrets
	// are not set: the s3 destination uses none, so ddl still works
	// (before, every ${VAR} of the file had to be set).
	for _, v := range []string{"LOGROUTER_NODE", "LOGROUTER_HEC_TOKEN", "LOGROUTER_CLOUDTRAIL_TOKEN", "KAFKA_PASSWORD", "SPLUNK_HEC_TOKEN", "LOGROUTER_HASH_KEY"} {
		t.Setenv(v, "")
	}
	if _, err := run(t, "", "validate", "-c", cfg); err == nil {
		t.Error("control: validate accepted the file without its secrets")
	}
	if out2, err := run(t, "", "archive", "ddl", "-c", cfg, "--table", "security.logrouter_archive"); err != nil || out2 != out {
		t.Errorf("archive ddl without the file's secrets: %v\n%s", err, out2)
	}
	if _, err := run(t, "", "archive", "ddl", "-c", "../../config.example.yaml"); err == nil || !strings.Contains(err.Error(), "no destination of type s3") {
		t.Errorf("archive ddl without an s3 destination: %v", err)
	}
}
