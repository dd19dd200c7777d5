package rules

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestSchemaDocListsSplunkSynonyms: docs/schema.md says "The
// starter profiles know the source types of Splunk's add-ons for their
// sources" and tables them per profile. 1a200f9 added cp_log
// (checkpoint.firewall, which has no row) and pan:firewall, pan:correlation
// (paloalto.panos) to the profiles, but not to the table. What I did: read
// every starter profile's synonyms and look for each, backquoted, in
// docs/schema.md. What happens: cp_log, pan:firewall and pan:correlation
// are missing. What should happen: the table lists what the profiles
// accept. Why it matters: an admin setting up Check Point's Splunk app
// feed (cp_log) or the PAN add-on's pan:firewall reads there that they are
// not handled and works around it (or routes them elsewhere).
func TestSchemaDocListsSplunkSynonyms(t *testing.T) {
	doc, err := os.ReadFile("../docs/schema.md")
	if err != nil {
		t.Fatal(err)
	}
	// The firewall profiles only (1a200f9 changed them; the zeek row
	// abbreviates its bro:*:json names with "...").
	files, _ := filepath.Glob("profiles/50-firewall.yaml")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var spec struct {
			Profiles []struct {
				Name     string   `yaml:"name"`
				Synonyms []string `yaml:"synonyms"`
			} `yaml:"profiles"`
		}
		if err := yaml.Unmarshal(b, &spec); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, p := range spec.Profiles {
			for _, s := range p.Synonyms {
				if !strings.Contains(string(doc), "`"+s) {
					t.Errorf("%s: profile %s accepts Splunk source type %q, not in docs/schema.md's table", f, p.Name, s)
				}
			}
		}
	}
}
