package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// TestStatsWithoutConfigReadsAdminEnv: `router run` without -c listens where
// LOGROUTER_ADMIN_ADDR says (the embedded config's admin.address); `router
// stats` without -c asked :8686 whatever it said, and printed another
// router's ledger, or none, without a word.
func TestStatsWithoutConfigReadsAdminEnv(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/admin/stats" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"inputs":[{"input":"from-env"}]}`))
	}))
	defer srv.Close()
	t.Setenv("LOGROUTER_ADMIN_ADDR", strings.TrimPrefix(srv.URL, "http://"))
	out, err := run(t, "", "stats", "--json")
	if err != nil || !strings.Contains(out, "from-env") {
		t.Fatalf("stats without -c and LOGROUTER_ADMIN_ADDR=%s: %v\n%s", srv.URL, err, out)
	}
}

// TestMissingRulesDirSaysWhere: a rules directory that does not exist (a
// configuration copied away from its rules/, rules.dir being relative to
// it) was reported as "read directory .": neither where it looked nor why.
func TestMissingRulesDirSaysWhere(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rules")
	_, err := run(t, "", "rules", "test", "--rules", dir)
	if err == nil || !strings.Contains(err.Error(), dir+" does not exist") || !strings.Contains(err.Error(), "relative to the configuration file") {
		t.Fatalf("rules test --rules %s: %v", dir, err)
	}
}

// TestExplainHECEnvelopes: `router explain` read a HEC body as one event
// holding the envelope (sourcetype unknown, P3) where the router sends the
// event it carries to the SIEM (P1); --format hec unwraps envelopes as the
// event endpoint does, each numbered, a blank event refused.
func TestExplainHECEnvelopes(t *testing.T) {
	body := `{"time":1795860000,"host":"ws-042","sourcetype":"crowdstrike.falcon","event":{"metadata":{"eventType":"DetectionSummaryEvent"},"event":{"ComputerName":"ws-042","Severity":4}}}` +
		`{"event":{"records":[{"a":1},{"a":2}]},"sourcetype":"aws.cloudtrail"}` + "\n"
	out, err := run(t, body, "explain", "--format", "hec")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"envelope 1: rule=edr-crowdstrike-detection priority=P1",
		`"@timestamp":"2026-11-28T10:00:00.000Z"`,
		"envelope 2 record 2: rule=cloud-aws-cloudtrail priority=P2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain --format hec lacks %q:\n%s", want, out)
		}
	}
	out, err = run(t, `{"event":""}`+"\n", "explain", "--format", "hec")
	if err == nil || !strings.Contains(out, "envelope 1: rejected (hec_blank_event") {
		t.Errorf("a blank event: %v\n%s", err, out)
	}
}

// TestQuarantineListNamesWhereItLooked: run from another directory, the
// quarantine commands said "stat ./data/quarantine: no such file or
// directory", not that the path is the working directory's.
func TestQuarantineListNamesWhereItLooked(t *testing.T) {
	t.Chdir(t.TempDir())
	_, err := run(t, "", "quarantine", "list")
	if err == nil || !strings.Contains(err.Error(), "relative to the working directory") {
		t.Fatalf("quarantine list elsewhere: %v", err)
	}
}
