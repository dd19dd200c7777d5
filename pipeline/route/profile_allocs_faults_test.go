package route_test

// Fault tests from a review of 12f05ad (a value that does not convert is
// set aside) and a0ccbb2 (copy from a list element). Each fails on the
// code as found; the comments describe that code.

import (
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// profileAllocs normalizes and classifies ev (source type st) 100 times
// per batch, as TestWorkerZeroAllocs does, checks that each event got
// priority want, and returns the allocations per batch.
func profileAllocs(t *testing.T, ev []byte, st string, want pipeline.Priority) float64 {
	t.Helper()
	r := exampleRouter(t)
	w := r.NewWorker()
	var p fastjson.Parser
	batch := pipeline.NewBatch()
	batch.Grow(len(ev) * 400)
	em := normalize.EventMeta{SourceType: []byte(st)}
	run := func() {
		batch.Reset()
		for i := 0; i < 100; i++ {
			v, _ := p.ParseBytes(ev)
			_ = w.Add(batch, v, nil, &em)
		}
	}
	run()
	if len(batch.Events) != 100 || batch.Events[0].Priority != want {
		t.Fatalf("precondition: 100 events of %v, got %d", want, len(batch.Events))
	}
	run()
	return testing.AllocsPerRun(20, run)
}

// TestUnconvertedZeroAllocs
//
// What is wrong: TestWorkerZeroAllocs runs the loadgen mix, in which every
// value converts, so it does not see the path 12f05ad made the documented
// handling of a value that does not convert (set aside under
// logrouter.unconverted). On that path convert (profile.go) calls
// strconv.ParseInt and then strconv.ParseFloat (convInt) or
// netip.ParseAddr (convIP) and drops their errors: each failed parse
// allocates its error (strconv.NumError plus a copy of the text;
// netip's parseAddrError boxed in an error): 4 allocations for a
// FortiGate srcport "49538/tcp", 1 for a srcip "N/A-proxy", 5 per event
// of the test. (Pre-existing
// in convert's failure path; setAside itself allocates nothing.)
//
// How to reproduce: the embedded example router; a fortinet.fortigate
// event whose srcport is not a number, 100 per batch, AllocsPerRun.
//
// Expected: 0 (normalize.go package doc: "Nothing here allocates per
// event in steady state"; docs/performance.md's zero-allocation hot path).
// Why it matters: a sender (or a device firmware that writes "port/proto")
// turns every event into garbage for the collector on the hot path, the
// cost the zero-allocation invariant is there to rule out.
func TestUnconvertedZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	ev := []byte(`{"date": "2026-11-28", "time": "01:00:00", "devname": "FGT-HQ-FRA-01", "devid": "FG100FTK22004317", "logid": "0000000013", "type": "traffic", "subtype": "forward", "level": "notice", "vd": "root", "srcip": "N/A-proxy", "srcport": "49538/tcp", "dstip": "34.107.221.82", "dstport": 443, "action": "deny"}`)
	if a := profileAllocs(t, ev, "fortinet.fortigate", pipeline.P2); a != 0 {
		t.Errorf("%.1f allocations per batch of 100 events with values set aside, want 0 (%.1f per event)", a, a/100)
	}
}

// TestCopyFromListZeroAllocs
//
// What is wrong: a0ccbb2 says a copy from a list element is "read with
// fastjson's Get on the list as parsed: no allocation". fastjson's
// Value.Get parses each key applied to an array with strconv.Atoi and
// drops the error; when the element is itself a list (events: [[...]]),
// the key "name" is applied to an array, Atoi fails and allocates its
// NumError and a copy of the key: 2 allocations per copy, 4 per
// google_workspace event (events.0.name and events.0.type).
//
// How to reproduce: the embedded example router; a Reports API activity
// (detected as google_workspace) whose events' first element is a list.
//
// Expected: 0 allocations (the commit's claim, normalize.go's package
// doc). copyFromList can test the element's type before indexing (Get
// only with a number on an array and a name on an object) instead.
// Severity: low (the shape is a sender's, not Google's).
func TestCopyFromListZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	ev := []byte(`{"kind":"admin#reports#activity","id":{"time":"2020-10-02T15:00:00Z","uniqueQualifier":"-1234567890","applicationName":"login","customerId":"1"},"actor":{"callerType":"USER","email":"foo@bar.com","profileId":"1"},"ipAddress":"98.235.162.24","events":[["login_failure"]]}`)
	if a := profileAllocs(t, ev, "", pipeline.P2); a != 0 {
		t.Errorf("%.1f allocations per batch of 100 google_workspace events, want 0 (%.1f per event)", a, a/100)
	}
}
