package main

// A review: statements this session (763fb86..cb08da1) added to the docs,
// held against the code. Each test fails on the docs and code as found;
// the comments say what was found.

import (
	"regexp"
	"strings"
	"testing"

	"github.com/logrouter/logrouter/pipeline/normalize"
)

// TestDocsWildcardRefusals
//
// What is wrong: docs/schema.md (renames, item 1; added by 669f8eb/d414063)
// documents the wildcard segments of profile sources as "A segment of a
// source (not the first) may end in `*`: it names the members whose key
// begins with the rest, whatever follows (...); two wildcards under one
// object where one's prefix begins the other's are refused". The loader
// refuses more than that, with nothing in the docs saying so
// (pipeline/normalize/profile.go checkWild, overlappingWild and
// compileProfiles):
//   - a second wildcard in the same path (a.x*.y*.c): "one wildcard (*) per
//     path" (checkWild), though each of its segments is "a segment (not
//     the first)" ending in `*`;
//   - a rename whose source ENDS in the wildcard segment
//     (log.syslog.structured_data.junos@*, the docs' own SD-ID written as
//     a source): "a wildcard names the members of an object whose members
//     are renamed; rename those" (compileProfiles); a drop may end so;
//   - a literal path under an object one of whose wildcards takes the
//     same member (sd.junos@2636.1.c beside sd.junos@*.a): "write the path
//     with the wildcard" (overlappingWild, second loop), which is no
//     "two wildcards";
//   - a segment that is `*` alone (sd.*.a: "ends a segment after a
//     prefix"), though the docs' "the members whose key begins with the
//     rest" reads as every member when the rest is empty.
//
// Reproduce: write any of these in a profile under rules/profiles/ and run
// `router rules test --rules rules`: the profile is refused with the
// messages above, which the documentation does not foretell.
// Expected: docs/schema.md states these rules where it introduces the
// wildcard (one wildcard per path, after a prefix, not at the end of a
// rename source, no literal path its wildcard also takes), so that a
// profile author learns them from the docs and not from a load error.
func TestDocsWildcardRefusals(t *testing.T) {
	schema := readDoc2(t, "../../docs/schema.md")
	i := strings.Index(schema, "may end in `*`")
	if i < 0 {
		t.Fatal("docs/schema.md: the wildcard paragraph (\"may end in `*`\") is gone; re-read this test")
	}
	j := strings.Index(schema[i:], "\n2. **parses**")
	if j < 0 {
		t.Fatal("docs/schema.md: item 2 (parses) not found after the wildcard paragraph")
	}
	passage := strings.Join(strings.Fields(schema[i-200:i+j]), " ")

	for _, tc := range []struct {
		what   string
		spec   normalize.ProfileSpec
		refuse string         // the loader's message (precondition)
		doc    *regexp.Regexp // what the docs should say
	}{
		{
			what:   "one wildcard per path (a.x*.y*.c refused)",
			spec:   normalize.ProfileSpec{Name: "p", Rename: normalize.OrderedMap{Keys: []string{"sd.x*.y*.c"}, Values: []string{"t"}}},
			refuse: "one wildcard (*) per path",
			doc:    regexp.MustCompile(`(?i)one wildcard|a single wildcard|only one (wildcard|\x60\*\x60)|per path|two wildcards (in|on) (a|one) (path|source)`),
		},
		{
			what:   "a rename source cannot end in the wildcard segment (sd.junos@* refused)",
			spec:   normalize.ProfileSpec{Name: "p", Rename: normalize.OrderedMap{Keys: []string{"sd.junos@*"}, Values: []string{"t"}}},
			refuse: "rename those",
			doc:    regexp.MustCompile(`(?i)(last|final) segment|ends? (a|the) rename|not (at )?the end|cannot end|rename (of )?the (wildcard's )?(objects|members themselves)|rename their members`),
		},
		{
			what: "a literal path its object's wildcard also takes is refused (sd.junos@2636.1.c beside sd.junos@*.a)",
			spec: normalize.ProfileSpec{Name: "p", Rename: normalize.OrderedMap{Keys: []string{"sd.junos@*.a"}, Values: []string{"t"}},
				Drop: []string{"sd.junos@2636.1.c"}},
			refuse: "write the path with the wildcard",
			doc:    regexp.MustCompile(`(?i)literal|names? (a|the) member .{0,40}wildcard|(path|member) (that|which) (a|the|its) wildcard (also )?takes`),
		},
		{
			what:   "a segment that is `*` alone is refused (sd.*.a)",
			spec:   normalize.ProfileSpec{Name: "p", Rename: normalize.OrderedMap{Keys: []string{"sd.*.a"}, Values: []string{"t"}}},
			refuse: "ends a segment after a prefix",
			doc:    regexp.MustCompile("(?i)after a (non-empty )?prefix|\x60\\*\x60 alone|a bare \x60?\\*|prefix (is )?required|not (a|the) whole segment"),
		},
	} {
		cfg := normalize.DefaultConfig()
		cfg.Profiles = []normalize.ProfileSpec{tc.spec}
		_, err := normalize.Compile(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.refuse) {
			continue // the loader accepts it (or refuses it otherwise): nothing the docs must add
		}
		if !tc.doc.MatchString(passage) {
			t.Errorf("docs/schema.md, wildcard segments: the loader refuses it (%q), the docs do not say: %s", tc.refuse, tc.what)
		}
	}
}
