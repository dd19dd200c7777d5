// Package dedup drops events seen before within a time window, in bounded
// memory.
//
// The set holds 64-bit event hashes (normalize's content hash, which ignores
// key order, whitespace and ingest metadata, or a hash of configured key
// fields) in generations: the current one takes new hashes, the older ones are
// only looked up. A generation is retired when the window has moved past it or
// when the byte budget would otherwise be exceeded, oldest first. An event is
// a duplicate if its hash is in any live generation, so every repeat within
// window of the first sighting is dropped for sure (the memory budget
// allowing), and none older than window + window/(generations-1) is.
//
// Memory: each generation is an open-addressing table of uint64 (8 bytes a
// slot) kept at most half full, so a key costs 16 bytes on average:
// max_bytes 64 MiB holds about 4 million keys (at a 16-byte key cost; see
// KeysFor). The set is sharded 64 ways by hash bits, one mutex per shard, so
// many inputs check events concurrently. A shard's generations share one
// interleaved table (see table); all the shards' tables are one
// allocation, made at the first key, outside the Go heap and backed by
// huge pages where the kernel allows (a lookup then rarely misses the
// TLB). Its pages become resident as keys land on them, so after a few
// hundred thousand distinct events (at once, with huge pages) the whole
// budget is resident (RSS).
//
// Generation times are wall-clock nanoseconds: a clock stepped backwards
// keeps keys longer (the budget still bounds memory), one stepped forwards
// forgets them sooner (more events kept, never fewer).
//
// A false merge needs two different events with equal 64-bit hashes: about
// n²/2⁶⁵ for n keys in the window (4 million keys: ~4e-7).
package dedup

import (
	"fmt"
	"math/bits"
	"strings"
	"sync"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// Config configures deduplication (`dedup:` in the router configuration).
type Config struct {
	// Enabled turns deduplication on. Default false.
	Enabled bool `yaml:"enabled"`
	// Window: a repeat within it is dropped. Default 10m.
	Window time.Duration `yaml:"window"`
	// MaxBytes bounds the memory of the set; past it the oldest keys are
	// forgotten first. Default 64 MiB (about 4 million keys).
	MaxBytes int64 `yaml:"max_bytes"`
	// KeyFields, when set, makes the key a hash of these normalized field
	// paths (e.g. [event.dataset, event.id]) instead of the whole event.
	KeyFields []string `yaml:"key_fields"`
	// Scope is "global" (default: one set for everything) or "priority"
	// (one set per priority, each with MaxBytes/3).
	Scope string `yaml:"scope"`
	// CountField, when set (e.g. "dedup.count"), is added to a kept copy
	// of an event with how many repeats were dropped (Tenzir's count
	// field): those of its own batch (a burst in one request or syslog
	// flush), and, on the first copy kept after a window, those of the
	// later batches the window dropped. A repeat that arrives in a later
	// batch within the window is only reported with the next copy after
	// it (its first copy is already delivered): for counting attempts,
	// deduplicate only the priorities where repeats are noise
	// (Priorities). Counting costs 4 bytes per slot (24 bytes a
	// key instead of 16). The path must not exist in events.
	CountField string `yaml:"count_field"`
	// Priorities lists the priorities deduplicated (default all three):
	// e.g. [P2, P3] never drops a repeated P1 finding, where a repeat can
	// itself be the signal, and still drops repeated telemetry. Events of
	// the others are neither dropped nor remembered.
	Priorities []string `yaml:"priorities"`
}

// SetDefaults fills unset fields.
func (c *Config) SetDefaults() {
	if c.Window == 0 {
		c.Window = 10 * time.Minute
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 64 << 20
	}
	if c.Scope == "" {
		c.Scope = "global"
	}
}

// Covers reports whether events of priority p are deduplicated (Validate
// first). PriorityNone counts as P3, as elsewhere.
func (c *Config) Covers(p pipeline.Priority) bool {
	if p == pipeline.PriorityNone {
		p = pipeline.P3
	}
	if len(c.Priorities) == 0 {
		return true
	}
	for _, s := range c.Priorities {
		if pr, _ := pipeline.ParsePriority(s); pr == p {
			return true
		}
	}
	return false
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Window < time.Second:
		return fmt.Errorf("dedup.window: %s is below 1s", c.Window)
	case c.MaxBytes < 1<<20:
		return fmt.Errorf("dedup.max_bytes: %d is below 1 MiB", c.MaxBytes)
	case c.Scope != "global" && c.Scope != "priority":
		return fmt.Errorf("dedup.scope: %q is not global or priority", c.Scope)
	}
	for i, f := range c.KeyFields {
		if f == "" {
			return fmt.Errorf("dedup.key_fields[%d]: empty path", i)
		}
	}
	seen := map[string]bool{}
	for i, p := range c.Priorities {
		pr, err := pipeline.ParsePriority(p)
		if err != nil {
			return fmt.Errorf("dedup.priorities[%d]: %w", i, err)
		}
		if seen[pr.String()] {
			return fmt.Errorf("dedup.priorities[%d]: %s is listed twice", i, pr)
		}
		seen[pr.String()] = true
	}
	if c.Priorities != nil && len(c.Priorities) == 0 {
		return fmt.Errorf("dedup.priorities: empty; to turn deduplication off set dedup.enabled: false")
	}
	if c.CountField != "" {
		for _, seg := range strings.Split(c.CountField, ".") {
			// Printable ASCII without quotes or backslashes: the engine
			// writes the names into events as they are.
			bad := seg == ""
			for i := 0; i < len(seg); i++ {
				bad = bad || seg[i] <= ' ' || seg[i] >= 0x7f || seg[i] == '"' || seg[i] == '\\'
			}
			if bad {
				return fmt.Errorf("dedup.count_field: %q is not a dotted field path like dedup.count (printable ASCII, no spaces, quotes or backslashes)", c.CountField)
			}
		}
	}
	return nil
}

