package dedup_test

import (
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline/dedup"
)

// TestCarriedKeyKeptCopyGetsFullWindow: the copy kept after a window
// with repeats starts "a new window" (Add's comment), so a repeat 11s later
// (window 80s) must be a duplicate. It was not: the key stayed in the
// generation that carried it, which could retire at once.
func TestCarriedKeyKeptCopyGetsFullWindow(t *testing.T) {
	s := dedup.NewCounting(80*time.Second, 8<<20)
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	const k, other = 64*5 + 3, 64*9 + 3 // same shard
	s.Add(k, at(0))
	if dup, _ := s.Lookup(k, at(5)); !dup {
		t.Fatal("repeat not caught")
	}
	s.Add(other, at(80)) // shard activity: k's generation retires, its count is carried
	if dup, n := s.Lookup(k, at(150)); dup || n != 1 {
		t.Fatalf("after the window: dup %v n %d", dup, n)
	}
	s.Add(k, at(150)) // the kept copy is accepted: a new window starts
	if dup, _ := s.Lookup(k, at(161)); !dup {
		t.Fatal("repeat 11s after the kept copy (window 80s) is not a duplicate: the new window lasted 10s")
	}
}

// TestContainsOnCountingSet: a key last added at t0 was reported by
// Contains/Seen 150s later (window 80s) because its carried count is stored
// as a key; a carried count is not a key.
func TestContainsOnCountingSet(t *testing.T) {
	s := dedup.NewCounting(80*time.Second, 8<<20)
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	s.Add(42, at(0))
	s.Lookup(42, at(5)) // one repeat dropped
	if s.Contains(42, at(150)) {
		t.Fatal("Contains: key added at 0s reported present at 150s, window 80s")
	}
}

// TestCountFieldNames: the engine writes count_field's names into events
// as they are, so only printable ASCII without spaces, quotes or
// backslashes is taken (a control character made invalid JSON).
func TestCountFieldNames(t *testing.T) {
	for f, ok := range map[string]bool{"dedup.count": true, "a.b_c-1": true, "a..b": false, "a\x01": false, "a b": false, "é": false, `a"b`: false} {
		cfg := dedup.Config{Enabled: true, CountField: f}
		cfg.SetDefaults()
		if err := cfg.Validate(); (err == nil) != ok {
			t.Errorf("%q: %v", f, err)
		}
	}
}
