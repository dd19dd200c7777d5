package main

// Fault tests from a review of the docs: each failed before the fix it
// describes (the comments describe the docs and code as they were found).

// Tests from a review of the documentation against the code: each fails
// against the code and docs as they are (the comments say what was found).

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/logrouter/logrouter"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/rules"
)

// TestStarterRuleCountInDocs: README.md:67 says "all 24 starter rules
// are indexed", and docs/performance.md:31, :310, :416 and :462 speak of
// "23 starter rules". The starter set (rules/*.yaml, embedded in the
// binary) holds 29 rules: `router validate -c config.example.yaml` prints
// "29 rules, 28 natively compiled" and the start-up log says "rules":29.
// The code is right; the docs' counts are stale (fix the docs, or write
// "all starter rules" without a number).
func TestStarterRuleCountInDocs(t *testing.T) {
	set, err := rules.Load(logrouter.StarterRules, "rules", pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	n := len(set.Rules)
	re := regexp.MustCompile(`\b(\d+) starter rules\b`)
	for _, f := range []string{"../../README.md", "../../docs/performance.md"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(raw), "\n") {
			for _, m := range re.FindAllStringSubmatch(line, -1) {
				if got, _ := strconv.Atoi(m[1]); got != n {
					t.Errorf("%s:%d says %q; the starter set has %d rules", filepath.Base(f), i+1, m[0], n)
				}
			}
		}
	}
}

// TestProductionExampleValidatesAsDocumented: the header of
// docs/examples/production.yaml (lines 5-6) gives
// `router validate -c docs/examples/production.yaml` as the way to check
// it, and README.md ("Configuration") presents it as a file to start from.
// With every variable it reads set, the command still fails from the
// repository root: the file's rules.dir is /etc/logrouter/rules (the
// gateway pod's mount), which does not exist outside the pod, so the
// documented command exits 2. Worse, the error does not name the missing
// directory: "rules: rules: read directory .: open .: no such file or
// directory" (internal/app/app.go:55 hands the loader os.DirFS(dir) with
// Dir "."), so the reader cannot tell which path is wrong, while
// docs/configuration.md promises errors naming their file.
// Fix: the header should say `--rules rules` (the flag exists), and the
// loader's error should name the configured rules.dir (code).
func TestProductionExampleValidatesAsDocumented(t *testing.T) {
	for k, v := range map[string]string{
		"LOGROUTER_NODE":             "gw-0",
		"LOGROUTER_HEC_TOKEN":        "hec-token-0123456789",
		"LOGROUTER_CLOUDTRAIL_TOKEN": "ct-token-0123456789",
		"KAFKA_PASSWORD":             "kafka-password",
		"LOGROUTER_HASH_KEY":         "00112233445566778899aabbccddeeff",
		"SPLUNK_HEC_TOKEN":           "splunk-token",
	} {
		t.Setenv(k, v)
	}
	hdr, err := os.ReadFile("../../docs/examples/production.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(hdr), "router validate -c docs/examples/production.yaml --rules rules") {
		t.Error("the header does not give the validate command with --rules rules")
	}
	// As the header says (from the repository root: rules is ../../rules here).
	if out, err := run(t, "", "validate", "-c", "../../docs/examples/production.yaml", "--rules", "../../rules"); err != nil {
		t.Errorf("router validate -c docs/examples/production.yaml --rules rules: %v\n%s", err, out)
	}
	if _, err := os.Stat("/etc/logrouter/rules"); err == nil {
		return // the pod's path exists here
	}
	// Without --rules, the error names the directory that is missing.
	out, err := run(t, "", "validate", "-c", "../../docs/examples/production.yaml")
	if err == nil || !strings.Contains(err.Error()+out, "/etc/logrouter/rules") {
		t.Errorf("without --rules: the error does not name the missing rules directory /etc/logrouter/rules: %v\n%s", err, out)
	}
}
