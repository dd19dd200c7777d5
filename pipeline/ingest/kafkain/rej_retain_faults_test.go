package kafkain

import (
	"bytes"
	"context"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/logrouter/logrouter/pipeline/engine"
)

// TestFlushedRejectsStayReferenced
//
// Fault: a partition keeps the records it rejected (invalid JSON,
// too_large, too_deep...) in p.rej, each a copy of up to max_message_bytes,
// until the batch is flushed; newBatch then truncates the slice
// (p.rej = p.rej[:0]) without clearing it, so its backing array still
// points at every copy of the largest burst of rejects the partition ever
// had in one batch. Rejects do not count toward batch_events, so a burst is
// bounded only by batch_wait: a producer that writes the wrong format to a
// json topic for a moment (Avro or protobuf values, a binary dump) leaves
// each partition it touched holding what it read in a batch_wait of
// rejects, for as long as the partition stays assigned (days), on every
// replica that owned it, with many partitions each holding its own. Later
// smaller bursts overwrite only the first slots.
//
// Sequence: 256 invalid records of 64 KiB (16 MiB) added to one partition
// batch; the batch is flushed: the rejects are quarantined and the flight
// is done.
//
// Expected: once flushed, the partition holds none of the rejected
// records' bytes (clear the slice, or drop it when it grew large, as
// pipeline.Batch.Shrink does for events).
//
// Actual: all 16 MiB stay referenced from p.rej's backing array.
func TestFlushedRejectsStayReferenced(t *testing.T) {
	e := faultEngine(t, engine.Config{}, newFaultSink())
	p := newPartition(e)
	defer e.PutWorker(p.w)
	bad := append([]byte("\x00\x01avro:"), bytes.Repeat([]byte{'x'}, 64<<10)...)
	for i := range 256 {
		p.add(&kafka.Message{Topic: "t", Partition: 0, Offset: int64(5 + i), Value: bad})
	}
	if len(p.rej) != 256 || len(p.b.Events) != 0 {
		t.Fatalf("setup: %d rejects, %d events; want 256 rejects", len(p.rej), len(p.b.Events))
	}
	p.flush(context.Background())
	p.commit(false)
	if len(p.rej) != 0 || p.accepted != 5+256 {
		t.Fatalf("setup: after the flush %d rejects pending, accepted %d", len(p.rej), p.accepted)
	}
	held, n := 0, 0
	for _, r := range p.rej[:cap(p.rej)] {
		if len(r.Raw) > 0 {
			held += len(r.Raw)
			n++
		}
	}
	if held > 0 {
		t.Errorf("after the flush (rejects quarantined, offsets done) the partition still references %d rejected records, %d KiB, "+
			"from p.rej's backing array (cap %d): held until the partition is revoked", n, held>>10, cap(p.rej))
	}
}
