package parse

import "hash/maphash"

// smallSet is the key count up to which a keySet compares keys linearly
// instead of hashing them.
const smallSet = 16

// keySet is a reusable set of byte-string keys, each with an index, used to
// find a message's duplicate keys without allocating. Up to smallSet keys
// it is a list searched linearly; beyond, an open-addressing hash table
// (seeded maphash, so crafted keys cannot force collisions) that reset
// empties in O(1) with a generation counter. Its storage only grows, when a
// message has more keys than any before.
type keySet struct {
	seed   maphash.Seed
	linear bool
	list   []keyEntry
	slots  []keySlot
	mask   uint64
	gen    uint32
}

type keyEntry struct {
	key []byte
	idx int32
}

type keySlot struct {
	gen  uint32
	idx  int32
	hash uint64
	key  []byte
}

func (s *keySet) init() {
	s.seed = maphash.MakeSeed()
	s.list = make([]keyEntry, 0, smallSet)
}

// reset empties the set and makes room for n keys.
func (s *keySet) reset(n int) {
	if n <= smallSet {
		s.linear = true
		s.list = s.list[:0]
		return
	}
	s.linear = false
	if 2*n > len(s.slots) {
		size := 64
		for size < 2*n {
			size *= 2
		}
		s.slots = make([]keySlot, size)
		s.mask = uint64(size - 1)
		s.gen = 0
	}
	s.gen++
	if s.gen == 0 { // wrapped: stale generations could look current
		clear(s.slots)
		s.gen = 1
	}
}

// find returns the slot holding key, or the empty slot where it belongs.
func (s *keySet) find(key []byte) *keySlot {
	h := maphash.Bytes(s.seed, key)
	for i := h & s.mask; ; i = (i + 1) & s.mask {
		sl := &s.slots[i]
		if sl.gen != s.gen {
			sl.hash, sl.key, sl.idx = h, key, -1
			return sl
		}
		if sl.hash == h && string(sl.key) == string(key) {
			return sl
		}
	}
}

// lookup returns the list entry holding key, or nil.
func (s *keySet) lookup(key []byte) *keyEntry {
	for i := range s.list {
		if string(s.list[i].key) == string(key) {
			return &s.list[i]
		}
	}
	return nil
}

// put sets key to idx (last wins).
func (s *keySet) put(key []byte, idx int32) {
	if s.linear {
		if e := s.lookup(key); e != nil {
			e.idx = idx
		} else {
			s.list = append(s.list, keyEntry{key: key, idx: idx})
		}
		return
	}
	sl := s.find(key)
	sl.gen, sl.idx = s.gen, idx
}

// add inserts key with idx unless present (first wins); it reports whether
// key was already present.
func (s *keySet) add(key []byte, idx int32) (dup bool) {
	if s.linear {
		if s.lookup(key) != nil {
			return true
		}
		s.list = append(s.list, keyEntry{key: key, idx: idx})
		return false
	}
	sl := s.find(key)
	if sl.gen == s.gen {
		return true
	}
	sl.gen, sl.idx = s.gen, idx
	return false
}

// get returns key's index, or -1.
func (s *keySet) get(key []byte) int32 {
	if s.linear {
		if e := s.lookup(key); e != nil {
			return e.idx
		}
		return -1
	}
	sl := s.find(key)
	if sl.gen != s.gen {
		return -1
	}
	return sl.idx
}
