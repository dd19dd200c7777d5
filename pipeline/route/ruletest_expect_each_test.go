package route_test

import (
	"strings"
	"testing"

	"github.com/logrouter/logrouter/rules"
)

// TestRuleTestExpectEach: expect_each checks each event a record holds (a
// Google Workspace activity's events, an envelope's records) in order,
// besides expect; a count that differs from the events the router makes
// fails the case, as does an event that misses its entry.
func TestRuleTestExpectEach(t *testing.T) {
	const activity = `{"kind": "admin#reports#activity", "id": {"time": "2026-11-30T11:00:00Z", "uniqueQualifier": "1", "applicationName": "admin"},
      "actor": {"email": "admin@example.com"}, "events": [{"type": "USER_SETTINGS", "name": "CREATE_USER"}, {"type": "USER_SETTINGS", "name": "CHANGE_PASSWORD"}]}`
	res := runCases18(t, `tests:
  - name: each as the router routes it
    event: `+activity+`
    expect: {priority: P2}
    expect_each:
      - fields: {event.action: CREATE_USER}
      - fields: {event.action: CHANGE_PASSWORD}
  - name: one entry too few
    event: `+activity+`
    expect_each:
      - fields: {event.action: CREATE_USER}
  - name: the second event differs
    event: `+activity+`
    expect_each:
      - fields: {event.action: CREATE_USER}
      - fields: {event.action: CREATE_USER}
  - name: expect fails on the second event
    event: `+activity+`
    expect: {fields: {event.action: CREATE_USER}}
`)
	if res[0].Diff != "" {
		t.Errorf("case 1 failed:\n%s", res[0].Diff)
	}
	for i, want := range map[int]string{1: "holds 2 events", 2: "event 2 of the 2", 3: "event 2 of the 2"} {
		if !strings.Contains(res[i].Diff, want) {
			t.Errorf("case %d (%s): diff %q, want it to say %q", i+1, res[i].Case.Name, res[i].Diff, want)
		}
	}
}

// TestRuleTestExpectEachRefused: an expect_each entry that names nothing,
// or a case that expects nothing at all, is refused when the file loads.
func TestRuleTestExpectEachRefused(t *testing.T) {
	for name, src := range map[string]string{
		"empty entry": "tests:\n  - name: x\n    event: {a: 1}\n    expect: {priority: P2}\n    expect_each:\n      - {}\n",
		"bad path":    "tests:\n  - name: x\n    event: {a: 1}\n    expect_each:\n      - fields: {.a: 1}\n",
		"nothing":     "tests:\n  - name: x\n    event: {a: 1}\n    expect_each: []\n",
		"unknown key": "tests:\n  - name: x\n    event: {a: 1}\n    expect_each:\n      - {priorty: P2}\n",
	} {
		if _, err := rules.ParseTests("t_test.yaml", []byte(src)); err == nil {
			t.Errorf("%s: loaded", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}
