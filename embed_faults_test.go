package logrouter

import (
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"
)

// TestEveryRuleFileIsEmbedded: the rule loaders read .yml as well as
// .yaml (rule files, tests, profiles), but the binary embeds the starter
// rules by pattern, and `go run ./cmd/router rules test` / `validate`
// without -c run on the embedded copy: a rules/12-local.yml with a failing
// test passed that gate ("560 passed") and ran in production untested. A
// file the loaders would read that the binary does not embed fails here,
// in CI, saying what to do.
func TestEveryRuleFileIsEmbedded(t *testing.T) {
	for _, dir := range []string{"rules", "rules/profiles"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
				continue
			}
			p := path.Join(dir, name)
			if _, err := fs.Stat(StarterRules, p); err != nil {
				t.Errorf("%s is read by the rule loaders but not embedded in the binary, so `router rules test` and `router validate` without -c never load it: name it %s (the binary embeds %s/*.yaml)",
					p, strings.TrimSuffix(name, ".yml")+".yaml", dir)
			}
		}
	}
}
