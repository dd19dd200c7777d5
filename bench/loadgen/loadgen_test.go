package loadgen

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestDeterministic(t *testing.T) {
	for _, o := range []Options{
		{Seed: 1},
		{Seed: 42, DupRate: 0.3},
		{Seed: 7, Weights: map[Kind]int{KindEDR: 1, KindOkta: 3}, Start: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
	} {
		a, b := New(o), New(o)
		var ba, bb []byte
		for i := range 5000 {
			var ka, kb Kind
			ba, ka = a.Next(ba[:0])
			bb, kb = b.Next(bb[:0])
			if ka != kb || !bytes.Equal(ba, bb) {
				t.Fatalf("seed %d event %d differs:\n%s\n%s", o.Seed, i, ba, bb)
			}
		}
	}
	// Different seeds give different streams.
	a, b := New(Options{Seed: 1}), New(Options{Seed: 2})
	ea, _ := a.Next(nil)
	eb, _ := b.Next(nil)
	if bytes.Equal(ea, eb) {
		t.Fatal("seeds 1 and 2 produced the same first event")
	}
}

// TestShape checks every event of every kind: valid JSON object, size, the
// vendor's identifying fields, and that Next appends rather than overwrites.
func TestShape(t *testing.T) {
	// vendor fields that must be present (dotted paths into the object).
	must := map[Kind][]string{
		KindEDR:          {"metadata.eventType", "metadata.eventCreationTime", "event.ComputerName", "event.UserName", "event.Severity", "event.Tactic", "event.Technique", "event.FileName", "event.SHA256String", "event.CommandLine"},
		KindEDRTelemetry: {"event_simpleName", "aid", "cid", "timestamp", "event_platform"},
		KindNDRAlert:     {"timestamp", "flow_id", "event_type", "src_ip", "src_port", "dest_ip", "dest_port", "proto", "alert.signature", "alert.severity", "alert.signature_id"},
		KindNDRFlow:      {"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "conn_state"},
		KindGuardDuty:    {"schemaVersion", "accountId", "region", "id", "type", "severity", "service.serviceName", "resource.resourceType", "createdAt", "updatedAt"},
		KindCloudTrail:   {"eventVersion", "userIdentity.type", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent", "requestParameters", "eventID"},
		KindFortiGate:    {"date", "time", "devname", "devid", "logid", "type", "subtype", "srcip", "srcport", "dstip", "dstport", "action", "policyid", "service", "sentbyte", "rcvdbyte"},
		KindPANOS:        {"receive_time", "serial", "type", "src", "dst", "sport", "dport", "rule", "app", "action"},
		KindLinuxAuth:    {"timestamp", "host", "program", "pid", "message"},
		KindOkta:         {"uuid", "published", "eventType", "actor.id", "actor.type", "actor.alternateId", "actor.displayName", "client.ipAddress", "client.userAgent.rawUserAgent", "outcome.result", "displayMessage", "severity"},
		KindEmail:        {"Received", "SenderAddress", "RecipientAddress", "Subject", "Status", "MessageId", "FromIP", "Size"},
		KindApp:          {"ts", "level", "logger", "msg", "service", "trace_id"},
		KindVuln:         {"plugin_id", "plugin_name", "severity", "asset.hostname", "asset.ipv4", "first_found", "last_found", "cve"},
	}
	m := New(Options{Seed: 3})
	minSize, maxSize := map[Kind]int{}, map[Kind]int{}
	buf := []byte("prefix")
	for i := range 50000 {
		var k Kind
		buf, k = m.Next(buf[:6])
		if string(buf[:6]) != "prefix" {
			t.Fatal("Next overwrote the caller's bytes")
		}
		ev := buf[6:]
		if n := len(ev); n < 300 || n > 1500 {
			t.Fatalf("event %d (%s) is %d bytes, want 300..1500:\n%s", i, k, n, ev)
		}
		if bytes.IndexByte(ev, '\n') >= 0 {
			t.Fatalf("event %d (%s) is not a single line", i, k)
		}
		if mn, ok := minSize[k]; !ok || len(ev) < mn {
			minSize[k] = len(ev)
		}
		maxSize[k] = max(maxSize[k], len(ev))
		if !json.Valid(ev) {
			t.Fatalf("event %d (%s) is not valid JSON:\n%s", i, k, ev)
		}
		if i%7 != 0 {
			continue // decoding every event is slow; every 7th is plenty
		}
		var obj map[string]any
		if err := json.Unmarshal(ev, &obj); err != nil {
			t.Fatalf("event %d (%s): %v", i, k, err)
		}
		for _, path := range must[k] {
			if _, ok := lookup(obj, path); !ok {
				t.Fatalf("event %d (%s) lacks %s:\n%s", i, k, path, ev)
			}
		}
	}
	for _, k := range Kinds {
		t.Logf("%-14s %4d..%4d bytes", k, minSize[k], maxSize[k])
	}
}

// lookup resolves a dotted path, preferring a literal key with dots (Zeek's
// "id.orig_h") over nesting.
func lookup(obj map[string]any, path string) (any, bool) {
	if v, ok := obj[path]; ok {
		return v, true
	}
	head, rest, ok := strings.Cut(path, ".")
	if !ok {
		return nil, false
	}
	sub, _ := obj[head].(map[string]any)
	if sub == nil {
		return nil, false
	}
	return lookup(sub, rest)
}

func TestDefaultMix(t *testing.T) {
	m := New(Options{Seed: 11})
	counts := map[Kind]int{}
	var buf []byte
	const n = 10000
	for range n {
		var k Kind
		buf, k = m.Next(buf[:0])
		counts[k]++
	}
	total := 0
	for _, w := range DefaultWeights() {
		total += w
	}
	for _, k := range Kinds {
		if counts[k] == 0 {
			t.Errorf("kind %s never generated in %d events", k, n)
		}
		want := float64(n) * float64(DefaultWeights()[k]) / float64(total)
		if got := float64(counts[k]); math.Abs(got-want) > 5*math.Sqrt(want)+1 {
			t.Errorf("kind %s: %v events, want about %.0f", k, got, want)
		}
	}
}

func TestWeights(t *testing.T) {
	m := New(Options{Seed: 5, Weights: map[Kind]int{KindGuardDuty: 1, KindVuln: 0, KindApp: -3}})
	var buf []byte
	for range 200 {
		var k Kind
		buf, k = m.Next(buf[:0])
		if k != KindGuardDuty {
			t.Fatalf("got kind %s, want only guardduty", k)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("New with no positive weight did not panic")
		}
	}()
	New(Options{Weights: map[Kind]int{KindApp: 0}})
}

func TestDupRate(t *testing.T) {
	for _, rate := range []float64{0, 0.2, 0.5} {
		m := New(Options{Seed: 9, DupRate: rate})
		seen := map[string]bool{}
		dups := 0
		var buf []byte
		const n = 20000
		for range n {
			buf, _ = m.Next(buf[:0])
			if seen[string(buf)] {
				dups++
			}
			seen[string(buf)] = true
		}
		got := float64(dups) / n
		if math.Abs(got-rate) > 0.03 {
			t.Errorf("DupRate %v: %.3f of events were exact repeats", rate, got)
		}
	}
}

func TestTimeAdvances(t *testing.T) {
	start := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	m := New(Options{Seed: 1, Weights: map[Kind]int{KindOkta: 1}})
	var prev time.Time
	var buf []byte
	for i := range 1000 {
		buf, _ = m.Next(buf[:0])
		var ev struct{ Published time.Time }
		if err := json.Unmarshal(buf, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Published.Before(start) || ev.Published.Before(prev) {
			t.Fatalf("event %d published %v after %v", i, ev.Published, prev)
		}
		prev = ev.Published
	}
	if d := prev.Sub(start); d < 500*time.Millisecond || d > 2*time.Second {
		t.Fatalf("1000 events span %v, want about 1s", d)
	}
}

func TestTimestampFormats(t *testing.T) {
	ns := time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.UTC).UnixNano()
	for _, c := range []struct {
		got  []byte
		want string
	}{
		{appendTS(nil, ns, 6, 0, zoneNoColon), "2026-11-28T10:00:00.123456+0000"},
		{appendTS(nil, ns, 6, -300, zoneNoColon), "2026-11-28T05:00:00.123456-0500"},
		{appendTS(nil, ns, 3, 60, zoneColon), "2026-11-28T11:00:00.123+01:00"},
		{appendTS(nil, ns, 0, 0, zoneZ), "2026-11-28T10:00:00Z"},
		{appendTS(nil, ns, 7, 0, zoneZ), "2026-11-28T10:00:00.1234567Z"},
		{appendTS(nil, ns, 3, 330, zoneColon), "2026-11-28T15:30:00.123+05:30"},
		{appendEpochMillis(nil, ns), "1795860000123"},
		{appendEpochFrac(nil, ns, 6), "1795860000.123456"},
		{appendEpochFrac(nil, ns+1e9-123456789+5000, 6), "1795860001.000005"},
	} {
		if string(c.got) != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	for _, ts := range []string{string(appendTS(nil, ns, 3, 60, zoneColon)), string(appendTS(nil, ns, 9, 0, zoneZ))} {
		p, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || p.UnixNano()/1e6 != ns/1e6 {
			t.Errorf("%s parses to %v, %v", ts, p, err)
		}
	}
}

func TestAppendQ(t *testing.T) {
	got := appendQ(nil, "a\"b\\c\nd\x01é")
	if want := `"a\"b\\c\nd\u0001é"`; string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestHECEnvelope(t *testing.T) {
	m := New(Options{Seed: 4, DupRate: 0.1})
	var ev, env []byte
	for range 2000 {
		var k Kind
		ev, k = m.Next(ev[:0])
		env = m.HECEnvelope(env[:0], ev, k)
		var h struct {
			Time       float64         `json:"time"`
			Host       string          `json:"host"`
			SourceType string          `json:"sourcetype"`
			Event      json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal(env, &h); err != nil {
			t.Fatalf("%v:\n%s", err, env)
		}
		if h.SourceType != k.SourceType() || h.Host == "" || !bytes.Equal(h.Event, ev) {
			t.Fatalf("bad envelope for %s:\n%s", k, env)
		}
		start := float64(DefaultStart.Unix())
		if h.Time < start-2*86400 || h.Time > start+3600 {
			t.Fatalf("envelope time %f out of range", h.Time)
		}
	}
}

func TestKindNames(t *testing.T) {
	if len(Kinds) != numKinds {
		t.Fatalf("Kinds has %d entries, want %d", len(Kinds), numKinds)
	}
	names, types := map[string]bool{}, map[string]bool{}
	for i, k := range Kinds {
		if int(k) != i {
			t.Fatalf("Kinds[%d] = %d", i, k)
		}
		if names[k.String()] || types[k.SourceType()] {
			t.Fatalf("duplicate name %s or source type %s", k, k.SourceType())
		}
		names[k.String()], types[k.SourceType()] = true, true
		if p := k.Priority(); p != "P1" && p != "P2" && p != "P3" {
			t.Fatalf("%s: priority %q", k, p)
		}
	}
	if KindEDR.String() != "edr" || KindEDR.SourceType() != "crowdstrike.falcon" || KindEDR.Priority() != "P1" {
		t.Fatal("KindEDR metadata")
	}
	if Kind(200).String() != "unknown" || Kind(200).SourceType() != "" {
		t.Fatal("invalid kind metadata")
	}
}

func TestNoAllocs(t *testing.T) {
	for _, rate := range []float64{0, 0.2} {
		m := New(Options{Seed: 6, DupRate: rate})
		buf := make([]byte, 0, 4096)
		env := make([]byte, 0, 8192)
		for range 1000 { // warm up
			buf, _ = m.Next(buf[:0])
		}
		allocs := testing.AllocsPerRun(20000, func() {
			var k Kind
			buf, k = m.Next(buf[:0])
			env = m.HECEnvelope(env[:0], buf, k)
		})
		if allocs != 0 {
			t.Fatalf("DupRate %v: %v allocations per Next+HECEnvelope, want 0", rate, allocs)
		}
	}
	// Per kind, so that a rarely drawn kind cannot hide an allocation.
	for _, k := range Kinds {
		m := New(Options{Seed: 6, Weights: map[Kind]int{k: 1}})
		buf := make([]byte, 0, 4096)
		buf, _ = m.Next(buf[:0])
		if allocs := testing.AllocsPerRun(2000, func() { buf, _ = m.Next(buf[:0]) }); allocs != 0 {
			t.Errorf("%s: %v allocations per Next, want 0", k, allocs)
		}
	}
}

// meanSize warms m up and returns the mean event size, for SetBytes.
func meanSize(m *Mix) int64 {
	buf := make([]byte, 0, 4096)
	var n int64
	for range 1000 {
		buf, _ = m.Next(buf[:0])
		n += int64(len(buf))
	}
	return n / 1000
}

// BenchmarkNext measures the default mix with a few retransmitted duplicates.
func BenchmarkNext(b *testing.B) {
	m := New(Options{Seed: 1, DupRate: 0.05})
	b.SetBytes(meanSize(m))
	b.ReportAllocs()
	buf := make([]byte, 0, 4096)
	for b.Loop() {
		buf, _ = m.Next(buf[:0])
	}
}

// BenchmarkNextKind measures each kind alone.
func BenchmarkNextKind(b *testing.B) {
	for _, k := range Kinds {
		b.Run(k.String(), func(b *testing.B) {
			m := New(Options{Seed: 1, Weights: map[Kind]int{k: 1}})
			b.SetBytes(meanSize(m))
			b.ReportAllocs()
			buf := make([]byte, 0, 4096)
			for b.Loop() {
				buf, _ = m.Next(buf[:0])
			}
		})
	}
}

// BenchmarkHECEnvelope measures Next plus wrapping the event for HEC.
func BenchmarkHECEnvelope(b *testing.B) {
	m := New(Options{Seed: 1})
	b.SetBytes(meanSize(m))
	b.ReportAllocs()
	buf := make([]byte, 0, 4096)
	env := make([]byte, 0, 8192)
	for b.Loop() {
		var k Kind
		buf, k = m.Next(buf[:0])
		env = m.HECEnvelope(env[:0], buf, k)
	}
}
