package normalize

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// nestedOrderOut normalizes in with c (source type st) and returns the output
// and its content hash.
func nestedOrderOut(t *testing.T, c *Compiled, in, st string) (string, uint64) {
	t.Helper()
	var p fastjson.Parser
	v, err := p.Parse(in)
	if err != nil {
		t.Fatalf("parse %s: %v", in, err)
	}
	var m *EventMeta
	if st != "" {
		m = &EventMeta{SourceType: []byte(st)}
	}
	out, ev, err := c.New().Append(nil, v, nil, testMeta(), m)
	if err != nil {
		t.Fatalf("normalize %s: %v", in, err)
	}
	return string(out), ev.Hash
}

// nestedOrderSameHash normalizes every input (the same event, members in
// other orders) and fails unless all give one content hash.
func nestedOrderSameHash(t *testing.T, c *Compiled, st string, ins ...string) []string {
	t.Helper()
	outs := make([]string, len(ins))
	var h0 uint64
	for i, in := range ins {
		var h uint64
		outs[i], h = nestedOrderOut(t, c, in, st)
		if i == 0 {
			h0 = h
		} else if h != h0 {
			t.Errorf("the content hash depends on member order:\n in: %s\nout: %s\n in: %s\nout: %s", ins[0], outs[0], in, outs[i])
		}
	}
	return outs
}

