package harness

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// Hist is a concurrent latency histogram with log-linear buckets over
// microseconds: exact below 16 µs, then 16 buckets per power of two (about
// 6% resolution) up to ~2^51 µs. Recording is one atomic add.
type Hist struct {
	b [histBuckets]atomic.Uint64
	n atomic.Uint64
}

const histBuckets = 16 + 48*16

func histIndex(us uint64) int {
	if us < 16 {
		return int(us)
	}
	e := bits.Len64(us) - 1 // >= 4
	i := 16 + (e-4)*16 + int((us>>(e-4))&15)
	return min(i, histBuckets-1)
}

// histUpper is the exclusive upper bound of bucket i, in microseconds.
func histUpper(i int) uint64 {
	if i < 16 {
		return uint64(i + 1)
	}
	e := (i-16)/16 + 4
	sub := uint64((i - 16) % 16)
	return (16 + sub + 1) << (e - 4)
}

// Record adds one observation of ns nanoseconds (negative counts as 0).
func (h *Hist) Record(ns int64) {
	if ns < 0 {
		ns = 0
	}
	h.b[histIndex(uint64(ns)/1000)].Add(1)
	h.n.Add(1)
}

// Count is the number of observations.
func (h *Hist) Count() uint64 { return h.n.Load() }

// Quantile returns the upper bound, in milliseconds, of the bucket holding
// quantile q (0..1), and false when the histogram is empty.
func (h *Hist) Quantile(q float64) (float64, bool) {
	var counts [histBuckets]uint64
	var total uint64
	for i := range h.b {
		counts[i] = h.b[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return 0, false
	}
	// Nearest rank: the smallest value with at least q of the samples at
	// or below it (rounding instead under-reported a p99 whose tail was
	// just over 1% of a small sample).
	rank := uint64(math.Ceil(q * float64(total)))
	rank = max(min(rank, total), 1)
	var acc uint64
	for i, c := range counts {
		acc += c
		if acc >= rank {
			return float64(histUpper(i)) / 1000, true
		}
	}
	return float64(histUpper(histBuckets-1)) / 1000, true
}
