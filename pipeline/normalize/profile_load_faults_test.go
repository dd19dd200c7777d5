package normalize

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestProfileDuplicateKeysAccepted: the configuration file refuses a
// key written twice in a mapping (yaml.v3: `mapping key "x" already
// defined at line N`), and so does every struct of a profile, but rename,
// convert, set and detect.equals are OrderedMaps whose UnmarshalYAML reads
// the node's pairs as they come, so there a repeated key is silently
// accepted. In a profile of dozens of renames (crowdstrike.falcon has 25),
// a second "srcip: ..." line added later quietly overrides the first one
// (the action table keeps the last), and a repeated detect.equals key with
// two values makes detection require both, so the profile never matches
// and its events go un-normalized, with no error from `router validate`.
// OrderedMap.UnmarshalYAML should refuse a repeated key with its line, as
// the decoder does for every other mapping.
func TestProfileDuplicateKeysAccepted(t *testing.T) {
	for _, tc := range []struct{ key, yaml string }{
		{"rename", "profiles:\n  - name: fw\n    rename:\n      srcip: source.ip\n      dstip: destination.ip\n      srcip: client.ip\n"},
		{"convert", "profiles:\n  - name: fw\n    convert: {source.port: int, source.port: ip}\n"},
		{"set", "profiles:\n  - name: fw\n    set:\n      observer.vendor: Fortinet\n      observer.vendor: Palo Alto\n"},
		{"detect.equals", "profiles:\n  - name: fw\n    detect:\n      equals:\n        type: traffic\n        type: utm\n"},
	} {
		fsys := fstest.MapFS{"profiles/50-fw.yaml": {Data: []byte(tc.yaml)}}
		specs, err := LoadProfiles(fsys, "profiles")
		if err == nil {
			cfg := DefaultConfig()
			cfg.Profiles = specs
			_, err = Compile(cfg)
		}
		if err == nil {
			t.Errorf("%s: a key written twice is accepted; one of its values is silently ignored", tc.key)
		} else if !strings.Contains(err.Error(), "50-fw.yaml:") {
			t.Errorf("%s: refused without file and line: %v", tc.key, err)
		}
	}
}

// TestProfileErrorLineAfterEmptyItem: LoadProfiles numbers the
// profiles by the items of the YAML list (listLines), but yaml.v3 drops a
// null item ("-" with nothing after it, e.g. a profile whose lines were
// commented out) from the decoded []ProfileSpec. Every later profile then
// gets the line of the item before it, so errors point at the wrong place
// (here at line 4, the empty "-", instead of line 5 where the faulty
// profile is), and the empty item itself is silently ignored. LoadProfiles
// should refuse an empty item with its line, or at least keep the lines in
// step with the profiles decoded.
func TestProfileErrorLineAfterEmptyItem(t *testing.T) {
	yaml := "profiles:\n" +
		"  - name: a\n" +
		"    set: {observer.vendor: A}\n" +
		"  -\n" +
		"  - name: b\n" +
		"    convert: {source.port: uuid}\n"
	specs, err := LoadProfiles(fstest.MapFS{"profiles/p.yaml": {Data: []byte(yaml)}}, "profiles")
	if err != nil {
		if !strings.Contains(err.Error(), "p.yaml:4") {
			t.Fatalf("refused, but not at the empty item (line 4): %v", err)
		}
		return
	}
	cfg := DefaultConfig()
	cfg.Profiles = specs
	_, err = Compile(cfg)
	if err == nil {
		t.Fatal("convert to uuid accepted")
	}
	if !strings.Contains(err.Error(), "p.yaml:5:") {
		t.Errorf("profile b starts at line 5; the error names another line: %v", err)
	}
}
