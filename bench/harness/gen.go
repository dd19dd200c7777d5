package harness

import (
	"strconv"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/bench/loadgen"
)

// Protocol is how the load reaches the router.
type Protocol string

// Protocols.
const (
	ProtoHEC    Protocol = "hec"    // POST /services/collector/event, sourcetype from the kind
	ProtoNDJSON Protocol = "ndjson" // POST /ingest
	ProtoBulk   Protocol = "bulk"   // POST /_bulk, _index = the kind's source type
	ProtoSyslog Protocol = "syslog" // RFC 5424 over TCP, octet-counted, the event as MSG
	ProtoKafka  Protocol = "kafka"  // one record per event
	ProtoOTLP   Protocol = "otlp"   // POST /v1/logs, binary protobuf: one log record per event, its body the event as a map
)

// batch is one request's worth of events.
type batch struct {
	body []byte
	seqs []uint64 // per event, duplicates included
	offs []int    // kafka: event i is body[offs[i]:offs[i+1]]
	ev   []byte   // scratch: the event with the harness fields
	raw  []byte   // scratch: loadgen's event
	msg  []byte   // scratch: a syslog message
	otlp otlpEnc  // scratch: OTLP records
}

// gen hands out batches of seeded loadgen events with the harness fields
// injected. It is safe for concurrent use: one Mix behind a mutex, so
// sequence numbers are dense and the stream is the same whatever the
// concurrency.
type gen struct {
	mu        sync.Mutex
	mix       *loadgen.Mix
	run       string
	dups      bool
	logSource bool // inject "log_source":"<source type>" (benthos-compare routes on it)
	ring      [64]ringEnt
	ringPos   int
	next      uint64   // next sequence number
	prio      [][]byte // priority (1..3) per sequence number, in chunks of 1 Mi
	dupsSent  uint64
	sizeSum   uint64
	sizeN     uint64
	p         fastjson.Parser // the events that get a bench_sum (sum.go)
}

type ringEnt struct {
	h    uint64
	seq  uint64
	sent int64
}

const prioChunk = 1 << 20

func newGen(seed int64, dupRate float64, run string, logSource bool) *gen {
	return &gen{
		mix:       loadgen.New(loadgen.Options{Seed: seed, DupRate: dupRate}),
		run:       run,
		dups:      dupRate > 0,
		logSource: logSource,
	}
}

// fill replaces b's content by n events framed for proto, stamped now.
func (g *gen) fill(b *batch, proto Protocol, n int) {
	b.body, b.seqs, b.offs = b.body[:0], b.seqs[:0], b.offs[:0]
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now().UnixNano()
	for range n {
		var k loadgen.Kind
		b.raw, k = g.mix.Next(b.raw[:0])
		seq, sent, dup := g.number(b.raw, now)
		if !dup {
			g.setPrio(seq, k.Priority())
		}
		b.seqs = append(b.seqs, seq)
		ev := append(b.ev[:0], `{"bench_run":"`...)
		ev = append(ev, g.run...)
		ev = append(ev, `","bench_seq":`...)
		ev = strconv.AppendUint(ev, seq, 10)
		if seq%sumEvery == 0 {
			ev = appendSum(ev, &g.p, b.raw)
		}
		ev = append(ev, `,"bench_sent_ns":`...)
		ev = strconv.AppendInt(ev, sent, 10)
		if g.logSource {
			ev = append(ev, `,"log_source":"`...)
			ev = append(ev, k.SourceType()...)
			ev = append(ev, '"')
		}
		if len(b.raw) > 2 {
			ev = append(ev, ',')
		}
		ev = append(ev, b.raw[1:]...)
		b.ev = ev
		g.sizeSum += uint64(len(ev))
		g.sizeN++
		switch proto {
		case ProtoNDJSON:
			// Lines joined by '\n', none after the last: Benthos's
			// line splitter would make an empty message of it.
			if len(b.seqs) > 1 {
				b.body = append(b.body, '\n')
			}
			b.body = append(b.body, ev...)
		case ProtoHEC:
			b.body = g.mix.HECEnvelope(b.body, ev, k)
			b.body = append(b.body, '\n')
		case ProtoBulk:
			b.body = append(b.body, `{"create":{"_index":"`...)
			b.body = append(b.body, k.SourceType()...)
			b.body = append(b.body, "\"}}\n"...)
			b.body = append(b.body, ev...)
			b.body = append(b.body, '\n')
		case ProtoSyslog:
			// The header's time is the send time, the same for a
			// duplicate as for its original, so both are identical.
			m := append(b.msg[:0], "<134>1 "...)
			m = time.Unix(0, sent).UTC().AppendFormat(m, "2006-01-02T15:04:05.000000Z")
			m = append(m, " lrbench-gen lrbench - - - "...)
			m = append(m, ev...)
			b.msg = m
			b.body = strconv.AppendInt(b.body, int64(len(m)), 10)
			b.body = append(b.body, ' ')
			b.body = append(b.body, m...)
		case ProtoKafka:
			b.offs = append(b.offs, len(b.body))
			b.body = append(b.body, ev...)
		case ProtoOTLP:
			t, host := g.mix.Last()
			b.otlp.record(ev, t, host, k.SourceType())
		}
	}
	switch proto {
	case ProtoKafka:
		b.offs = append(b.offs, len(b.body))
	case ProtoOTLP:
		b.body = b.otlp.request(b.body)
	}
}

// number gives a new event the next sequence number and now as its time;
// a duplicate (loadgen repeats one of its last 64 events byte for byte)
// gets its original's.
func (g *gen) number(raw []byte, now int64) (seq uint64, sent int64, dup bool) {
	if !g.dups {
		seq = g.next
		g.next++
		return seq, now, false
	}
	h := xxhash.Sum64(raw)
	for i := range g.ring {
		if e := &g.ring[i]; e.h == h && e.sent != 0 {
			g.dupsSent++
			return e.seq, e.sent, true
		}
	}
	seq = g.next
	g.next++
	g.ring[g.ringPos] = ringEnt{h: h, seq: seq, sent: now}
	g.ringPos = (g.ringPos + 1) % len(g.ring)
	return seq, now, false
}

func (g *gen) setPrio(seq uint64, p string) {
	c := int(seq / prioChunk)
	for len(g.prio) <= c {
		g.prio = append(g.prio, make([]byte, prioChunk))
	}
	var v byte
	switch p {
	case "P1":
		v = 1
	case "P2":
		v = 2
	case "P3":
		v = 3
	}
	g.prio[c][seq%prioChunk] = v
}

// priority of seq: 1..3, 0 when unknown. Call after the load.
func (g *gen) priority(seq uint64) byte {
	c := int(seq / prioChunk)
	if c >= len(g.prio) {
		return 0
	}
	return g.prio[c][seq%prioChunk]
}

// avgSize is the mean size of the events generated so far (800 before any).
func (g *gen) avgSize() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sizeN == 0 {
		return 800
	}
	return int(g.sizeSum / g.sizeN)
}

// counts returns the distinct events generated and the duplicates sent.
func (g *gen) counts() (distinct, dups uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.next, g.dupsSent
}
