package dedup_test

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline/dedup"
)

// TestBudgetHoldsTheKeysItPromises: dedup.max_bytes is documented
// (docs/configuration.md, KeysFor, Config.MaxBytes) as a memory bound of 16
// bytes a key (24 with count_field, "two thirds of that"): an operator
// sizes it from the number of distinct events in a window.
//
// Sequence: a set with a budget that is not a power of two times 32 KiB
// (here 96 MiB, documented to hold KeysFor = 6.3M keys), or the default
// 64 MiB with count_field (documented 2.8M keys), receives distinct keys at
// one instant, well within the window and below 7/8 of the documented
// capacity (one generation of room is what a budget rotation may cost).
// Then the first keys added are looked up.
//
// What happens: newSet rounds each table down to a power of two slots, so
// 96 MiB gets 64 MiB of tables (4.2M keys, 2/3 of the promise; 127 MiB
// gets half), and a counting set at 64 MiB gets 48 MiB (2.1M keys, 3/4;
// scope priority's max_bytes/3 gets 3/4 too). The budget rotations
// therefore start far earlier than documented and forget the oldest keys
// while they are well inside the window: their repeats are delivered again.
//
// What should happen: the set holds about the documented number of keys
// for its budget (tables sized to use the budget, e.g. a non-power-of-two
// slot count indexed with a multiply-shift instead of a mask), or the
// documented capacity says what it really is.
//
// Why it matters: deduplication silently stops covering the configured
// window at about half to three quarters of the load the operator sized
// for: repeats within the window reach the SIEM and archive again.
func TestBudgetHoldsTheKeysItPromises(t *testing.T) {
	for _, tc := range []struct {
		name     string
		budget   int64
		counting bool
		promised int64
	}{
		{"96MiB", 96 << 20, false, dedup.KeysFor(96 << 20)},
		{"64MiB-count_field", 64 << 20, true, dedup.KeysFor(64<<20) * 2 / 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := dedup.New(time.Hour, tc.budget)
			if tc.counting {
				s = dedup.NewCounting(time.Hour, tc.budget)
			}
			// 82% of the promise: below the 7/8 a budget rotation may cost.
			n := int(tc.promised * 82 / 100)
			rng := rand.New(rand.NewPCG(3, 4))
			first := make([]uint64, 0, 1000)
			batch := make([]uint64, 0, 4096)
			for i := 0; i < n; i++ {
				k := rng.Uint64()
				if len(first) < cap(first) {
					first = append(first, k)
				}
				batch = append(batch, k)
				if len(batch) == cap(batch) || i == n-1 {
					s.AddMany(batch, t0, nil)
					batch = batch[:0]
				}
			}
			if b := s.Bytes(); b > tc.budget {
				t.Fatalf("tables %d bytes over the budget %d", b, tc.budget)
			}
			lost := 0
			for _, k := range first {
				if !s.Contains(k, t0.Add(time.Second)) {
					lost++
				}
			}
			if lost > 0 {
				t.Errorf("budget %d MiB (count_field %v), documented to hold %d keys: after %d distinct keys in one instant "+
					"(window 1h), %d of the first %d keys are forgotten; tables use %d MiB of the budget",
					tc.budget>>20, tc.counting, tc.promised, n, lost, len(first), s.Bytes()>>20)
			}
		})
	}
}
