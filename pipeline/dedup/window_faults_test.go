package dedup_test

import (
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline/dedup"
)

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

// TestRepeatWithinWindowOfFirstCopyDropped (review; fixed: a generation
// spans window/7 and is kept until its newest key is a window old)
//
// Sequence: window 8s (genSpan 1s). Key A is added at t0 (its shard's
// generation starts at t0); key B, in the same shard, is added at
// t0+900ms. B is repeated at t0+8.1s: 7.2s after B's first copy, inside
// the window.
//
// What happens: the generation holding B retires when t0 (its first key)
// is a window old, so B is forgotten 7.1s after it was added and the
// repeat is delivered again.
//
// What should happen: docs/configuration.md says of dedup.window "a repeat
// within it (of the first copy) is dropped"; a generation should retire
// when its newest key is a window old (start + window + span), or the
// documentation should say the window is really window - window/8.
//
// Why it matters: with the default 10m window, repeats 8m45s-10m after
// the first copy reach the SIEM again (up to 12.5% of the window missed);
// operators size the window from the documentation.
func TestRepeatWithinWindowOfFirstCopyDropped(t *testing.T) {
	s := dedup.New(8*time.Second, 1<<20)
	t0 := time.Unix(1_700_000_000, 0)
	const a, b = 64 * 1, 64 * 2 // same shard (h % 64)
	s.Add(a, t0)
	s.Add(b, t0.Add(900*time.Millisecond))
	if !s.Contains(b, t0.Add(7*time.Second)) {
		t.Fatal("B not held 6.1s after it was added")
	}
	if !s.Contains(b, t0.Add(8100*time.Millisecond)) {
		t.Errorf("a repeat of B 7.2s after its first copy, within the 8s window, is not a duplicate")
	}
}