// TestOrderRenamedIntoObjectReplacesOwnValue
//
// What is wrong: setRenamed's new kObject case puts a renamed scalar into
// an object the event has at the target as "value" with setH, without
// ranking it (keeps) against a "value" member the object already has. The
// event's own message.value is then replaced (lost) when the renamed
// member comes after the object; when it comes first, displace + moveBack
// keep the event's own value and "hello" stays under msg.
//
// Reproduce: testConfig (msg -> message);
// {"message":{"value":"x"},"msg":"hello"} gives message.value "hello" and
// no "x" anywhere; {"msg":"hello","message":{"value":"x"}} gives
// message.value "x" and msg "hello".
//
// Expected: both orders give the second output (docs/schema.md 37-52: a
// value renamed into a field that the event has as an object goes inside
// it as value "in either order", nothing is dropped; "else the event's own
// value wins ... the value that yields stays under its own name"; README:
// content hash, key order ignored). The commit claimed to fix exactly this
// order dependence.
func TestOrderRenamedIntoObjectReplacesOwnValue(t *testing.T) {
	c, err := Compile(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	outs := nestedOrderSameHash(t, c, "",
		`{"msg":"hello","message":{"value":"x"}}`,
		`{"message":{"value":"x"},"msg":"hello"}`)
	for i, out := range outs {
		if !strings.Contains(out, `"x"`) || !strings.Contains(out, `"hello"`) {
			t.Errorf("order %d lost a value: %s", i, out)
		}
	}
}

// TestOrderTwoRenamesIntoObjectLastWins
//
// What is wrong: two renames into one field that the event has as an
// object (src_ip and id.orig_h both -> source.ip, "source":{"ip":{...}})
// are not ranked: setRenamed's kObject case never calls keeps/outranks, and
// setH moves an earlier renamed "value" back and puts the later one in.
// Whichever rename comes last in the event wins, and an empty value ("")
// even takes the place of a value.
//
// Reproduce: testConfig; {"src_ip":"A","id.orig_h":"B","source":{"ip":{"x":1}}}
// gives source.ip.value "B" and src_ip "A";
// {"source":{"ip":{"x":1}},"id.orig_h":"B","src_ip":"A"} gives
// source.ip.value "A" and id.orig_h "B": two content hashes. With
// id.orig_h "" after src_ip "A", source.ip has no value and "A" stays in
// src_ip.
//
// Expected: one outcome for every order (docs/schema.md 44-52: "the outcome
// does not depend on the order of the members ... a value wins over an
// empty one ... between two renamed values the one whose source path sorts
// first"): source.ip.value "B" (id.orig_h sorts before src_ip), and "A"
// where the value is the only non-empty one; as it already is when the
// renames come before the object.
func TestOrderTwoRenamesIntoObjectLastWins(t *testing.T) {
	c, err := Compile(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	outs := nestedOrderSameHash(t, c, "",
		`{"src_ip":"A","id.orig_h":"B","source":{"ip":{"x":1}}}`,
		`{"source":{"ip":{"x":1}},"src_ip":"A","id.orig_h":"B"}`,
		`{"source":{"ip":{"x":1}},"id.orig_h":"B","src_ip":"A"}`,
		`{"id.orig_h":"B","source":{"ip":{"x":1}},"src_ip":"A"}`)
	for _, out := range outs {
		if !strings.Contains(out, `"value":"B"`) {
			t.Errorf("source.ip.value is not id.orig_h's B: %s", out)
		}
	}
	outs = nestedOrderSameHash(t, c, "",
		`{"source":{"ip":{"x":1}},"id.orig_h":"","src_ip":"A"}`,
		`{"source":{"ip":{"x":1}},"src_ip":"A","id.orig_h":""}`)
	for _, out := range outs {
		if !strings.Contains(out, `"value":"A"`) {
			t.Errorf("an empty id.orig_h took source.ip from src_ip's A: %s", out)
		}
	}
}

// TestOrderRepeatedRenamedKeyKeepsFirst
//
// What is wrong: a key repeated in one JSON object takes the last value
// (setH; outranks now says so: "A key repeated in one object: the last
// wins"), but for a renamed key the earlier value is not dropped: setH's
// moveBack puts it back under its own key. {"msg":"a","msg":"b"} gives
// message "b" and msg "a" (two fields, a value of a repeated key kept),
// while an unrenamed {"foo":"a","foo":"b"} gives foo "b" only.
//
// Reproduce: testConfig (msg -> message); normalize {"msg":"a","msg":"b"}.
//
// Expected: message "b" and no msg (docs/schema.md 44-45: "Within one JSON
// object a repeated key is still the last one written (as JSON parsers
// take it)": a JSON parser reads this event as {"msg":"b"}); the commit
// message: "a key repeated in one object still takes the last".
func TestOrderRepeatedRenamedKeyKeepsFirst(t *testing.T) {
	c, err := Compile(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := nestedOrderOut(t, c, `{"msg":"b"}`, "")
	got, _ := nestedOrderOut(t, c, `{"msg":"a","msg":"b"}`, "")
	if got != want {
		t.Errorf("a repeated renamed key is not the last one written:\n got: %s\nwant: %s", got, want)
	}
}

// TestOrderLiftedMemberRanksByOrder
//
// What is wrong: outranks takes "same parent node and key" for a key
// repeated in one JSON object (last wins). A lifted list's members
// (ProfileSpec.Lift: event_data.data [{"TargetUserName":...}]) are walked
// into the parent of the list, so a lifted TargetUserName and the object's
// own event_data.TargetUserName count as one repeated key although they
// are in two JSON objects: the one later in event_data wins user.name, and
// reversing event_data's members swaps user.name and
// event_data.TargetUserName (another content hash). The check would need
// the walk (renamed.gen), not the parent node.
//
// Reproduce: a profile with lift [event_data.data] and rename
// event_data.TargetUserName: user.name;
// {"event_data":{"TargetUserName":"a","data":[{"TargetUserName":"b"}]}}
// gives user.name "b"; with event_data's two members reversed, "a".
//
// Expected: one outcome (docs/schema.md 46-52: two sources of one path rank
// by their JSON text, "the outcome does not depend on the order of the
// members"; README: content hash, key order ignored). They are not a
// repeated key of one JSON object (docs/schema.md 44-45), which is the
// only place where order may decide.
func TestOrderLiftedMemberRanksByOrder(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name:   "win",
		Lift:   []string{"event_data.data"},
		Rename: OrderedMap{Keys: []string{"event_data.TargetUserName"}, Values: []string{"user.name"}},
	}}
	c, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	nestedOrderSameHash(t, c, "win",
		`{"event_data":{"TargetUserName":"a","data":[{"TargetUserName":"b"}]}}`,
		`{"event_data":{"data":[{"TargetUserName":"b"}],"TargetUserName":"a"}}`)
}
