// Package loadgen generates a seeded, reproducible stream of realistic
// security-log events for benchmarks and load tests.
//
// A Mix draws events from thirteen source kinds (EDR detections and telemetry,
// NDR alerts and flows, cloud findings and audit trails, firewalls, Linux auth,
// identity provider, email metadata, application logs and vulnerability
// findings) with the shapes, field names and timestamp formats the real vendors
// emit. Values vary the way they do in a real feed: a fixed synthetic
// organisation (users, workstations, servers, AWS accounts, firewalls, sensors)
// is shared by every Mix, activity is skewed towards a few busy users and hosts,
// attackers reuse their addresses, and the clock advances about one millisecond
// per event from Options.Start.
//
// Generation is deterministic: the same Options always yield the same bytes.
// Next appends into the caller's buffer and allocates nothing after warm-up,
// so it can feed benchmarks of every pipeline stage.
package loadgen

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// Kind is one source of events.
type Kind uint8

// The kinds of events a Mix generates.
const (
	KindEDR          Kind = iota // CrowdStrike Falcon streaming API detection summary (P1)
	KindEDRTelemetry             // CrowdStrike FDR raw telemetry: ProcessRollup2, DnsRequest, NetworkConnectIP4 (P2)
	KindNDRAlert                 // Suricata EVE alert (P1)
	KindNDRFlow                  // Zeek conn.log (P2)
	KindGuardDuty                // AWS GuardDuty finding (P1)
	KindCloudTrail               // AWS CloudTrail record (P2)
	KindFortiGate                // FortiGate traffic log (P2)
	KindPANOS                    // Palo Alto Networks PAN-OS TRAFFIC/THREAT log (P2)
	KindLinuxAuth                // sshd/sudo/su/logind auth events (P2)
	KindOkta                     // Okta System Log event (P2)
	KindEmail                    // Microsoft 365 message trace (P2)
	KindApp                      // application JSON logs (P3)
	KindVuln                     // Tenable-like vulnerability finding (P3)

	numKinds = iota
)

// Kinds lists every kind.
var Kinds = []Kind{
	KindEDR, KindEDRTelemetry, KindNDRAlert, KindNDRFlow, KindGuardDuty,
	KindCloudTrail, KindFortiGate, KindPANOS, KindLinuxAuth, KindOkta,
	KindEmail, KindApp, KindVuln,
}

var kindInfo = [numKinds]struct {
	name, sourceType, priority string
	weight                     int
}{
	KindEDR:          {"edr", "crowdstrike.falcon", "P1", 1},
	KindEDRTelemetry: {"edr-telemetry", "crowdstrike.fdr", "P2", 8},
	KindNDRAlert:     {"ndr-alert", "suricata.eve", "P1", 2},
	KindNDRFlow:      {"ndr-flow", "zeek.conn", "P2", 15},
	KindGuardDuty:    {"guardduty", "aws.guardduty", "P1", 1},
	KindCloudTrail:   {"cloudtrail", "aws.cloudtrail", "P2", 10},
	KindFortiGate:    {"fortigate", "fortinet.fortigate", "P2", 10},
	KindPANOS:        {"panos", "paloalto.panos", "P2", 10},
	KindLinuxAuth:    {"linux-auth", "linux.auth", "P2", 8},
	KindOkta:         {"okta", "okta.system", "P2", 5},
	KindEmail:        {"email", "email.metadata", "P2", 5},
	KindApp:          {"app", "app.json", "P3", 20},
	KindVuln:         {"vuln", "vuln.scanner", "P3", 5},
}

// String returns the kind's short name, for example "edr".
func (k Kind) String() string {
	if k >= numKinds {
		return "unknown"
	}
	return kindInfo[k].name
}

// SourceType returns the dataset name the kind is sent as, for example
// "crowdstrike.falcon". It is the Splunk HEC sourcetype HECEnvelope writes.
func (k Kind) SourceType() string {
	if k >= numKinds {
		return ""
	}
	return kindInfo[k].sourceType
}