const (
	shards      = 64
	generations = 8
	bytesPerKey = 16 // 8-byte slot at most half full
)

// KeysFor returns how many keys a byte budget holds (two thirds of that
// with count_field).
func KeysFor(maxBytes int64) int64 { return maxBytes / bytesPerKey }

// Set is a windowed, bounded set of hashes. Safe for concurrent use.
//
// A counting set (NewCounting) also keeps, per slot, how many repeats were
// dropped. When a generation is retired by the window (not forgotten early
// by the budget: see rotate), its keys with repeats are carried
// into the current generation, marked: the next copy of such a key is not a
// duplicate (the window is over) and Lookup hands over the count, which
// Add then clears. Carried keys that do not come back within the next
// window are forgotten; a carry that does not fit the budget is dropped.
type Set struct {
	window   int64 // ns
	genSpan  int64 // ns
	shard    [shards]shard
	maxSlots int // per shard per generation
	counting bool

	// mem is every shard's table, one allocation (so that the kernel can
	// back it with huge pages: see allocTables), made at the first key.
	memOnce   sync.Once
	memSlots  []uint64
	memCounts []uint32
}

type shard struct {
	idx  int // in Set.shard
	mu   sync.Mutex
	gens [generations]gen // ring; cur is the newest
	cur  int
	tab  table
	sink uint64 // keeps touch's loads
}

// table holds the open-addressing tables of all of a shard's generations,
// interleaved: slot i of generation g is slots[i*generations+g]. A key
// starts probing at the same i in every generation, so one lookup's first
// probes into all eight share a cache line (and a page): one memory access
// instead of eight (BenchmarkLookupAdd). Allocated (with every other shard's) at the set's first key.
type table struct {
	slots  []uint64 // 0 = empty (hash 0 is stored as 1)
	counts []uint32 // counting sets: repeats dropped, carried flag; same layout
}

// gen is one generation: a column of its shard's table.
type gen struct {
	start int64 // unix ns of its first key; 0 while empty
	tab   *table
	col   uint64 // its column in tab
	size  uint64 // slots (any number: see slotOf)
	n     int
}

// carried marks a count carried over from a retired generation.
const carried = 1 << 31

// New returns a set for window and memory budget maxBytes.
func New(window time.Duration, maxBytes int64) *Set { return newSet(window, maxBytes, false) }

// NewCounting returns a set that also counts dropped repeats (see Set).
func NewCounting(window time.Duration, maxBytes int64) *Set { return newSet(window, maxBytes, true) }

