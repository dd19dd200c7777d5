package dedup_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline/dedup"
)

// TestManyMatchesOneByOne feeds two sets the same batches, one key at a time
// (Lookup, AddCount) and a batch at a time (LookupMany, AddMany), and checks
// every answer: keys repeated within and across batches, hash 0 and 1 (the
// same slot), time moving over generations and past the window, and a
// budget small enough to rotate generations early. Counting and plain sets.
func TestManyMatchesOneByOne(t *testing.T) {
	for _, counting := range []bool{false, true} {
		for _, budget := range []int64{1 << 20, 16 << 20} {
			t.Run(fmt.Sprintf("counting=%v/budget=%d", counting, budget), func(t *testing.T) {
				newSet := dedup.New
				if counting {
					newSet = dedup.NewCounting
				}
				window := 8 * time.Second
				one, many := newSet(window, budget), newSet(window, budget)
				rng := rand.New(rand.NewPCG(11, uint64(budget)))
				var recent []uint64
				now := t0
				dup, dropped := make([]bool, 600), make([]uint32, 600)
				for batch := 0; batch < 400; batch++ {
					n := rng.IntN(600)
					keys := make([]uint64, n)
					repeats := make([]uint32, n)
					for i := range keys {
						switch r := rng.IntN(100); {
						case r < 2:
							keys[i] = uint64(rng.IntN(2)) // 0 and 1 share a slot
						case r < 30 && len(recent) > 0:
							keys[i] = recent[rng.IntN(len(recent))]
						case r < 35 && i > 0:
							keys[i] = keys[rng.IntN(i)] // within the batch
						default:
							keys[i] = rng.Uint64()
						}
						repeats[i] = uint32(rng.IntN(3))
					}
					many.LookupMany(keys, now, dup, dropped)
					for i, k := range keys {
						d, dr := one.Lookup(k, now)
						if d != dup[i] || dr != dropped[i] {
							t.Fatalf("batch %d key %d (%#x): Lookup %v %d, LookupMany %v %d", batch, i, k, d, dr, dup[i], dropped[i])
						}
					}
					// The engine adds what it kept; add a random half.
					var add []uint64
					var addRep []uint32
					for i, k := range keys {
						if rng.IntN(2) == 0 {
							add, addRep = append(add, k), append(addRep, repeats[i])
						}
					}
					if batch%7 == 0 {
						addRep = nil
					}
					many.AddMany(add, now, addRep)
					for i, k := range add {
						var r uint32
						if addRep != nil {
							r = addRep[i]
						}
						one.AddCount(k, now, r)
					}
					recent = append(recent, add...)
					if len(recent) > 5000 {
						recent = recent[len(recent)-5000:]
					}
					now = now.Add(time.Duration(rng.IntN(100)) * time.Millisecond)
					if batch%97 == 0 {
						now = now.Add(window) // past the window
					}
				}
				if one.Reach(now) != many.Reach(now) {
					t.Errorf("reach %v against %v", one.Reach(now), many.Reach(now))
				}
			})
		}
	}
}

func TestManyEmpty(t *testing.T) {
	s := dedup.New(time.Minute, 1<<20)
	s.LookupMany(nil, t0, nil, nil)
	s.AddMany(nil, t0, nil)
	if s.Bytes() != 0 {
		t.Error("an empty batch allocated the tables")
	}
}

// BenchmarkLookupAddMany is BenchmarkLookupAdd a batch at a time, the
// engine's pattern: LookupMany for a 500-event request, AddMany for the
// events kept.
func BenchmarkLookupAddMany(b *testing.B) {
	const batch = 500
	for _, gens := range []int{1, 8} {
		b.Run(fmt.Sprintf("generations=%d", gens), func(b *testing.B) {
			s, now, keys := filledSet(gens)
			dup, dropped := make([]bool, batch), make([]uint32, batch)
			ks, add := make([]uint64, batch), make([]uint64, 0, batch)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				for j := range ks { // BenchmarkLookupAdd's keys, in order
					ks[j] = keys[(i+j)&(len(keys)-1)] + uint64((i+j)>>16)
				}
				s.LookupMany(ks, now, dup, dropped)
				add = add[:0]
				for j, k := range ks {
					if !dup[j] {
						add = append(add, k)
					}
				}
				s.AddMany(add, now, nil)
			}
		})
	}
}
