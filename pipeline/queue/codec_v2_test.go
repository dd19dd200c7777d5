package queue

import (
	"context"
	"testing"
	"unsafe"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// TestCodecReplayedFlag: a record holding a replayed event is written as
// version 2 with per-event flags and decodes with Replayed set on exactly
// those events; a record without one stays version 1, byte for byte what
// releases before the flag wrote (so a rollback can read such queues), and
// a bad flags byte is refused.
func TestCodecReplayedFlag(t *testing.T) {
	b := batch(pipeline.P2, pipeline.P2, pipeline.P2)
	defer b.Release()
	if enc := appendEvents(nil, b.Events); enc[0] != codecV1 {
		t.Fatalf("a record without replays is version %d, want 1", enc[0])
	}
	b.Events[1].Replayed = true
	enc := appendEvents(nil, b.Events)
	if enc[0] != codecV2 {
		t.Fatalf("a record with a replay is version %d, want 2", enc[0])
	}
	out := pipeline.NewBatch()
	defer out.Release()
	d := &decoder{interned: map[string]string{}}
	if err := d.decodeInto(out, enc, 3, pipeline.P2); err != nil {
		t.Fatal(err)
	}
	for i, ev := range out.Events {
		if ev.Replayed != (i == 1) || string(ev.Raw) != string(b.Events[i].Raw) || ev.Hash != b.Events[i].Hash {
			t.Errorf("event %d: %+v", i, ev)
		}
	}
	for cut := 0; cut < len(enc); cut++ {
		out.Reset()
		if err := d.decodeInto(out, enc[:cut], 3, pipeline.P2); err == nil {
			t.Fatalf("truncated v2 payload (%d of %d bytes) decoded", cut, len(enc))
		}
	}
	bad := append([]byte(nil), enc...)
	bad[len(bad)-1] = 0x80 // an unknown flag on the last event
	out.Reset()
	if err := d.decodeInto(out, bad, 3, pipeline.P2); err == nil {
		t.Fatal("an unknown flag decoded")
	}
	if s := unsafe.Sizeof(pipeline.Event{}); s > 88 {
		t.Errorf("pipeline.Event grew to %d bytes: the flag was meant to fill padding", s)
	}
}

// TestRefusedEventKeepsWhatWasWritten: a destination's refusal carries the
// event's metadata to the quarantine (replay sends it as it was), and an
// event refused again after a replay says input "replay" (no replay loop),
// both through the on-disk queue.
func TestRefusedEventKeepsWhatWasWritten(t *testing.T) {
	e := newEnv(t, wal.OS, Config{})
	e.sink.setFail(func(b *pipeline.Batch) error {
		var items []pipeline.ItemError
		for i := range b.Events {
			items = append(items, pipeline.ItemError{Index: i, Status: 400, Err: pipeline.Permanentf("mapper_parsing_exception")})
		}
		return &pipeline.BatchError{Items: items}
	})
	b := batch(pipeline.P2, pipeline.P2)
	b.Events[1].Replayed = true
	want := []pipeline.RejectedEvent{}
	for _, ev := range b.Events {
		want = append(want, pipeline.RejectedEvent{Hash: ev.Hash, Time: ev.Time, Ingest: ev.Ingest, SourceType: ev.SourceType, Priority: pipeline.P2})
	}
	if err := e.q.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	b.Release()
	e.waitIdle()
	recs := e.dlq.Records()
	if len(recs) != 2 {
		t.Fatalf("%d records quarantined, want 2", len(recs))
	}
	for i, r := range recs {
		if r.Event == nil || *r.Event != want[i] {
			t.Errorf("record %d: event %+v, want %+v", i, r.Event, want[i])
		}
		if replay := r.Input == "replay"; replay != (i == 1) {
			t.Errorf("record %d: input %q (replayed: %v)", i, r.Input, i == 1)
		}
	}
	e.close()
}

// TestEncodedSize: Admit's per-event size is never below what Write's
// encoding takes (an estimate below it let a batch through Admit that Write
// then refused, after the other destinations had taken it).
func TestEncodedSize(t *testing.T) {
	for _, ev := range []pipeline.Event{
		{},
		{Raw: []byte("x"), Time: -1, Ingest: 1 << 62, SourceType: "st"},
		{Raw: make([]byte, 300), Time: 1795824000000000000, Ingest: 1795824000000000001, Hash: 1, SourceType: string(make([]byte, 200)), Replayed: true},
	} {
		got := int64(len(appendEvents(nil, []pipeline.Event{ev})) - 1) // less the version byte
		if est := encodedSize(&ev); est < got || est > got+1 {
			t.Errorf("encodedSize = %d, the encoding takes %d (event %+v)", est, got, ev)
		}
	}
}

// TestCodecV3Key: an event whose dedup key is not its hash (dedup.key_fields)
// keeps it through the queue (the Kafka destination partitions by it); a
// record without such an event is still version 1 or 2 (readable by a
// release before version 3).
func TestCodecV3Key(t *testing.T) {
	evs := []pipeline.Event{
		{Raw: []byte(`{"a":1}`), Hash: 1, Key: 1, SourceType: "x"},
		{Raw: []byte(`{"a":2}`), Hash: 2, Key: 99, SourceType: "x", Replayed: true},
		{Raw: []byte(`{"a":3}`), Hash: 3, SourceType: "x"},
	}
	rec := appendEvents(nil, evs)
	if rec[0] != codecV3 {
		t.Fatalf("version %d, want 3", rec[0])
	}
	var want int64
	for i := range evs {
		want += encodedSize(&evs[i])
	}
	if int64(len(rec)-1) > want {
		t.Errorf("record of %d bytes, encodedSize says at most %d", len(rec)-1, want)
	}
	b := pipeline.NewBatch()
	defer b.Release()
	d := &decoder{interned: map[string]string{}}
	if err := d.decodeInto(b, rec, 3, pipeline.P2); err != nil {
		t.Fatal(err)
	}
	for i, k := range []uint64{1, 99, 3} {
		if got := b.Events[i].Key; got != k {
			t.Errorf("event %d: key %d, want %d", i, got, k)
		}
	}
	if !b.Events[1].Replayed || b.Events[0].Replayed {
		t.Error("replayed flags lost")
	}
	if v := appendEvents(nil, evs[:1])[0]; v != codecV1 {
		t.Errorf("a record whose keys are hashes is version %d, want 1", v)
	}
	if v := appendEvents(nil, evs[2:])[0]; v != codecV1 {
		t.Errorf("a record with no key is version %d, want 1", v)
	}
}