// Priority returns the priority the starter rules give the kind: "P1", "P2" or
// "P3".
func (k Kind) Priority() string {
	if k >= numKinds {
		return ""
	}
	return kindInfo[k].priority
}

// DefaultWeights returns the default mix, roughly that of a real SOC feed (the
// weights add up to 100, so each is a percentage).
func DefaultWeights() map[Kind]int {
	w := make(map[Kind]int, numKinds)
	for _, k := range Kinds {
		w[k] = kindInfo[k].weight
	}
	return w
}

// DefaultStart is the time of the first event when Options.Start is zero.
var DefaultStart = time.Date(2026, time.November, 28, 0, 0, 0, 0, time.UTC)

// Options configure a Mix.
type Options struct {
	// Seed selects the stream. The same Options yield the same bytes.
	Seed int64
	// DupRate is the probability (0..1) that Next repeats one of the recently
	// generated events byte for byte, as retrying senders and overlapping
	// collectors do.
	DupRate float64
	// Weights gives the relative frequency of each kind; kinds missing or with
	// a weight <= 0 are never generated. nil means DefaultWeights.
	Weights map[Kind]int
	// Start is the time of the first event; zero means DefaultStart.
	Start time.Time
}

// ringSize is how many recent events a duplicate is drawn from.
const ringSize = 64

// maxEvent bounds an event's size; ring slots are preallocated to it.
const maxEvent = 2048

type recent struct {
	buf  []byte
	kind Kind
	time int64
	host string
}

// Mix generates events. It is not safe for concurrent use: give each goroutine
// its own Mix (with a different Seed for different streams).
type Mix struct {
	rng     rand.PCG
	w       *world
	now     int64 // unix nanoseconds of the current event
	dup     uint64
	cum     [numKinds]uint32 // cumulative weights, in Kinds order
	total   uint32
	ring    [ringSize]recent
	ringLen int
	ringPos int

	// what HECEnvelope reports for the last event
	lastTime int64
	lastHost string

	// per-source sequence numbers, as the real sources keep them
	falconOffset int64
	panSeq       int64
	fortiSession int64
	zeekFlow     uint64
}

// New returns a Mix for o.
func New(o Options) *Mix {
	m := &Mix{w: getWorld()}
	m.rng = *rand.NewPCG(uint64(o.Seed), 0x6c6f67726f757465) // "logroute"
	start := o.Start
	if start.IsZero() {
		start = DefaultStart
	}
	m.now = start.UnixNano()
	if o.DupRate > 0 {
		if f := o.DupRate * 0x1p64; f >= 0x1p64 {
			m.dup = ^uint64(0)
		} else {
			m.dup = uint64(f)
		}
	}
	weights := o.Weights
	if weights == nil {
		weights = DefaultWeights()
	}
	for _, k := range Kinds {
		if w := weights[k]; w > 0 {
			m.total += uint32(w)
		}
		m.cum[k] = m.total
	}
	if m.total == 0 {
		panic("loadgen: Options.Weights gives no kind a positive weight")
	}
	for i := range m.ring {
		m.ring[i].buf = make([]byte, 0, maxEvent)
	}
	m.falconOffset = 4_000_000 + int64(m.rng.Uint64()%1_000_000)
	m.panSeq = 7_000_000_000 + int64(m.rng.Uint64()%100_000_000)
	m.fortiSession = 100_000_000 + int64(m.rng.Uint64()%50_000_000)
	return m
}

