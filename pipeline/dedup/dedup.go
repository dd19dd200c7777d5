// Package dedup drops events seen before within a time window, in bounded
// memory.
//
// The set holds 64-bit event hashes (normalize's content hash, which ignores
// key order, whitespace and ingest metadata, or a hash of configured key
// fields) in generations: the current one takes new hashes, the older ones are
// only looked up. A generation is retired when the window has moved past it or
// when the byte budget would otherwise be exceeded, oldest first. An event is
// a duplicate if its hash is in any live generation, so every repeat within
// window - window/generations of the first sighting is dropped for sure, and
// none older than window is.
//
// Memory: each generation is an open-addressing table of uint64 (8 bytes a
// slot) kept at most half full, so a key costs 16 bytes on average:
// max_bytes 64 MiB holds about 4 million keys (at a 16-byte key cost; see
// KeysFor). The set is sharded 64 ways by hash bits, one mutex per shard, so
// many inputs check events concurrently.
//
// A false merge needs two different events with equal 64-bit hashes: about
// n²/2⁶⁵ for n keys in the window (4 million keys: ~4e-7).
package dedup

import (
	"fmt"
	"sync"
	"time"
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
	return nil
}

const (
	shards      = 64
	generations = 8
	bytesPerKey = 16 // 8-byte slot at most half full
)

// KeysFor returns how many keys a byte budget holds.
func KeysFor(maxBytes int64) int64 { return maxBytes / bytesPerKey }

// Set is a windowed, bounded set of hashes. Safe for concurrent use.
type Set struct {
	window   time.Duration
	genSpan  time.Duration
	shard    [shards]shard
	maxSlots int // per shard per generation
}

type shard struct {
	mu   sync.Mutex
	gens [generations]gen // ring; cur is the newest
	cur  int
}

type gen struct {
	start time.Time
	slots []uint64 // 0 = empty (hash 0 is stored as 1)
	n     int
}

// New returns a set for window and memory budget maxBytes.
func New(window time.Duration, maxBytes int64) *Set {
	s := &Set{window: window, genSpan: window / generations}
	// Each shard may hold generations tables; size each for its share.
	// Slots per table: the largest power of two within the budget's share,
	// so the tables never exceed maxBytes together.
	perTable := maxBytes / 8 / shards / generations
	s.maxSlots = 16
	for int64(s.maxSlots)*2 <= perTable {
		s.maxSlots *= 2
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
	if s.containsLocked(sh, h, now) {
		return true
	}
	s.addLocked(sh, h, now)
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
	return s.containsLocked(sh, h, now)
}

// Add records h at time now.
func (s *Set) Add(h uint64, now time.Time) {
	if h == 0 {
		h = 1
	}
	sh := &s.shard[h%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if !s.containsLocked(sh, h, now) {
		s.addLocked(sh, h, now)
	}
}

func (s *Set) containsLocked(sh *shard, h uint64, now time.Time) bool {
	s.expire(sh, now)
	// Newest generation first: repeats are usually recent.
	for k := 0; k < generations; k++ {
		g := &sh.gens[(sh.cur-k+generations)%generations]
		if g.n > 0 && g.contains(h) {
			return true
		}
	}
	return false
}

func (s *Set) addLocked(sh *shard, h uint64, now time.Time) {
	cur := &sh.gens[sh.cur]
	if cur.start.IsZero() {
		cur.start = now
	}
	if cur.slots == nil {
		cur.slots = make([]uint64, s.maxSlots)
	}
	if cur.n >= len(cur.slots)/2 {
		s.rotate(sh, now) // budget: this generation is full, start the next
		cur = &sh.gens[sh.cur]
		if cur.slots == nil {
			cur.slots = make([]uint64, s.maxSlots)
		}
	}
	cur.insert(h)
}

// expire retires generations older than the window and rotates the current
// one when its span is over.
func (s *Set) expire(sh *shard, now time.Time) {
	cur := &sh.gens[sh.cur]
	if !cur.start.IsZero() && now.Sub(cur.start) >= s.genSpan {
		s.rotate(sh, now)
	}
	for i := range sh.gens {
		g := &sh.gens[i]
		if i != sh.cur && g.n > 0 && now.Sub(g.start) >= s.window {
			g.reset()
		}
	}
}

// rotate makes the oldest generation the new current one, forgetting it.
func (s *Set) rotate(sh *shard, now time.Time) {
	sh.cur = (sh.cur + 1) % generations
	g := &sh.gens[sh.cur]
	g.reset()
	g.start = now
}

func (g *gen) reset() {
	clear(g.slots)
	g.n = 0
	g.start = time.Time{}
}

func (g *gen) contains(h uint64) bool {
	mask := uint64(len(g.slots) - 1)
	for i := mix(h) & mask; ; i = (i + 1) & mask {
		switch g.slots[i] {
		case h:
			return true
		case 0:
			return false
		}
	}
}

func (g *gen) insert(h uint64) {
	mask := uint64(len(g.slots) - 1)
	for i := mix(h) & mask; ; i = (i + 1) & mask {
		switch g.slots[i] {
		case h:
			return
		case 0:
			g.slots[i] = h
			g.n++
			return
		}
	}
}

// mix spreads the hash over the table (the shard index used the low bits).
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// Bytes returns the memory the tables take now.
func (s *Set) Bytes() int64 {
	var n int64
	for i := range s.shard {
		sh := &s.shard[i]
		sh.mu.Lock()
		for j := range sh.gens {
			n += int64(len(sh.gens[j].slots)) * 8
		}
		sh.mu.Unlock()
	}
	return n
}
