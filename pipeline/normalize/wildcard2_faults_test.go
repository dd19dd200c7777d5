package normalize

// A review: faults of the wildcard segments in rename/drop sources
// (669f8eb, and b31210d's fixes: rankSource/wildMember in walk, the rename
// refusal in compileProfiles, checkPath's refusal of '*'). Each test fails
// on the code as found; the comments describe that code.

import (
	"strings"
	"testing"
)

// TestNestedWildcardRankIndependentOfOrder
//
// What is wrong: rankSource (normalize.go) ranks a rename below a wildcard
// member by src + "\x00" + n.wildMember, and walk sets n.wildMember to the
// key of the INNERMOST member a wildcard segment stands for (the outer
// member's key is saved in prev and replaced for the inner walk). With two
// wildcard segments in one source (a.x*.y*.c: checkWild and markInterior
// accept it, overlappingWild has nothing to refuse), two outer members
// that hold the same inner key (x1.y1 and x2.y1) get the same rank
// "a.x*.y*.c\x00y1". outranks' "r.src < src" is then false both ways, so
// the later member in the input takes the target and the earlier is moved
// back: the output and the content hash depend on member order.
//
// How to reproduce: rename a.x*.y*.c -> t; the same object with the
// members x1 and x2 in both orders.
//
// Expected: one output and one hash (rankSource's doc: "rank by their
// keys, not by their order in the event (which must not change the output
// or the content hash)"; setRenamed: "So the result does not depend on the
// members' order"; README: content hash "key order ... ignored"). The rank
// must include every wildcard member's key on the way, not only the last.
// Why it matters: the same event from two shippers gets two _ids and
// escapes dedup; which value a detection reads as t depends on key order.
func TestNestedWildcardRankIndependentOfOrder(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name:   "p",
		Rename: OrderedMap{Keys: []string{"a.x*.y*.c"}, Values: []string{"t"}},
	}}
	if _, err := Compile(cfg); err != nil {
		return // nested wildcards are refused at load time (checkWild): acceptable
	}
	m := &EventMeta{SourceType: []byte("p")}
	oa, ha := faultHash(t, cfg, `{"ts":1700000000,"a":{"x1":{"y1":{"c":"A"}},"x2":{"y1":{"c":"B"}}}}`, m)
	ob, hb := faultHash(t, cfg, `{"ts":1700000000,"a":{"x2":{"y1":{"c":"B"}},"x1":{"y1":{"c":"A"}}}}`, m)
	if !strings.Contains(oa, `"t":`) {
		t.Fatalf("precondition: the nested wildcard rename applies: %s", oa)
	}
	if ha != hb || !sameJSON(t, oa, ob) {
		t.Errorf("same object, other member order: hashes %#x / %#x\n out %s\n out %s", ha, hb, oa, ob)
	}
}

// TestWildcardObjectRenameKeepsMembers
//
// What is wrong: b31210d refuses a rename whose source ENDS in a wildcard
// (strings.HasSuffix(from, "*") in compileProfiles and Config.Validate:
// "two matching objects would go to one target"), but not a rename of an
// object below a wildcard segment (sd.junos@*.attrs), which sends one
// object per matching member to the same target just the same. walk
// moves each with setPath(a.target, kObject, gen) (no setRenamed, so no
// ranking and no moveBack); the objects merge, and a member both have
// (attrs.a) is resolved by setH's "last wins" replacement: the first
// member's value is overwritten and appears nowhere in the output, and
// which one survives depends on member order.
//
// How to reproduce: rename sd.junos@*.attrs -> juniper.attrs; an event
// whose sd has two junos@ members, each with attrs.a.
//
// Expected: refused at load time like sd.junos@* (the commit: "a rename of
// the wildcard's objects lost one (refused: rename their members)"), or
// both values in the output somewhere and one output whatever the order.
// Contract: nothing a sender sent is silently lost (setAside's and
// setRenamed's "nothing is lost"), and member order changes neither the
// output nor the content hash.
func TestWildcardObjectRenameKeepsMembers(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name:   "srx",
		Rename: OrderedMap{Keys: []string{"sd.junos@*.attrs"}, Values: []string{"juniper.attrs"}},
	}}
	if _, err := Compile(cfg); err != nil {
		return // refused at load time: acceptable
	}
	m := &EventMeta{SourceType: []byte("srx")}
	oa, ha := faultHash(t, cfg, `{"ts":1700000000,"sd":{"junos@1":{"attrs":{"a":"first"}},"junos@2":{"attrs":{"a":"second"}}}}`, m)
	ob, hb := faultHash(t, cfg, `{"ts":1700000000,"sd":{"junos@2":{"attrs":{"a":"second"}},"junos@1":{"attrs":{"a":"first"}}}}`, m)
	for _, out := range []string{oa, ob} {
		if !strings.Contains(out, `"first"`) || !strings.Contains(out, `"second"`) {
			t.Errorf("a value of one of the two members is lost:\n%s", out)
		}
	}
	if ha != hb || !sameJSON(t, oa, ob) {
		t.Errorf("same object, other member order: hashes %#x / %#x\n out %s\n out %s", ha, hb, oa, ob)
	}
}

// TestWildcardRefusedInDetectAndTimestamp
//
// What is wrong: b31210d made checkPath refuse '*' ("a wildcard (*) can
// name members only in a rename or drop source") and called it for
// convert, copy, map, split, set, drop_values, lift and parse, but
// compileProfiles still compiles detect.present, detect.equals and
// timestamp.fields/join with CompilePath alone. A profile with
// detect.present [sd.junos@*] or timestamp.fields [sd.junos@*.time] loads
// and never matches: no member is named "junos@*" (the walk rewrites only
// n.path for action lookups; findPath reads members by their own keys).
//
// How to reproduce: Compile a profile with such a detect and timestamp.
//
// Expected: refused at load time, as the commit says of every path outside
// rename/drop sources ("a '*' outside rename/drop sources loaded and never
// matched (refused)"), and as TestWildcardOutsideRenameDropRefused holds
// for copy and convert. A detection that silently never fires leaves a
// source's events with the wrong (or no) profile.
func TestWildcardRefusedInDetectAndTimestamp(t *testing.T) {
	for _, sp := range []ProfileSpec{
		{Name: "srx", Detect: &DetectSpec{Present: []string{"log.syslog.structured_data.junos@*"}}},
		{Name: "srx", Detect: &DetectSpec{Equals: OrderedMap{Keys: []string{"log.syslog.structured_data.junos@*.reason"}, Values: []string{"x"}}}},
		{Name: "srx", Timestamp: &TimestampSpec{Fields: []string{"log.syslog.structured_data.junos@*.time"}}},
		{Name: "srx", Timestamp: &TimestampSpec{Join: []string{"log.syslog.structured_data.junos@*.date", "log.syslog.structured_data.junos@*.time"}}},
	} {
		cfg := DefaultConfig()
		cfg.Profiles = []ProfileSpec{sp}
		if _, err := Compile(cfg); err == nil {
			t.Errorf("a wildcard path that can never match was accepted: detect %+v timestamp %+v", sp.Detect, sp.Timestamp)
		}
	}
}
