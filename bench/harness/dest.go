package harness

import (
	"bytes"
	"sync/atomic"

	"github.com/valyala/fastjson"
)

// Dest counts what one destination received: events, bytes, events of no
// or another run, unparsable ones, and duplicates, with a bitmap of the
// sequence numbers seen and (for receivers) a latency histogram. It keeps
// nothing per event beyond one bit.
type Dest struct {
	Name string
	// Priorities lists the priorities routed to the destination (bit p set
	// for P<p>): what it should hold.
	Priorities uint8

	run       []byte
	received  atomic.Uint64 // events of this run
	bytes     atomic.Uint64 // their bytes as received (envelope or line)
	invalid   atomic.Uint64 // not JSON, no object, no bench_seq
	foreign   atomic.Uint64 // another run or no bench_run
	dups      atomic.Uint64 // a bench_seq seen before, stored again
	conflicts atomic.Uint64 // a bench_seq seen before, refused as a conflict (OpenSearch create: 409)
	requests  atomic.Uint64 // requests (receivers) or files (verified directories)
	refused   atomic.Uint64 // requests answered 503 on purpose (outage)
	seen      bitset
	hist      Hist
}

// NewDest returns a Dest for run that should hold the events of the
// priorities in prios ("P1", "P2", "P3").
func NewDest(name, run string, prios ...string) *Dest {
	d := &Dest{Name: name, run: []byte(run)}
	for _, p := range prios {
		d.Priorities |= prioBit(p)
	}
	return d
}

func prioBit(p string) uint8 {
	switch p {
	case "P1":
		return 1 << 1
	case "P2":
		return 1 << 2
	case "P3":
		return 1 << 3
	}
	return 0
}

// event records one received event object; size is its size on the wire and
// now the receive time (unix ns; 0: no latency). With conflict set, an
// event seen before is counted as a conflict (refused, not stored: an
// OpenSearch create of an existing _id) instead of a duplicate, and
// event reports true.
func (d *Dest) event(v *fastjson.Value, size int, now int64, conflict bool) (refused bool) {
	if v == nil || v.Type() != fastjson.TypeObject {
		d.invalid.Add(1)
		return false
	}
	if run := v.GetStringBytes("bench_run"); !bytes.Equal(run, d.run) {
		d.foreign.Add(1)
		return false
	}
	sv := v.Get("bench_seq")
	if sv == nil {
		d.invalid.Add(1)
		return false
	}
	seq, err := sv.Uint64()
	if err != nil || seq >= maxSeq {
		d.invalid.Add(1)
		return false
	}
	if d.seen.set(seq) {
		if conflict {
			d.conflicts.Add(1)
			return true
		}
		d.dups.Add(1)
	}
	d.received.Add(1)
	d.bytes.Add(uint64(size))
	if now != 0 {
		if sent := v.GetInt64("bench_sent_ns"); sent > 0 {
			d.hist.Record(now - sent)
		}
	}
	return false
}

// eventBytes parses one event and records it.
func (d *Dest) eventBytes(p *fastjson.Parser, b []byte, now int64, conflict bool) (refused bool) {
	v, err := p.ParseBytes(b)
	if err != nil {
		d.invalid.Add(1)
		return false
	}
	return d.event(v, len(b), now, conflict)
}