func newSet(window time.Duration, maxBytes int64, counting bool) *Set {
	// A generation takes keys for genSpan and is kept until a window has
	// passed since its span ended (its newest key's), when the ring reuses
	// it: generations-1 spans make the window.
	s := &Set{window: int64(window), genSpan: int64(window / (generations - 1)), counting: counting}
	// Each shard may hold generations tables; size each for its share,
	// exactly: a slot's start is found by multiply-shift (slotOf), not a
	// mask, so a table need not be a power of two (rounding down to one
	// held half to three quarters of the keys max_bytes promises).
	slotBytes := int64(8)
	if counting {
		slotBytes = 12
	}
	perTable := maxBytes / slotBytes / shards / generations
	s.maxSlots = int(max(perTable, 16))
	for i := range s.shard {
		sh := &s.shard[i]
		sh.idx = i
		for g := range sh.gens {
			sh.gens[g] = gen{tab: &sh.tab, col: uint64(g), size: uint64(s.maxSlots)}
		}
	}
	return s
}

// Seen records h at time now and reports whether it was already there
// (within the window): a duplicate.
func (s *Set) Seen(h uint64, now time.Time) bool {
	if h == 0 {
		h = 1
	}
	sh := &s.shard[h%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	t := now.UnixNano()
	if s.containsLocked(sh, h, t) {
		return true
	}
	s.addLocked(sh, h, t, 0)
	return false
}

// Contains reports whether h was added within the window, without adding it.
// With Add it lets a caller record keys only once their events were accepted,
// so a batch that is refused (and resent) is not mistaken for a duplicate.
func (s *Set) Contains(h uint64, now time.Time) bool {
	if h == 0 {
		h = 1
	}
	sh := &s.shard[h%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return s.containsLocked(sh, h, now.UnixNano())
}

// Lookup is Contains for a counting set: a duplicate's repeat is counted,
// and for a key that is back after a window with dropped repeats it returns
// dup false and that count (Add clears it once the event is accepted).
func (s *Set) Lookup(h uint64, now time.Time) (dup bool, dropped uint32) {
	h = norm(h)
	sh := &s.shard[h%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return s.lookupLocked(sh, h, now.UnixNano(), true)
}

// lookupLocked is Lookup; with count false a duplicate's repeat is not
// counted (PeekMany).
func (s *Set) lookupLocked(sh *shard, h uint64, now int64, count bool) (dup bool, dropped uint32) {
	if !s.counting {
		return s.containsLocked(sh, h, now), 0
	}
	s.expire(sh, now)
	g, i, _ := s.findLocked(sh, h)
	if g == nil {
		return false, 0
	}
	c := g.tab.counts[i]
	if c&carried != 0 {
		return false, c &^ carried
	}
	if count && c < carried-1 {
		g.tab.counts[i] = c + 1
	}
	return true, 0
}

// findLocked returns the generation holding h and its slot there, newest
// generation first, and whether it is the current one; nil when none does.
func (s *Set) findLocked(sh *shard, h uint64) (g *gen, slot int, current bool) {
	for k := 0; k < generations; k++ {
		g := &sh.gens[(sh.cur-k+generations)%generations]
		if g.n == 0 {
			continue
		}
		if i, ok := g.find(h); ok {
			return g, i, k == 0
		}
	}
	return nil, 0, false
}

// Add records h at time now.
func (s *Set) Add(h uint64, now time.Time) { s.AddCount(h, now, 0) }

// AddCount is Add for a counting set that also records repeats already
// dropped in this window (copies of the event in the same batch, which
// Lookup never saw): they count toward the dropped number the next copy
// kept after the window gets from Lookup. A set that does not count
// ignores repeats.
func (s *Set) AddCount(h uint64, now time.Time, repeats uint32) {
	h = norm(h)
	sh := &s.shard[h%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s.addCountLocked(sh, h, now.UnixNano(), repeats)
}

func (s *Set) addCountLocked(sh *shard, h uint64, t int64, repeats uint32) {
	repeats = min(repeats, carried-1)
	if s.counting {
		s.expire(sh, t)
		g, i, current := s.findLocked(sh, h)
		switch {
		case g == nil:
			s.addLocked(sh, h, t, repeats)
		case g.tab.counts[i]&carried != 0:
			// Kept again: a new window starts, in the current
			// generation (the carrying one may retire at once).
			g.tab.counts[i] = 0
			if current {
				g.tab.counts[i] = repeats
			} else {
				s.addLocked(sh, h, t, repeats)
			}
		case repeats > 0 && g.tab.counts[i] < carried-1:
			g.tab.counts[i] = min(g.tab.counts[i]+repeats, carried-1)
		}
		return
	}
	if !s.containsLocked(sh, h, t) {
		s.addLocked(sh, h, t, 0)
	}
}

// LookupMany is Lookup for every key of keys at one time now: dup[i] and
// dropped[i] get keys[i]'s answers, exactly those of calling Lookup on the
// keys in order (both slices must be at least len(keys) long). It is
// cheaper than a Lookup per key: it takes each shard's lock once, and under
// it first reads every key's first probe, so that the cache misses of
// random slots in a table of max_bytes overlap instead of coming one after
// the other (BenchmarkLookupAdd/many).
func (s *Set) LookupMany(keys []uint64, now time.Time, dup []bool, dropped []uint32) {
	s.lookupMany(keys, now, dup, dropped, true)
}

func (s *Set) lookupMany(keys []uint64, now time.Time, dup []bool, dropped []uint32, count bool) {
	dup, dropped = dup[:len(keys)], dropped[:len(keys)]
	t := now.UnixNano()
	s.eachShard(keys, func(sh *shard, idx []int32) {
		for _, i := range idx {
			dup[i], dropped[i] = s.lookupLocked(sh, norm(keys[i]), t, count)
		}
	})
}

// AddRepeats adds n dropped repeats of h to its count: the count the next
// copy kept after its window carries. Unlike AddCount it never starts a
// window: a key whose window ended (carried) keeps carrying, now the
// larger count, and one forgotten since the repeats were looked up (its
// generation retired) comes back as carried, so that its next copy is
// kept, with their count. For the repeats a caller looked up with
// PeekMany and dropped for good later (the engine: when their batch is
// accepted, which may be minutes later for a batch its source re-sends).
// A set that does not count ignores it.
func (s *Set) AddRepeats(h uint64, now time.Time, n uint32) {
	if !s.counting || n == 0 {
		return
	}
	h = norm(h)
	sh := &s.shard[h%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s.expire(sh, now.UnixNano())
	if g, i, _ := s.findLocked(sh, h); g != nil {
		c := g.tab.counts[i]
		g.tab.counts[i] = c&carried | min(c&^carried+min(n, carried-1), carried-1)
		return
	}
	s.addLocked(sh, h, now.UnixNano(), min(n, carried-1)|carried)
}

// PeekMany is LookupMany without counting the duplicates' repeats: the
// caller counts them with AddRepeats once it knows they were dropped for
// good (the engine: when their batch is accepted; a batch refused and
// sent again as a new one must not count its repeats twice).
func (s *Set) PeekMany(keys []uint64, now time.Time, dup []bool, dropped []uint32) {
	s.lookupMany(keys, now, dup, dropped, false)
}

// AddMany is AddCount(keys[i], now, repeats[i]) for every key, in order,
// taking each shard's lock once (see LookupMany). repeats may be nil
// (none); otherwise it must be at least len(keys) long.
func (s *Set) AddMany(keys []uint64, now time.Time, repeats []uint32) {
	if repeats != nil {
		repeats = repeats[:len(keys)]
	}
	t := now.UnixNano()
	s.eachShard(keys, func(sh *shard, idx []int32) {
		for _, i := range idx {
			var r uint32
			if repeats != nil {
				r = repeats[i]
			}
			s.addCountLocked(sh, norm(keys[i]), t, r)
		}
	})
}

// eachShard calls fn once per shard that holds keys, with the shard locked
// and the indexes in keys of its keys in their order in keys (so every
// key's operations keep their order; different keys are in different
// slots, and operations on different shards commute). Before fn it touches
// each key's first slot (see touch).
func (s *Set) eachShard(keys []uint64, fn func(sh *shard, idx []int32)) {
	var start [shards + 1]int32
	for _, h := range keys {
		start[norm(h)%shards+1]++
	}
	for i := 1; i <= shards; i++ {
		start[i] += start[i-1]
	}
	g := groupPool.Get().(*grouping)
	if cap(g.order) < len(keys) {
		g.order = make([]int32, len(keys))
	}
	order := g.order[:len(keys)]
	pos := start
	for i, h := range keys {
		p := norm(h) % shards
		order[pos[p]] = int32(i)
		pos[p]++
	}
	for i := range s.shard {
		if start[i] == start[i+1] {
			continue
		}
		idx := order[start[i]:start[i+1]]
		sh := &s.shard[i]
		sh.mu.Lock()
		s.touch(sh, keys, idx)
		fn(sh, idx)
		sh.mu.Unlock()
	}
	groupPool.Put(g)
}

// grouping is eachShard's scratch.
type grouping struct{ order []int32 }

var groupPool = sync.Pool{New: func() any { return new(grouping) }}

// touch reads the first probe of every key in idx (its slot in all
// generations: one cache line, see table). The loads do not depend on one
// another, so the processor overlaps their misses; the lookups after it
// then find their first probes in the cache. A lookup's own probes depend
// on the ones before them and cannot overlap.
func (s *Set) touch(sh *shard, keys []uint64, idx []int32) {
	t := sh.tab.slots
	if t == nil || len(idx) < 2 {
		return
	}
	size := uint64(s.maxSlots)
	var x uint64
	for _, i := range idx {
		j := slotOf(norm(keys[i]), size)
		k := j + 1
		if k == size {
			k = 0
		}
		x ^= t[j*generations] ^ t[k*generations]
	}
	sh.sink = x
}

// norm maps hash 0 (the empty slot) to 1.
func norm(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}

func (s *Set) containsLocked(sh *shard, h uint64, now int64) bool {
	s.expire(sh, now)
	// Newest generation first: repeats are usually recent. (The first
	// probes of all generations share a cache line: see table.)
	for k := 0; k < generations; k++ {
		g := &sh.gens[(sh.cur-k+generations)%generations]
		if g.n == 0 {
			continue
		}
		if !s.counting {
			if g.contains(h) {
				return true
			}
		} else if i, ok := g.find(h); ok {
			// A carried count is kept past its key's window: not a key.
			return g.tab.counts[i]&carried == 0
		}
	}
	return false
}

func (s *Set) addLocked(sh *shard, h uint64, now int64, count uint32) {
	cur := &sh.gens[sh.cur]
	if cur.start == 0 {
		cur.start = now
	}
	s.alloc(sh)
	if uint64(cur.n) >= cur.size/2 {
		s.rotate(sh, now, false) // budget: this generation is full, start the next
		cur = &sh.gens[sh.cur]
	}
	cur.insert(h, count)
}

// alloc gives sh its table on first use, allocating the set's tables at
// the first key of any shard.
func (s *Set) alloc(sh *shard) {
	if sh.tab.slots != nil {
		return
	}
	per := s.maxSlots * generations
	s.memOnce.Do(func() { s.memSlots, s.memCounts = allocTables(s, per*shards, s.counting) })
	sh.tab.slots = s.memSlots[sh.idx*per : (sh.idx+1)*per : (sh.idx+1)*per]
	if s.counting {
		sh.tab.counts = s.memCounts[sh.idx*per : (sh.idx+1)*per : (sh.idx+1)*per]
	}
}

func heapTables(n int, counting bool) (slots []uint64, counts []uint32) {
	slots = make([]uint64, n)
	if counting {
		counts = make([]uint32, n)
	}
	return slots, counts
}

// expire retires generations whose newest key is a window old and rotates
// the current one when its span is over.
func (s *Set) expire(sh *shard, now int64) {
	cur := &sh.gens[sh.cur]
	if cur.start != 0 && now-cur.start >= s.genSpan {
		s.rotate(sh, now, true)
	}
	for i := range sh.gens {
		g := &sh.gens[i]
		if i != sh.cur && g.n > 0 && now-g.start >= s.window+s.genSpan {
			s.retire(sh, g)
		}
	}
}

// rotate makes the oldest generation the new current one, forgetting it.
// windowOver (its span ended, not the budget) carries its counts
// into the new one. A rotation the budget forces does not: the carries
// took up to a quarter of the new generation's slots, so that under steady
// pressure a counting set held less than half the keys its budget names,
// and its repeats were delivered again. Counts of keys the budget forgets
// early are given up, as a carry that does not fit always was.
func (s *Set) rotate(sh *shard, now int64, windowOver bool) {
	sh.cur = (sh.cur + 1) % generations
	g := &sh.gens[sh.cur]
	var keep []carry
	if windowOver && s.counting && g.n > 0 {
		keep = g.carries(nil)
	}
	g.reset()
	g.start = now
	for _, c := range keep {
		s.alloc(sh)
		if uint64(g.n) >= g.size/4 { // leave the generation room for new keys
			break
		}
		g.insert(c.h, c.n|carried)
	}
}

type carry struct {
	h uint64
	n uint32
}

// carries returns g's keys with dropped repeats that were not carried
// before (each count is carried once).
func (g *gen) carries(dst []carry) []carry {
	if g.tab.slots == nil {
		return dst
	}
	for i := g.col; i < uint64(len(g.tab.slots)); i += generations {
		h, c := g.tab.slots[i], g.tab.counts[i]
		if h != 0 && c != 0 && c&carried == 0 {
			dst = append(dst, carry{h, c})
		}
	}
	return dst
}

// retire forgets g, carrying its counts into the current generation.
func (s *Set) retire(sh *shard, g *gen) {
	if !s.counting {
		g.reset()
		return
	}
	keep := g.carries(nil)
	g.reset()
	cur := &sh.gens[sh.cur]
	for _, c := range keep {
		s.alloc(sh)
		if cur.start == 0 {
			cur.start = g.start
		}
		if uint64(cur.n) >= cur.size/2 {
			break
		}
		cur.insert(c.h, c.n|carried)
	}
}

// reset empties g's column (it touches the whole shard table: once per
// generation span, or when the budget rotates).
func (g *gen) reset() {
	if g.n > 0 {
		t := g.tab
		for i := g.col; i < uint64(len(t.slots)); i += generations {
			t.slots[i] = 0
		}
		for i := g.col; i < uint64(len(t.counts)); i += generations {
			t.counts[i] = 0
		}
	}
	g.n = 0
	g.start = 0
}

func (g *gen) contains(h uint64) bool {
	_, ok := g.find(h)
	return ok
}

// find returns the index in g.tab of h's slot, if h is in g.
func (g *gen) find(h uint64) (int, bool) {
	t := g.tab.slots
	for i := slotOf(h, g.size); ; i = next(i, g.size) {
		j := i*generations + g.col
		switch t[j] {
		case h:
			return int(j), true
		case 0:
			return 0, false
		}
	}
}

func (g *gen) insert(h uint64, count uint32) {
	t := g.tab.slots
	for i := slotOf(h, g.size); ; i = next(i, g.size) {
		j := i*generations + g.col
		switch t[j] {
		case h:
			return
		case 0:
			t[j] = h
			if g.tab.counts != nil {
				g.tab.counts[j] = count
			}
			g.n++
			return
		}
	}
}

// slotOf is h's first slot in a table of size slots: the high word of
// mix(h) x size (Lemire's multiply-shift), uniform for any size.
func slotOf(h, size uint64) uint64 {
	hi, _ := bits.Mul64(mix(h), size)
	return hi
}

// next is the slot after i in a table of size slots (linear probing).
func next(i, size uint64) uint64 {
	if i++; i == size {
		return 0
	}
	return i
}

// mix spreads the hash over the table (the shard index used the low bits).
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// Reach returns how far back the set remembers at now: the age of the
// oldest key it still holds (0 while empty), at most the window. It grows
// with uptime up to the window; steadily below the window, the memory budget
// is what limits deduplication (generations are retired to make room before
// the window has passed them): raise max_bytes. (Keys spread evenly over
// the shards, so under load every shard reaches about as far.)
func (s *Set) Reach(now time.Time) time.Duration {
	t := now.UnixNano()
	var oldest int64
	for i := range s.shard {
		sh := &s.shard[i]
		sh.mu.Lock()
		for j := range sh.gens {
			if g := &sh.gens[j]; g.n > 0 && g.start != 0 && (oldest == 0 || g.start < oldest) {
				oldest = g.start
			}
		}
		sh.mu.Unlock()
	}
	if oldest == 0 || oldest > t {
		return 0
	}
	return min(time.Duration(t-oldest), time.Duration(s.window))
}

// Bytes returns the memory the tables take now: all of the budget's
// tables from the first key on (0 before it).
func (s *Set) Bytes() int64 {
	var n int64
	for i := range s.shard {
		sh := &s.shard[i]
		sh.mu.Lock()
		if sh.tab.slots != nil {
			n = int64(len(s.memSlots))*8 + int64(len(s.memCounts))*4
		}
		sh.mu.Unlock()
		if n > 0 {
			break
		}
	}
	return n
}
