package s3

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Fatalf("%s differs from %s (go test -run %s -update rewrites it):\n%s", t.Name(), path, t.Name(), got)
	}
}

func TestDDLDefault(t *testing.T) {
	golden(t, "ddl_default.sql", DDL(S3Config{Bucket: "acme-security-archive", StagingDir: "/var/lib/logrouter/s3"}, "security.logrouter_archive"))
}

func TestDDLCustomLayout(t *testing.T) {
	got := DDL(S3Config{Bucket: "b", Prefix: "arch/v1", Compression: "gzip",
		KeyTemplate: "{prefix}/{source_type}/{date}T{hour}/{node}-{start}-{seq}"}, "t")
	for _, want := range []string{
		"PARTITIONED BY (\n  `source_type` string,\n  `dt` string,\n  `hour` string\n)",
		"LOCATION 's3://b/arch/v1/'",
		"'storage.location.template'='s3://b/arch/v1/${source_type}/${dt}T${hour}/'",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("DDL lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "`priority`") || strings.Contains(got, "projection.priority") {
		t.Errorf("DDL partitions by priority, absent from the template:\n%s", got)
	}
	// A directory holding {node} cannot be projected: say so.
	got = DDL(S3Config{Bucket: "b", KeyTemplate: "{prefix}/{node}/{date}/{node}-{start}"}, "t")
	if !strings.HasPrefix(got, "-- key_template directories hold {node}") {
		t.Errorf("no warning for {node} in a directory:\n%s", got)
	}
	if got := DDL(S3Config{Bucket: "b", KeyTemplate: "{nope}"}, "t"); !strings.HasPrefix(got, "-- cannot build the table") {
		t.Errorf("invalid template: %s", got)
	}
}
