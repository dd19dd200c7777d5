package dedup_test

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline/dedup"
)

// TestStressAgainstReference: concurrent Seen/Lookup/Add in phases of one shared
// clock value (barrier between phases), each goroutine owning a disjoint
// key space, compared with a reference map.
func TestStressAgainstReference(t *testing.T) {
	for _, counting := range []bool{false, true} {
		const window = 800 * time.Millisecond
		s := dedup.New(window, 256<<20)
		if counting {
			s = dedup.NewCounting(window, 256<<20)
		}
		var errs atomic.Int64
		const G, phases, per = 8, 60, 1500
		step := int64(17 * time.Millisecond)
		firsts := make([]map[uint64]int64, G)
		for g := range firsts {
			firsts[g] = map[uint64]int64{}
		}
		for p := 0; p < phases; p++ {
			now := int64(1e18) + int64(p)*step
			var wg sync.WaitGroup
			for g := 0; g < G; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(g), uint64(p)))
					first := firsts[g]
					for i := 0; i < per; i++ {
						k := uint64(g)<<56 | uint64(2+rng.IntN(30000))
						var got bool
						if counting {
							got, _ = s.Lookup(k, time.Unix(0, now))
							if !got {
								s.Add(k, time.Unix(0, now))
							}
						} else {
							got = s.Seen(k, time.Unix(0, now))
						}
						ft, ok := first[k]
						age := now - ft
						bad := ""
						switch {
						case !ok && got:
							bad = "never-added key seen"
						case ok && got && age >= int64(window)+int64(window)/7:
							bad = "seen at/after window+window/7"
						case ok && !got && age < int64(window):
							bad = "forgotten within the window"
						}
						if bad != "" && errs.Add(1) < 6 {
							t.Errorf("counting=%v %s: key %x age %v", counting, bad, k, time.Duration(age))
						}
						if !got {
							first[k] = now
						}
					}
				}(g)
			}
			wg.Wait()
			if p%40 == 0 {
				runtime.GC()
			}
		}
		runtime.KeepAlive(s)
	}
}
