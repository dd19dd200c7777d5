package harness

// Fault tests from a review of the harness's accounting: each failed
// before its fix (the comments describe what was found).

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMECompareRecipeFieldsExist: bench/README.md, "Comparing two
// commits", diffs two `lrbench -json` reports with
// jq '.runs[] | {name, ..., peak_rss_mb, ...}'. The JSON field is
// peak_rss_mib (report.go, since RSS became MiB), so jq yields null on
// both sides and the recipe silently never compares peak RSS: a memory
// regression between two commits diffs as equal. Expected: every field
// the recipe selects is a field of a run in the JSON report.
func TestREADMECompareRecipeFieldsExist(t *testing.T) {
	b, err := json.Marshal(&RunReport{QueueMode: "disk"})
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`jq '\.runs\[\] \| \{([^}]*)\}'`)
	m := re.FindAllSubmatch(readme, -1)
	if len(m) == 0 {
		t.Fatal("no jq '.runs[] | {...}' recipe in bench/README.md")
	}
	checked := map[string]bool{}
	for _, sm := range m {
		for _, f := range strings.Split(string(sm[1]), ",") {
			f = strings.TrimSpace(f)
			if checked[f] {
				continue
			}
			checked[f] = true
			if _, ok := fields[f]; !ok {
				t.Errorf("README's compare recipe selects %q, which no run of `lrbench -json` has (jq prints null for both commits)", f)
			}
		}
	}
}
