package harness

import (
	"bytes"
	"math/rand/v2"
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
	corrupt   atomic.Uint64 // of this run, but its content is not what was sent (sum.go)
	foreign   atomic.Uint64 // another run or no bench_run
	dups      atomic.Uint64 // a bench_seq seen before, stored again
	conflicts atomic.Uint64 // creates refused 409: their _id was stored (OpenSearch)
	requests  atomic.Uint64 // requests (receivers) or files (verified directories)
	stored    atomic.Uint64 // bytes of the files read back (verified directories)
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
// now the receive time (unix ns; 0: no latency). A receiver that refuses
// a copy (OpenSearch's 409 to a create of a stored _id) does not call it.
func (d *Dest) event(v *fastjson.Value, size int, now int64) {
	if v == nil || v.Type() != fastjson.TypeObject {
		d.invalid.Add(1)
		return
	}
	if run := v.GetStringBytes("bench_run"); !bytes.Equal(run, d.run) {
		d.foreign.Add(1)
		return
	}
	sv := v.Get("bench_seq")
	if sv == nil {
		d.invalid.Add(1)
		return
	}
	seq, err := sv.Uint64()
	if err != nil || seq >= maxSeq {
		d.invalid.Add(1)
		return
	}
	if v.Exists("bench_sum") && !sumHolds(v) {
		// Its content is not what was sent: not received; it shows as
		// lost, and corrupt says why.
		d.corrupt.Add(1)
		return
	}
	var sent int64
	if now != 0 {
		sent = v.GetInt64("bench_sent_ns")
	}
	d.record(seq, sent, size, now)
}

// record counts one event of this run: seq its bench_seq, sent its
// bench_sent_ns (0: none), size its bytes, now the receive time (0: no
// latency).
func (d *Dest) record(seq uint64, sent int64, size int, now int64) {
	again := d.seen.set(seq)
	if again {
		d.dups.Add(1)
	}
	d.received.Add(1)
	d.bytes.Add(uint64(size))
	// One latency sample per event, at its first arrival: a resend's
	// later copy is not another event's latency (and a 409-refused copy
	// would otherwise be treated differently from an accepted one).
	if !again && now != 0 && sent > 0 {
		d.hist.Record(now - sent)
	}
}

// eventBytes parses one event and records it.
func (d *Dest) eventBytes(p *fastjson.Parser, b []byte, now int64) {
	v, err := p.ParseBytes(b)
	if err != nil {
		d.invalid.Add(1)
		return
	}
	d.event(v, len(b), now)
}

// fullParseEvery: a receiver on the load path parses one event in this many
// in full (JSON validity); the others take scanEvent. Every event is parsed
// in full when the archive is read back after the run.
const fullParseEvery = 16

// eventFast records one event found by scanning for the three bench fields
// instead of parsing it: on a 2-core machine the receivers compete with the
// router, and parsing every OpenSearch document cost the harness ~0.1 core.
// One event in fullParseEvery, chosen at random, and any event the scan
// cannot read, goes through eventBytes. (The OpenSearch receiver validates
// every document first, as the cluster would.)
func (d *Dest) eventFast(p *fastjson.Parser, b []byte, now int64) {
	if rand.Uint32N(fullParseEvery) == 0 { // a random sample: a fault tied to a position is caught too
		d.eventBytes(p, b, now)
		return
	}
	seq, sent, ok := d.scanEvent(b)
	if !ok {
		d.eventBytes(p, b, now)
		return
	}
	d.record(seq, sent, len(b), now)
}

var (
	keyRun  = []byte(`"bench_run":"`)
	keySeq  = []byte(`"bench_seq":`)
	keySent = []byte(`"bench_sent_ns":`)
)

// scanEvent finds this run's bench fields in an object by byte search. A
// key inside a string value cannot match: its quotes are escaped there. It
// reports false for anything it does not recognise (the caller parses).
func (d *Dest) scanEvent(b []byte) (seq uint64, sent int64, ok bool) {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return 0, 0, false
	}
	i := bytes.Index(b, keyRun)
	if i < 0 {
		return 0, 0, false
	}
	run := b[i+len(keyRun):]
	if len(run) <= len(d.run) || !bytes.Equal(run[:len(d.run)], d.run) || run[len(d.run)] != '"' {
		return 0, 0, false
	}
	seq, ok = scanUint(b, keySeq)
	if !ok || seq >= maxSeq || seq%sumEvery == 0 {
		return 0, 0, false // (one with a bench_sum is parsed: its content is checked)
	}
	s, ok := scanUint(b, keySent)
	if !ok {
		return 0, 0, false
	}
	return seq, int64(s), true
}

// scanUint reads the unsigned integer after key in b, which a ',' or '}'
// must end.
func scanUint(b, key []byte) (uint64, bool) {
	i := bytes.Index(b, key)
	if i < 0 {
		return 0, false
	}
	b = b[i+len(key):]
	var v uint64
	j := 0
	for ; j < len(b) && j < 19 && b[j] >= '0' && b[j] <= '9'; j++ {
		v = v*10 + uint64(b[j]-'0')
	}
	if j == 0 || j == len(b) || (b[j] != ',' && b[j] != '}') {
		return 0, false
	}
	return v, true
}
