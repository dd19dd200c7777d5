package dedup_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/dedup"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func TestWindow(t *testing.T) {
	s := dedup.New(10*time.Minute, 8<<20)
	if s.Seen(42, t0) {
		t.Fatal("first sighting reported as a duplicate")
	}
	for _, d := range []time.Duration{time.Second, time.Minute, 8 * time.Minute} {
		if !s.Seen(42, t0.Add(d)) {
			t.Errorf("repeat after %s not caught", d)
		}
	}
	// Forgotten once the window passed since the last generation holding it.
	if s.Seen(42, t0.Add(30*time.Minute)) {
		t.Error("a hash older than the window is still remembered")
	}
	if s.Seen(0, t0) || !s.Seen(0, t0) {
		t.Error("hash 0 must work like any other")
	}
}

// TestCounting: a counting set hands the number of repeats dropped in a
// window to the first copy kept after it, once; Add clears it.
func TestCounting(t *testing.T) {
	s := dedup.NewCounting(10*time.Minute, 8<<20)
	look := func(d time.Duration) (bool, uint32) { return s.Lookup(42, t0.Add(d)) }
	if dup, n := look(0); dup || n != 0 {
		t.Fatalf("first sighting: dup %v count %d", dup, n)
	}
	s.Add(42, t0)
	for i := 1; i <= 5; i++ {
		if dup, _ := look(time.Duration(i) * time.Minute); !dup {
			t.Fatalf("repeat %d not caught", i)
		}
	}
	// The window is over: the next copy is kept and carries the 5 drops,
	// until it is accepted (Add); a refused batch sees the count again.
	for i := 0; i < 2; i++ {
		if dup, n := look(12 * time.Minute); dup || n != 5 {
			t.Fatalf("after the window: dup %v count %d, want false 5", dup, n)
		}
	}
	s.Add(42, t0.Add(12*time.Minute))
	if dup, n := look(13 * time.Minute); !dup || n != 0 {
		t.Fatalf("after the kept copy: dup %v count %d, want a duplicate again", dup, n)
	}
	// A key without repeats is simply forgotten; a carried count that does
	// not come back within the next window is forgotten too.
	s.Add(7, t0)
	if dup, n := s.Lookup(7, t0.Add(30*time.Minute)); dup || n != 0 {
		t.Fatalf("key without repeats: dup %v count %d", dup, n)
	}
	if dup, n := look(30 * time.Minute); dup || n != 1 {
		t.Fatalf("the repeat at 13m: dup %v count %d, want false 1", dup, n)
	}
	s.Add(9, t0)
	s.Lookup(9, t0.Add(time.Minute))
	if dup, n := s.Lookup(9, t0.Add(12*time.Minute)); dup || n != 1 { // never accepted
		t.Fatalf("key 9 after its window: dup %v count %d, want false 1", dup, n)
	}
	if dup, n := s.Lookup(9, t0.Add(40*time.Minute)); dup || n != 0 {
		t.Fatalf("stale carry: dup %v count %d, want it forgotten", dup, n)
	}
	if b, budget := s.Bytes(), int64(8<<20); b > budget {
		t.Fatalf("tables hold %d bytes, budget %d", b, budget)
	}
}

// TestBudgetHolds: 10M distinct keys never push the tables past max_bytes,
// and the newest keys are the ones remembered (oldest evicted first).
func TestBudgetHolds(t *testing.T) {
	n := 10_000_000
	if raceEnabled || testing.Short() {
		n = 1_000_000
	}
	const budget = 16 << 20
	s := dedup.New(time.Hour, budget)
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([]uint64, 0, 1000)
	for i := 0; i < n; i++ {
		k := rng.Uint64()
		s.Seen(k, t0)
		if i >= n-1000 {
			keys = append(keys, k)
		}
	}
	if b := s.Bytes(); b > budget {
		t.Fatalf("tables hold %d bytes, budget %d", b, budget)
	}
	for _, k := range keys {
		if !s.Seen(k, t0) {
			t.Fatal("a recent key was evicted before older ones")
		}
	}
	t.Logf("%d keys through a %d MiB budget (holds about %d keys); tables at %d MiB", n, budget>>20, dedup.KeysFor(budget), s.Bytes()>>20)
}

