package normalize

// Fault tests from a review of 669f8eb ("profiles: wildcard segments in
// rename/drop sources"). Each fails on the code as found; the comments
// describe that code.

import (
	"strings"
	"testing"
)

// TestWildcardShadowsLiteralPath
//
// What is wrong: walk (normalize.go, the loop over wild after
// "n.path = append(n.path, key...)") rewrites the path of every member
// whose key begins with a wildcard's prefix to the wildcard segment before
// it looks the path up, so a rename or drop written with the member's own
// key (log.syslog.structured_data.junos@2636.1.1.1.2.129.policy-name) is
// never found once any wildcard under the same object has that prefix.
// overlappingWild refuses two overlapping wildcards for precisely this
// reason ("a member is read as one of them only, so the paths below the
// other would silently not apply to it"), but a literal path that the
// wildcard covers is neither refused nor applied. The same happens with a
// global normalize.rename/drop (merged into every profile's table) under
// an object where a profile has a wildcard.
//
// How to reproduce: a profile renaming sd.junos@*.source-address and, for
// one platform, sd.junos@2636.1.1.1.2.129.policy-name, and dropping
// sd.junos@2636.1.1.1.2.129.roles; normalize an event with that SD-ID.
//
// Expected: either Compile refuses the profile (as it refuses overlapping
// wildcards, docs/schema.md "two wildcards under one object where one's
// prefix begins the other's are refused") or both paths apply: rule.name
// is written and roles dropped. Silently ignoring a configured rename or
// drop is what the overlap check exists to prevent.
func TestWildcardShadowsLiteralPath(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name: "srx",
		Rename: OrderedMap{
			Keys:   []string{"sd.junos@*.source-address", "sd.junos@2636.1.1.1.2.129.policy-name"},
			Values: []string{"source.ip", "rule.name"},
		},
		Drop: []string{"sd.junos@2636.1.1.1.2.129.roles"},
	}}
	if _, err := Compile(cfg); err != nil {
		return // refused at load time: acceptable
	}
	out, _ := faultAppend(t, cfg, `{"sd":{"junos@2636.1.1.1.2.129":{"source-address":"10.0.0.1","policy-name":"allow-web","roles":"N/A"}}}`,
		&EventMeta{SourceType: []byte("srx")})
	if !strings.Contains(out, `"source":{"ip":"10.0.0.1"}`) {
		t.Fatalf("precondition: the wildcard rename applies: %s", out)
	}
	if !strings.Contains(out, `"rule":{"name":"allow-web"}`) || strings.Contains(out, `"roles"`) {
		t.Errorf("a rename and a drop of a literal path under the wildcard's object were accepted and silently not applied:\n%s", out)
	}
}

// TestWildcardObjectRenameLosesMembers
//
// What is wrong: a wildcard rename whose source is the object itself
// (sd.junos@*: juniper.srx, the natural way to keep all of an SRX's
// parameters under juniper.srx as Elastic's integration does) moves every
// matching member to one target with setPath(a.target, kObject, gen), gen
// being the walk's generation of the parent object. Two members of one
// object have the same gen, so setH takes the second for a repeated key of
// one JSON object ("Within one input object a repeated key is replaced
// (last wins)") and overwrites the first object's node: every parameter of
// the first SD element is lost, even those the second does not have.
// (Two different non-wildcard sources of one object target come from
// different objects' walks and merge; a wildcard is the first way one
// object's two distinct keys reach one target.)
//
// How to reproduce: rename sd.junos@* to juniper.srx; an event whose sd
// has two members matching junos@* with different parameters.
//
// Expected: nothing lost (wildcard_test.go's TestWildcardSegment: "two
// members matching one wildcard are renamed as two sources of one field
// are (one wins, the other stays where it was: nothing is lost)"): x=1
// and y=2 both in the output, somewhere.
func TestWildcardObjectRenameLosesMembers(t *testing.T) {
	// Fixed by refusing it: a wildcard names an object whose members are
	// renamed, not a field that is renamed itself.
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name:   "srx",
		Rename: OrderedMap{Keys: []string{"sd.junos@*"}, Values: []string{"juniper.srx"}},
	}}
	if _, err := Compile(cfg); err == nil || !strings.Contains(err.Error(), "rename those") {
		t.Errorf("a rename of the objects a wildcard takes was accepted (%v); two would go to one target", err)
	}
}

