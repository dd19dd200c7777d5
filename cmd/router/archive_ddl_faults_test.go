package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArchiveDDLTypeWithoutBlock (review of 9eec28d; fixed: the unset variables are found in the destination's expanded node tree, aliases followed, and its block is required): archive ddl
// now reads the file with config.LoadPartial, which validates nothing, and
// CheckDestination validates a destination's block only when it is set.
// A destination of type s3 without its s3 block (which validate refuses:
// "type s3 needs its block") reaches s3.DDL(*d.S3, ...) with d.S3 nil and
// the command panics. Expected: an error (exit 2), as before the commit.
func TestArchiveDDLTypeWithoutBlock(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("node: n1\ndestinations:\n  - name: archive\n    type: s3\nrouting: {all: [archive]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out string
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("router archive ddl panicked: %v", r)
			}
		}()
		out, err = run(t, "", "archive", "ddl", "-c", cfg)
	}()
	if err == nil {
		t.Errorf("archive ddl accepted type s3 without its block:\n%s", out)
	}
}

// TestArchiveDDLOneLineFlowUnsetPrefix (review of 9eec28d; fixed: the unset variables are found in the destination's expanded node tree, aliases followed, and its block is required): with the
// destinations written as a one-line flow list, the s3 destination's own
// unset ${VAR} (its prefix) is not seen as inside its item and the DDL is
// printed with the default prefix (LOCATION s3://acme-archive/logs/), not the one the router writes under, instead of failing. Expected: an
// error naming the variable.
func TestArchiveDDLOneLineFlowUnsetPrefix(t *testing.T) {
	t.Setenv("REVIEW_PREFIX", "")
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	doc := "node: n1\ndestinations: [{name: archive, type: s3, s3: {bucket: acme-archive, prefix: \"${REVIEW_PREFIX}\", staging_dir: /var/lib/s}}, {name: splunk, type: splunk_hec, splunk_hec: {url: \"https://splunk:8088\", token: t}}]\nrouting: {all: [archive], P1: [splunk]}\n"
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "", "archive", "ddl", "-c", cfg, "--destination", "archive")
	if err == nil || !strings.Contains(err.Error(), "REVIEW_PREFIX") {
		t.Errorf("a DDL printed though the prefix came from an unset variable (err %v):\n%s", err, out)
	}
}