// TestHashIgnoresOrderAndWhitespace is the property test of the dedup key:
// N distinct events, each sent several times with keys shuffled and
// whitespace varied, through normalization and the set. Every true duplicate
// is suppressed and no two distinct events are merged.
func TestHashIgnoresOrderAndWhitespace(t *testing.T) {
	n := 1_000_000
	if raceEnabled || testing.Short() {
		n = 100_000
	}
	c, err := normalize.Compile(normalize.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	norm := c.New()
	var p fastjson.Parser
	s := dedup.New(time.Hour, 256<<20)
	meta := &pipeline.Meta{Input: "t", IngestTime: t0.UnixNano()}
	rng := rand.New(rand.NewPCG(3, 4))
	kept, suppressed := 0, 0
	buf := make([]byte, 0, 1024)
	for i := 0; i < n; i++ {
		fields := []string{
			fmt.Sprintf(`"seq":%d`, i),
			fmt.Sprintf(`"user":{"name":"u%d","id":%d}`, rng.IntN(1000), rng.IntN(100)),
			fmt.Sprintf(`"src_ip":"10.%d.%d.%d"`, rng.IntN(256), rng.IntN(256), rng.IntN(256)),
			`"action":"deny"`,
			fmt.Sprintf(`"ts":%d`, 1764331200+rng.IntN(3600)),
		}
		copies := 1 + rng.IntN(3)
		for c := 0; c < copies; c++ {
			rng.Shuffle(len(fields), func(a, b int) { fields[a], fields[b] = fields[b], fields[a] })
			sep := []string{",", " , ", ",\n", ",\t"}[rng.IntN(4)]
			doc := "{" + strings.Join(fields, sep) + "}"
			if c > 0 && rng.IntN(2) == 0 {
				doc = " " + doc + "\n"
			}
			v, err := p.Parse(doc)
			if err != nil {
				t.Fatal(err)
			}
			var ev pipeline.Event
			buf, ev, err = norm.Append(buf[:0], v, nil, meta, nil)
			if err != nil {
				t.Fatal(err)
			}
			dup := s.Seen(ev.Hash, t0)
			if c == 0 && dup {
				t.Fatalf("event %d merged with a different event: %s", i, doc)
			}
			if c > 0 && !dup {
				t.Fatalf("copy %d of event %d not suppressed: %s", c, i, doc)
			}
			if dup {
				suppressed++
			} else {
				kept++
			}
		}
	}
	if kept != n {
		t.Fatalf("kept %d of %d distinct events", kept, n)
	}
	t.Logf("%d distinct events kept, %d copies suppressed, 0 false merges", kept, suppressed)
	_ = json.Valid
}

func BenchmarkSeen(b *testing.B) {
	s := dedup.New(10*time.Minute, 64<<20)
	rng := rand.New(rand.NewPCG(5, 6))
	keys := make([]uint64, 1<<16)
	for i := range keys {
		keys[i] = rng.Uint64()
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			s.Seen(keys[i&(len(keys)-1)]+uint64(i>>16), t0)
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkLookupAdd is the engine's pattern for a new event: Lookup when
// the batch arrives, Add once it was accepted. generations=8 is a full
// window live (the steady state of a long-running router); generations=1
// is the first window/8 after a start (a short benchmark run), where the
// live keys are fewer but, with the generations interleaved, spread over
// the whole table.
func BenchmarkLookupAdd(b *testing.B) {
	for _, gens := range []int{1, 8} {
		b.Run(fmt.Sprintf("generations=%d", gens), func(b *testing.B) {
			s, now, keys := filledSet(gens)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := keys[i&(len(keys)-1)] + uint64(i>>16)
				if dup, _ := s.Lookup(k, now); !dup {
					s.Add(k, now)
				}
			}
		})
	}
}

// filledSet returns a 64 MiB set with gens generations a quarter full, a
// time in its newest generation, and 64Ki random keys (1024-aligned
// batches of them are still random).
func filledSet(gens int) (*dedup.Set, time.Time, []uint64) {
	const window = 80 * time.Second // 8 generations of 10s
	s := dedup.New(window, 64<<20)
	rng := rand.New(rand.NewPCG(7, 8))
	perGen := int(dedup.KeysFor(64<<20)) / 8 / 4 // a quarter full: no budget rotation
	for g := 0; g < gens; g++ {
		now := t0.Add(time.Duration(g) * 10 * time.Second)
		for i := 0; i < perGen; i++ {
			s.Add(rng.Uint64(), now)
		}
	}
	now := t0.Add(time.Duration(gens-1)*10*time.Second + 5*time.Second)
	keys := make([]uint64, 1<<16)
	for i := range keys {
		keys[i] = rng.Uint64()
	}
	return s, now, keys
}

// TestReach checks the reach gauge's source: uptime while the budget holds
// everything, capped at the window, and less than the window when the
// budget retires generations early.
func TestReach(t *testing.T) {
	window := 80 * time.Second
	s := dedup.New(window, 64<<20)
	if r := s.Reach(t0); r != 0 {
		t.Fatalf("empty set: reach %v", r)
	}
	for i := uint64(1); i <= 1000; i++ {
		s.Add(i*0x9e3779b97f4a7c15, t0.Add(time.Duration(i)*time.Millisecond))
	}
	if r := s.Reach(t0.Add(30 * time.Second)); r < 29*time.Second || r > 30*time.Second {
		t.Errorf("after 30s with room to spare: reach %v", r)
	}
	if r := s.Reach(t0.Add(10 * time.Minute)); r > window {
		t.Errorf("reach %v beyond the window %v", r, window)
	}

	// 1 MiB holds ~64k keys: adding 1M over the window rotates by budget.
	small := dedup.New(window, 1<<20)
	now := t0
	for i := uint64(1); i <= 1_000_000; i++ {
		now = t0.Add(time.Duration(i) * 60 * time.Microsecond) // 60s in all
		small.Add(i*0x9e3779b97f4a7c15, now)
	}
	if r := small.Reach(now); r >= 30*time.Second {
		t.Errorf("budget-bound set: reach %v, want well under the 60s it was fed for", r)
	}
}

// TestAddRepeats: repeats counted after their lookup (PeekMany, then
// AddRepeats once their batch is accepted) add to the key's count whatever
// became of it meanwhile, and never start a window: live, carried after
// its window, or forgotten (it comes back carried, so its next copy is
// kept with the count).
func TestAddRepeats(t *testing.T) {
	s := dedup.NewCounting(10*time.Minute, 8<<20)
	peek := func(h uint64, d time.Duration) (bool, uint32) {
		dup, n := []bool{false}, []uint32{0}
		s.PeekMany([]uint64{h}, t0.Add(d), dup, n)
		return dup[0], n[0]
	}
	s.Add(1, t0)
	if dup, _ := peek(1, time.Minute); !dup {
		t.Fatal("peek: not a duplicate")
	}
	if dup, n := peek(1, 12*time.Minute); dup || n != 0 {
		t.Fatalf("peek counted: after the window %v %d, want false 0", dup, n)
	}
	s.Add(2, t0)
	s.AddRepeats(2, t0.Add(time.Minute), 2) // live
	if dup, _ := s.Lookup(2, t0.Add(2*time.Minute)); !dup {
		t.Fatal("live key: AddRepeats ended its window")
	}
	if dup, n := s.Lookup(2, t0.Add(12*time.Minute)); dup || n != 3 {
		t.Fatalf("live key after its window: %v %d, want false 3", dup, n)
	}
	s.AddRepeats(2, t0.Add(12*time.Minute), 1) // carried
	if dup, n := s.Lookup(2, t0.Add(13*time.Minute)); dup || n != 4 {
		t.Fatalf("carried key: %v %d, want false 4 (still carried, with the repeat)", dup, n)
	}
	s.Add(3, t0)
	s.AddRepeats(3, t0.Add(30*time.Minute), 1) // forgotten
	if dup, n := s.Lookup(3, t0.Add(31*time.Minute)); dup || n != 1 {
		t.Fatalf("forgotten key: %v %d, want false 1 (kept, with the repeat)", dup, n)
	}
	plain := dedup.New(10*time.Minute, 8<<20)
	plain.AddRepeats(4, t0, 1)
	if plain.Contains(4, t0) {
		t.Error("a set that does not count recorded a key")
	}
}
