package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	tu "github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
)

// TestDedupBurstCountDelivered (review: what a detection
// engineer's content sees)
//
// Fault: with dedup and count_field on (config.example.yaml: enabled,
// count_field dedup.count, all priorities), the repeats dropped from a
// one-off burst are counted in the set but the count never reaches any
// destination. It is only written on "the first copy kept after the
// window", and an event with its own time (every security log: sshd,
// ASA, firewall denies) never has such a copy: the same content can only
// come again with the same timestamp, i.e. only as a resend. The carried
// count is then forgotten a window later.
//
// Sequence (engine with count_field, 1-minute window, a moved clock): a
// batch holds five copies of one event (five identical failed logins a
// device logged within one second: same content hash). One copy is
// kept, four are dropped as in-batch repeats (counted in
// logrouter_input_deduplicated_events_total). Other traffic follows for
// five windows; the burst's event never comes again (its timestamp is
// past).
//
// Expected: README: "`count_field` counts every dropped repeat, in-batch
// ones included", and dedup.go's CountField: "a brute force repeated
// 10,000 times in ten minutes is one event, then one with dedup.count
// 9999". The in-batch repeats are known when the kept copy is written, so
// the SIEM should learn of them (dedup.count 4 on the kept copy, or on a
// record once the window closes), otherwise a threshold rule ("5 failed
// logins from one source in a minute") sees 1.
//
// Actual: no delivered event ever carries dedup.count; the 4 repeats are
// visible only in a Prometheus counter by source type, not to the SIEM.
//
// Severity: medium (detections that count events under-count bursts, and
// the field meant to compensate never arrives for them).
func TestDedupBurstCountDelivered(t *testing.T) {
	e, arch, now := countingEngine(t)
	if err, _ := emit(t, e, keyedBatch(7, 7, 7, 7, 7)); err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < 5; i++ { // five windows of other traffic
		*now = now.Add(time.Minute)
		if err, _ := emit(t, e, keyedBatch(100+i)); err != nil {
			t.Fatal(err)
		}
	}
	dropped := testutil.ToFloat64(e.m.InputDedup.WithLabelValues("test"))
	counted := false
	var all []string
	for _, ev := range arch.Events() {
		all = append(all, string(ev.Raw))
		if strings.Contains(string(ev.Raw), `"dedup"`) {
			counted = true
		}
	}
	if dropped == 4 && !counted {
		t.Errorf("a burst of 5 identical events: %v dropped as repeats, and no delivered event ever carries dedup.count "+
			"(delivered: %s)", dropped, strings.Join(all, " "))
	}
	_ = e.Close(context.Background())
}

// TestRepeatsKeptGetDistinctHashes: with dedup off, identical events in
// one batch are all kept, and each further copy gets a Hash (the
// OpenSearch _id) of its own, so OpenSearch stores as many documents as
// the SIEM and the archive get; the same batch emitted again (a sender's
// resend after a refusal) gets the same Hashes; Key stays the content's.
func TestRepeatsKeptGetDistinctHashes(t *testing.T) {
	arch := &tu.RecordSink{SinkName: "archive"}
	e := newEngine(t, Config{}, arch, &tu.RecordSink{SinkName: "siem"}, &tu.RecordSink{SinkName: "opensearch"})
	mk := func() *pipeline.Batch {
		b := keyedBatch(7, 7, 7, 8)
		for i := range b.Events {
			b.Events[i].Hash = b.Events[i].Key
		}
		return b
	}
	hashes := func(evs []pipeline.Event) []uint64 {
		var hs []uint64
		for _, ev := range evs {
			hs = append(hs, ev.Hash)
		}
		return hs
	}
	if err, _ := emit(t, e, mk()); err != nil {
		t.Fatal(err)
	}
	first := hashes(arch.Drain())
	if len(first) != 4 || first[0] != 7 || first[3] != 8 || first[1] == 7 || first[2] == 7 || first[1] == first[2] {
		t.Fatalf("hashes %v: want 7, two others distinct from it and each other, 8", first)
	}
	if err, _ := emit(t, e, mk()); err != nil {
		t.Fatal(err)
	}
	again := arch.Drain()
	if fmt.Sprint(hashes(again)) != fmt.Sprint(first) {
		t.Errorf("the same batch again: hashes %v, want %v", hashes(again), first)
	}
	for _, ev := range again {
		if ev.Key != 7 && ev.Key != 8 {
			t.Errorf("Key changed to %d", ev.Key)
		}
	}
	_ = e.Close(context.Background())
}
