package normalize

// Fault tests from a review of a0ccbb2 ("profiles: copy from a list
// element"). Each fails on the code as found; the comments describe that
// code.

import (
	"strings"
	"testing"
)

// TestCopyFromListDuplicateKey
//
// What is wrong: copyFromList (profile.go) reads the list element's member
// with fastjson's Value.Get, whose Object.Get returns the FIRST member of
// that name. Everywhere else a repeated key resolves as the LAST: the walk
// (normalize.go package doc: "resolving duplicate keys: the last occurrence
// in an object wins"), writeInner for objects inside arrays ("duplicate
// keys resolved (last wins)"), and copyValue itself when events is an
// object ({"events":{"0":{...}}} gives the last). So for
// {"events":[{"name":"login_success","name":"login_failure"}]} the output
// document says events[0].name is login_failure while event.action says
// login_success, and the google_workspace map then writes event.outcome
// success.
//
// How to reproduce: the google_workspace-like copy events.0.name ->
// event.action, an element with the member twice.
//
// Expected: event.action equals the events[0].name that is written
// (login_failure), as the same copy gives when events is an object. Two
// parsers disagreeing on a repeated key is how a sender makes one document
// say two things (a failed sign-in that the analysts' queries on
// event.outcome see as a success).
func TestCopyFromListDuplicateKey(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name: "gw",
		Copy: OrderedMap{Keys: []string{"events.0.name"}, Values: []string{"event.action"}},
	}}
	m := &EventMeta{SourceType: []byte("gw")}
	obj, _ := faultAppend(t, cfg, `{"events":{"0":{"name":"login_success","name":"login_failure"}}}`, m)
	if !strings.Contains(obj, `"action":"login_failure"`) {
		t.Fatalf("precondition: an object's repeated key resolves as the last: %s", obj)
	}
	out, _ := faultAppend(t, cfg, `{"events":[{"name":"login_success","name":"login_failure"}]}`, m)
	if !strings.Contains(out, `"events":[{"name":"login_failure"}]`) {
		t.Fatalf("precondition: the element is written with the last name: %s", out)
	}
	if !strings.Contains(out, `"action":"login_failure"`) {
		t.Errorf("event.action is not the events[0].name the document holds:\n%s", out)
	}
}

// TestCopyFromListAfterDigitMember
//
// What is wrong: newCopyOp (profile.go) splits from at its FIRST number
// segment after the first ("for i := 1; ...; break") and takes everything
// before it as the list. When that segment names an object member (an
// object keyed by year, port or id: {"by_year":{"2024":{"events":[...]}}})
// and a later number segment indexes a list, the list path is by_year,
// an object, so copyFromList returns without copying; findPath of the
// whole from fails too, as events is a list.
//
// How to reproduce: copy by_year.2024.events.0.name -> event.action on
// {"by_year":{"2024":{"events":[{"name":"login_failure"}]}}}.
//
// Expected: event.action login_failure. docs/schema.md (copy): "a number
// segment of from after the first indexes a list when no member is named
// so"; the commit: "(an object member of that name is still read first)".
// Here 2024 is a member (read as one) and 0 is not (a list index).
// Severity: low (no starter profile has such a from).
func TestCopyFromListAfterDigitMember(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name: "gw",
		Copy: OrderedMap{Keys: []string{"by_year.2024.events.0.name"}, Values: []string{"event.action"}},
	}}
	out, _ := faultAppend(t, cfg, `{"by_year":{"2024":{"events":[{"name":"login_failure"}]}}}`, &EventMeta{SourceType: []byte("gw")})
	if !strings.Contains(out, `"action":"login_failure"`) {
		t.Errorf("a list after an object member named by digits is not read:\n%s", out)
	}
}
