package httpin

import (
	"errors"
	"math"
	"runtime/debug"
	"sync/atomic"
)

// budget bounds the memory that the requests in progress hold together:
// their decoded bodies and their normalized events (max_inflight_bytes).
// max_concurrent_requests and the per-request limits alone do not: 128
// requests of 32 MiB bodies that normalize to 128 MiB hold ~20 GiB, far past
// any container's limit. Elasticsearch bounds its indexing the same way
// (indexing_pressure.memory.limit, 429 past it).
//
// A request takes what it holds as it grows (take), in steps of
// budgetStep, and gives it all back when it ends (release). It is never
// refused while it is the only holder, so a lone request, bounded by its
// own limits, always proceeds; past the budget the others are answered
// "busy" (503 for HEC, 429 otherwise, with Retry-After), before anything
// of theirs was accepted.
type budget struct {
	limit int64
	used  atomic.Int64
}

// budgetStep is the granularity of a request's takes, so that a request
// growing by a record at a time does not contend on the counter per record.
const budgetStep = 256 << 10

// errBusy refuses a request that would pass max_inflight_bytes.
var errBusy = errors.New("over inputs.http.max_inflight_bytes")

// charge is what one request holds of the budget.
type charge struct {
	b     *budget
	held  int64
	body  int64  // capacity of the request's body buffer, once read
	proto string // the request's protocol, for its busy answer
}

// to makes the request hold at least n bytes, taking the difference. It
// reports false, taking nothing, when that would pass the limit while
// other requests hold some of it.
func (c *charge) to(n int64) bool {
	if c == nil || n <= c.held {
		return true
	}
	need := (n - c.held + budgetStep - 1) / budgetStep * budgetStep
	for {
		cur := c.b.used.Load()
		if cur > c.held && cur+need > c.b.limit {
			return false
		}
		if c.b.used.CompareAndSwap(cur, cur+need) {
			c.held += need
			return true
		}
	}
}

// release gives back everything the request holds.
func (c *charge) release() {
	if c.held != 0 {
		c.b.used.Add(-c.held)
		c.held = 0
	}
}

// defaultInflightBytes is max_inflight_bytes when unset: a quarter of the
// runtime's memory limit (which `router run` sets from the container's
// limit), at least 64 MiB; 1 GiB without a limit.
func defaultInflightBytes() int64 {
	if lim := debug.SetMemoryLimit(-1); lim > 0 && lim < math.MaxInt64 {
		return max(lim/4, 64<<20)
	}
	return 1 << 30
}
