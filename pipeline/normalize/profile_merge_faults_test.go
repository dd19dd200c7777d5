package normalize

// Fault tests from a review of the profile loader's YAML merge keys and
// aliases (OrderedMap.UnmarshalYAML, commit c5eca98 "shared anchors"). Each
// failed against the code as it was found; the comments describe that code.
//
// Who is affected: anyone writing or editing a profile with the documented
// `shared:` anchors (docs/schema.md, "Profiles of one source can share their
// mappings"), the starter profiles' authors included (rules/profiles/40-os.yaml
// and 20-ndr.yaml share their renames this way). What a SOC analyst loses: a
// rename, conversion or constant other than the one the YAML says, applied
// silently (`router validate` accepts it), so a field lands under the wrong
// ECS name for every event of that source.
//
// Source for the expected semantics: the YAML merge key type,
// https://yaml.org/type/merge.html ("If the value associated with the merge
// key is a sequence, then this sequence is expected to contain mapping
// nodes and each of these nodes is merged in turn according to its order in
// the sequence. Keys in mapping nodes earlier in the sequence override keys
// specified in later mapping nodes."), and the YAML decoder the loader uses
// (go.yaml.in/yaml/v3), decoding the same documents into Go maps.

import (
	"fmt"
	"testing"
	"testing/fstest"

	"go.yaml.in/yaml/v3"
)

func faultLoad(t *testing.T, doc string) ([]ProfileSpec, error) {
	t.Helper()
	return LoadProfiles(fstest.MapFS{"profiles/10-x.yaml": {Data: []byte(doc)}}, "profiles")
}

// faultYAMLRename decodes the first profile's rename with yaml.v3 into a
// plain map: what YAML itself makes of the document.
func faultYAMLRename(t *testing.T, doc string) (map[string]string, error) {
	t.Helper()
	var f struct {
		Shared   yaml.Node `yaml:"shared"`
		Profiles []struct {
			Name   string            `yaml:"name"`
			Rename map[string]string `yaml:"rename"`
		} `yaml:"profiles"`
	}
	if err := yaml.Unmarshal([]byte(doc), &f); err != nil {
		return nil, err
	}
	return f.Profiles[0].Rename, nil
}

// TestMergeSequenceEarlierWins: with `<<: [*a, *b]` the loader
// merges a, then b, and lets b's key override a's ("a later merged mapping
// overrides, as in YAML", profile.go). YAML says the opposite: keys of
// mappings EARLIER in the sequence win, and yaml.v3 decodes the document so
// (x -> a.x). A profile author who merges a vendor's renames over generic
// ones (`<<: [*panos_renames, *common_renames]`) gets the generic target for
// every key both define, silently.
func TestMergeSequenceEarlierWins(t *testing.T) {
	doc := `shared:
  a: &a {x: a.x, y: a.y}
  b: &b {x: b.x, z: b.z}
profiles:
  - name: one
    rename:
      <<: [*a, *b]
`
	yml, err := faultYAMLRename(t, doc)
	if err != nil || yml["x"] != "a.x" {
		t.Fatalf("yaml.v3 itself: %v %v (the premise of this test)", yml, err)
	}
	specs, err := faultLoad(t, doc)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for i, k := range specs[0].Rename.Keys {
		got[k] = specs[0].Rename.Values[i]
	}
	if fmt.Sprint(got) != fmt.Sprint(yml) {
		t.Errorf("rename %v; YAML (and yaml.v3) make it %v: the earlier mapping of a merge sequence must win", got, yml)
	}
}

// TestMergeKeyWrittenTwice: two `<<` keys in one mapping are a key
// written twice; yaml.v3 refuses the document (`mapping key "<<" already
// defined`), and the loader refuses every other repeated key in rename,
// convert, set and detect.equals ("one of its values would be silently
// ignored"). But its duplicate check skips merge keys, so
// `{<<: *a, <<: *b}` is accepted and b silently replaces a's value of every
// key both anchors define.
func TestMergeKeyWrittenTwice(t *testing.T) {
	doc := `shared:
  a: &a {x: a.x}
  b: &b {x: b.x}
profiles:
  - name: one
    rename:
      <<: *a
      <<: *b
`
	if _, err := faultYAMLRename(t, doc); err == nil {
		t.Fatal("yaml.v3 accepts two merge keys (the premise of this test)")
	}
	specs, err := faultLoad(t, doc)
	if err == nil {
		t.Errorf("two merge keys in one rename accepted (rename %v -> %v): one anchor's value of x is silently ignored",
			specs[0].Rename.Keys, specs[0].Rename.Values)
	}
}

// TestAliasAsKey: an alias may stand for a key as well as a value
// (`*src : user.name`); YAML resolves it to the anchored scalar and yaml.v3
// decodes the rename as winlog.event_data.TargetUserName -> user.name. The
// loader resolves aliases only in values and reads an alias key's Value,
// which is the anchor's NAME: it renames a field called "src" (which no
// event has), and the field the author meant keeps its name, silently.
func TestAliasAsKey(t *testing.T) {
	doc := `shared:
  src: &src winlog.event_data.TargetUserName
profiles:
  - name: one
    rename:
      *src : user.name
`
	yml, err := faultYAMLRename(t, doc)
	if err != nil || yml["winlog.event_data.TargetUserName"] != "user.name" {
		t.Fatalf("yaml.v3 itself: %v %v (the premise of this test)", yml, err)
	}
	specs, err := faultLoad(t, doc)
	if err != nil {
		return // refusing an alias key, with its line, is fine too
	}
	if got := fmt.Sprint(specs[0].Rename.Keys); got != "[winlog.event_data.TargetUserName]" {
		t.Errorf("rename sources %s; the alias stands for winlog.event_data.TargetUserName (yaml.v3: %v)", got, yml)
	}
}
