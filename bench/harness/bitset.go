package harness

import "sync/atomic"

// bitset is a concurrent, lazily allocated bitmap over uint64 indexes below
// maxSeq: one bit per event, in chunks of 4 Mi bits (512 KiB) allocated on
// first use.
type bitset struct {
	chunks [maxChunks]atomic.Pointer[bitChunk]
}

const (
	chunkShift = 22
	chunkBits  = 1 << chunkShift
	maxChunks  = 1024
	// maxSeq bounds sequence numbers (4 Gi events per run).
	maxSeq = maxChunks * chunkBits
)

type bitChunk [chunkBits / 64]atomic.Uint64

func (b *bitset) chunk(i uint64, create bool) *bitChunk {
	slot := &b.chunks[i>>chunkShift]
	if c := slot.Load(); c != nil || !create {
		return c
	}
	c := new(bitChunk)
	if slot.CompareAndSwap(nil, c) {
		return c
	}
	return slot.Load()
}

// set sets bit i and reports whether it was already set. i must be below
// maxSeq.
func (b *bitset) set(i uint64) (was bool) {
	c := b.chunk(i, true)
	bit := uint64(1) << (i & 63)
	return c[(i&(chunkBits-1))>>6].Or(bit)&bit != 0
}

// get reports whether bit i is set.
func (b *bitset) get(i uint64) bool {
	if i >= maxSeq {
		return false
	}
	c := b.chunk(i, false)
	if c == nil {
		return false
	}
	return c[(i&(chunkBits-1))>>6].Load()&(1<<(i&63)) != 0
}