// TestWildcardCollisionIndependentOfKeyOrder
//
// What is wrong: two members matching one wildcard that both carry the
// renamed parameter reach setRenamed with the same source path (a.src is
// the table's key, "sd.junos@*.source-address", for both), so outranks'
// tie-break "r.src < src" is false both ways and whichever member comes
// last in the input wins; the other is moved back. The same object with
// its members in the other order gives another source.ip and another
// content hash.
//
// How to reproduce: a profile renaming sd.junos@*.source-address to
// source.ip; the same event with its two SD elements in both orders.
//
// Expected: one output and one hash whatever the member order. setRenamed
// promises it ("So the result does not depend on the members' order (key
// order never changes the content hash)"); README's dedup row: "content
// hash (key order/whitespace/ingest metadata ignored)". For two sources
// of one field the winner is decided by source path; for two members of
// one wildcard it must be decided by something that is not their order
// (e.g. their keys).
func TestWildcardCollisionIndependentOfKeyOrder(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name:   "srx",
		Rename: OrderedMap{Keys: []string{"sd.junos@*.source-address"}, Values: []string{"source.ip"}},
	}}
	m := &EventMeta{SourceType: []byte("srx")}
	oa, ha := faultHash(t, cfg, `{"ts":1700000000,"sd":{"junos@2636.1.1.1.2.129":{"source-address":"10.0.0.1"},"junos@2636.1.1.1.2.26":{"source-address":"10.0.0.2"}}}`, m)
	ob, hb := faultHash(t, cfg, `{"ts":1700000000,"sd":{"junos@2636.1.1.1.2.26":{"source-address":"10.0.0.2"},"junos@2636.1.1.1.2.129":{"source-address":"10.0.0.1"}}}`, m)
	if ha != hb || !sameJSON(t, oa, ob) {
		t.Errorf("same object, other member order: hashes %#x / %#x\n out %s\n out %s", ha, hb, oa, ob)
	}
}

// TestWildcardOutsideRenameDropRefused
//
// What is wrong: only rename and drop sources honour a '*' segment
// (checkWild is called for them alone); copy, convert, drop_values, map and
// timestamp paths go through CompilePath/checkPath, which accept '*' as an
// ordinary character. A profile author who writes
// copy: {log.syslog.structured_data.junos@*.elapsed-time: ...} or
// convert: {log.syslog.structured_data.junos@*.bytes-from-client: int}
// (natural after reading that junos@* names the SD element) gets a profile
// that loads and never does anything: no member is named "junos@*".
//
// Expected: refused at load time, as the profile loader refuses other
// paths that can never match ("A source that only exists after another
// rename is refused at load time with the name to use instead",
// docs/schema.md), and as checkWild refuses a '*' in a rename target ("a
// wildcard (*) names members of the source, not a target").
func TestWildcardOutsideRenameDropRefused(t *testing.T) {
	for _, sp := range []ProfileSpec{
		{Name: "srx", Copy: OrderedMap{Keys: []string{"log.syslog.structured_data.junos@*.elapsed-time"}, Values: []string{"juniper.srx.elapsed_time"}}},
		{Name: "srx", Convert: OrderedMap{Keys: []string{"log.syslog.structured_data.junos@*.bytes-from-client"}, Values: []string{"int"}}},
	} {
		cfg := DefaultConfig()
		cfg.Profiles = []ProfileSpec{sp}
		if _, err := Compile(cfg); err == nil {
			t.Errorf("a wildcard path outside rename/drop, which can never match, was accepted: copy %v convert %v", sp.Copy.Keys, sp.Convert.Keys)
		}
	}
}
