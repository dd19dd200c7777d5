package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateReportsEveryStage: a rules directory with a faulty profile and
// a faulty rule gets both reported by one `router validate`, not the first
// stage's alone (an operator fixing one would otherwise find the next only
// on the next run).
func TestValidateReportsEveryStage(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "profiles"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("profiles/50-fw.yaml", "profiles:\n  - name: fw\n    convert: {source.port: uuid}\n")
	write("10-r.yaml", "rules:\n  - name: r\n    priority: P1\n    expr: 'x =='\n")
	out, err := run(t, "", "validate", "--rules", dir)
	if err == nil {
		t.Fatalf("validate passed:\n%s", out)
	}
	msg := err.Error() + out
	for _, want := range []string{"50-fw.yaml", "10-r.yaml"} {
		if !strings.Contains(msg, want) {
			t.Errorf("validate does not report %s: %s", want, msg)
		}
	}
}
