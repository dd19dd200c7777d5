package httpin

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"

	"github.com/logrouter/logrouter/pipeline"
)

// refusedRejects remembers the rejected records of requests that were
// refused after those records were quarantined: deliver stores them before
// the Emit (so that a full quarantine refuses the request before anything
// is delivered), and a refused Emit tells the sender to resend it all. The
// resend's copies of these records are already in the quarantine, once
// each: they are not stored or counted again, or a replay would deliver
// them twice. A record is remembered by its bytes and everything a replay
// of it uses (rejectKey), as many times as it was refused, for the last
// maxRefusedRejects records.
type refusedRejects struct {
	n     atomic.Int64 // remembered: 0 lets deliver skip the lock
	mu    sync.Mutex
	count map[uint64]int
	ring  []uint64 // in the order remembered, for forgetting the oldest
	next  int
}

const maxRefusedRejects = 1 << 16

// rejectKey identifies a rejected record by everything a replay of it
// uses: its bytes, reason, input and protocol and the metadata its request
// gave it. A record of another request with the same bytes (an empty
// heartbeat line, a truncated prefix) under other metadata is stored and
// counted on its own (it was swallowed by the first one's memory). Two
// requests that match in every one of these share a copy: the same replay
// either way. Not the peer: behind an L7 proxy or ingress a resend comes
// from another address, and each refused attempt would be stored again.
func rejectKey(r *pipeline.Rejected) uint64 {
	d := xxhash.New()
	for _, f := range [...]string{r.Input, r.Protocol, r.Reason, r.DefaultSourceType, r.DefaultIndex,
		r.SourceType, r.DefaultHost, r.DefaultSource} {
		_, _ = d.WriteString(f)
		_, _ = d.Write([]byte{0})
	}
	var t [16]byte
	binary.LittleEndian.PutUint64(t[:8], uint64(r.DefaultTime))
	binary.LittleEndian.PutUint64(t[8:], uint64(r.RecordTime))
	_, _ = d.Write(t[:])
	_, _ = d.Write(r.Raw)
	return d.Sum64()
}

// remember records recs, quarantined for a request that was then refused.
func (m *refusedRejects) remember(recs []pipeline.Rejected) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.count == nil {
		m.count = make(map[uint64]int)
		m.ring = make([]uint64, 0, 64)
	}
	for i := range recs {
		k := rejectKey(&recs[i])
		if len(m.ring) < maxRefusedRejects {
			m.ring = append(m.ring, k)
		} else {
			m.forget(m.ring[m.next])
			m.ring[m.next] = k
			m.next = (m.next + 1) % maxRefusedRejects
		}
		m.count[k]++
		m.n.Add(1)
	}
}

func (m *refusedRejects) forget(k uint64) {
	if c := m.count[k]; c > 1 {
		m.count[k] = c - 1
	} else if c == 1 {
		delete(m.count, k)
	} else {
		return // taken by a resend already
	}
	m.n.Add(-1)
}

// stored returns recs without those a refused request already quarantined
// (each taken once), and forgets them.
func (m *refusedRejects) stored(recs []pipeline.Rejected) []pipeline.Rejected {
	if m.n.Load() == 0 {
		return recs
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []pipeline.Rejected
	for i := range recs {
		k := rejectKey(&recs[i])
		if c := m.count[k]; c > 0 {
			if out == nil {
				out = append(make([]pipeline.Rejected, 0, len(recs)), recs[:i]...)
			}
			m.forget(k)
			continue
		}
		if out != nil {
			out = append(out, recs[i])
		}
	}
	if out == nil {
		return recs
	}
	return out
}