// Next appends one event, a single-line JSON object without a trailing
// newline, to dst and returns the extended buffer and the event's kind.
func (m *Mix) Next(dst []byte) ([]byte, Kind) {
	// ~1ms between events on average: a 1k events/s feed.
	m.now += int64(1+m.n(2000)) * int64(time.Microsecond)
	if m.ringLen > 0 && m.dup != 0 && m.rng.Uint64() < m.dup {
		r := &m.ring[m.n(m.ringLen)]
		m.lastTime, m.lastHost = r.time, r.host
		return append(dst, r.buf...), r.kind
	}
	k := m.pick()
	start := len(dst)
	m.lastTime = m.now
	switch k {
	case KindEDR:
		dst = m.falconDetection(dst)
	case KindEDRTelemetry:
		dst = m.fdr(dst)
	case KindNDRAlert:
		dst = m.suricataAlert(dst)
	case KindNDRFlow:
		dst = m.zeekConn(dst)
	case KindGuardDuty:
		dst = m.guardDuty(dst)
	case KindCloudTrail:
		dst = m.cloudTrail(dst)
	case KindFortiGate:
		dst = m.fortiGate(dst)
	case KindPANOS:
		dst = m.panOS(dst)
	case KindLinuxAuth:
		dst = m.linuxAuth(dst)
	case KindOkta:
		dst = m.okta(dst)
	case KindEmail:
		dst = m.email(dst)
	case KindApp:
		dst = m.app(dst)
	case KindVuln:
		dst = m.vuln(dst)
	}
	if m.dup != 0 {
		r := &m.ring[m.ringPos]
		r.buf = append(r.buf[:0], dst[start:]...)
		r.kind, r.time, r.host = k, m.lastTime, m.lastHost
		m.ringPos = (m.ringPos + 1) % ringSize
		m.ringLen = min(m.ringLen+1, ringSize)
	}
	return dst, k
}

// HECEnvelope appends a Splunk HEC event object wrapping event:
//
//	{"time":<epoch seconds>,"host":"...","sourcetype":"<k.SourceType()>","event":<event>}
//
// time and host are those of the event the last Next returned (a repeated
// event gets its original's), so call it right after Next.
func (m *Mix) HECEnvelope(dst []byte, event []byte, k Kind) []byte {
	dst = append(dst, `{"time":`...)
	dst = appendEpochFrac(dst, m.lastTime, 3)
	dst = append(dst, `,"host":`...)
	dst = appendQ(dst, m.lastHost)
	dst = append(dst, `,"sourcetype":`...)
	dst = appendQ(dst, k.SourceType())
	dst = append(dst, `,"event":`...)
	dst = append(dst, event...)
	return append(dst, '}')
}

// Last returns the time (unix ns) and host of the event the last Next
// returned (a repeated event's are its original's), as HECEnvelope writes
// them: what an OTLP log record of it carries.
func (m *Mix) Last() (timeNs int64, host string) { return m.lastTime, m.lastHost }

// pick draws a kind by weight.
func (m *Mix) pick() Kind {
	r := uint32(m.n(int(m.total)))
	for _, k := range Kinds {
		if r < m.cum[k] {
			return k
		}
	}
	return Kinds[len(Kinds)-1]
}

// n returns a uniform int in [0, k), k < 2^32.
func (m *Mix) n(k int) int {
	return int((m.rng.Uint64() >> 32) * uint64(k) >> 32)
}

// skew returns an int in [0, k) biased towards 0: a few users and hosts make
// most of the noise, as in a real network.
func (m *Mix) skew(k int) int {
	return min(m.n(k), m.n(k), m.n(k))
}

// chance is true with probability pct/100.
func (m *Mix) chance(pct int) bool { return m.n(100) < pct }

// between returns an int in [lo, hi].
func (m *Mix) between(lo, hi int) int { return lo + m.n(hi-lo+1) }

// pickS returns a random element of s.
func pickS[T any](m *Mix, s []T) T { return s[m.n(len(s))] }

// u64 returns 64 random bits.
func (m *Mix) u64() uint64 { return m.rng.Uint64() }

// appendRandHex appends n lowercase random hex digits.
func (m *Mix) appendRandHex(b []byte, n int) []byte {
	for n > 0 {
		c := min(n, 16)
		b = appendHex(b, m.u64(), c)
		n -= c
	}
	return b
}

// appendUUID appends a random (version 4) UUID.
func (m *Mix) appendUUID(b []byte) []byte {
	return appendUUID(b, m.u64(), m.u64())
}

// appendPort appends an ephemeral client port.
func (m *Mix) appendEphemeral(b []byte) []byte {
	return strconv.AppendInt(b, int64(m.between(49152, 65535)), 10)
}
