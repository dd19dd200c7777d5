package route_test

// Fault tests from a review (dedup.key_fields): each failed before the fix
// of the bug it describes (the comments describe the code as it was found).

import "testing"

// TestKeyFieldsMissingFieldsMergeDistinctEvents
//
// Sequence: dedup.key_fields: [event.dataset, event.id] (the documented
// example). Two different events of one source arrive without an event.id
// (a login failure for alice and one for bob: many sources give no id to
// every event, and a profile may not map one).
//
// What happens: the key is the hash of (dataset, <missing>) for both, so
// every event of the source without event.id gets the same dedup key: the
// first is delivered and every other one within the window is dropped as
// a "duplicate" (counted only as deduplicated).
//
// What should happen: an event that lacks a key field cannot be shown to
// repeat another by its key fields; it should fall back to the content
// hash (or not be deduplicated), so distinct events are never merged.
//
// Why it matters: silent suppression of distinct security events (every
// failed login but the first in 10 minutes) before the SIEM and archive.
func TestKeyFieldsMissingFieldsMergeDistinctEvents(t *testing.T) {
	k := keyOf(t, []string{"event.dataset", "event.id"}, nil,
		`{"event":{"dataset":"linux.auth"},"user":"alice","msg":"login failed"}`,
		`{"event":{"dataset":"linux.auth"},"user":"bob","msg":"login failed from 203.0.113.9"}`)
	if k[0] == k[1] {
		t.Errorf("two different events without event.id get the same dedup key %x: the second is dropped as a duplicate", k[0])
	}
}
