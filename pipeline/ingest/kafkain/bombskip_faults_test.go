package kafkain

import (
	"testing"
	"time"
)

// TestOversizedSkipSwallowsRecordsBetweenBatches
//
// Fault: batchEnd finds the end of a record batch past max_batch_bytes by
// doubling the distance from its first offset and then bisecting, on the
// predicate "the batch holding this offset is oversized". That predicate is
// not monotonic: it is true again in any later oversized batch. When a
// second oversized batch follows after a short run of ordinary records, a
// doubling probe lands in the second one, the bisection ends after it, and
// skipOversized skips (and commits past) the ordinary records in between as
// if they belonged to the oversized batch. They reach no destination and
// are not quarantined: only a note claiming offsets x..y were one oversized
// batch. Whoever can produce oversized batches to a partition (the attacker
// the bound is there for, or a legitimate producer of highly compressible
// batches) makes other producers' records in between vanish; the note's
// advice "if not [legitimate], find who can produce to the topic" leaves
// them lost.
//
// Sequence: partition 0 holds offset 0 {"first"}, offsets 1..10 one zstd
// batch of 10 MiB (max_batch_bytes 8 MiB), offset 11 {"mid"} (an ordinary
// record from another producer), offsets 12..40 one zstd batch of 29 MiB,
// offset 41 {"last"}. Probes from x=1: 2,3,5,9 (first batch), 17,33 (second
// batch), 42 (end) -> bisect 33..42 -> y=41: offsets 1..40 skipped.
//
// Expected: both oversized batches are skipped (each with its note), and
// {"mid"} at offset 11, between them, is delivered.
//
// Actual: {"last"} is delivered, {"mid"} never is; the quarantine holds one
// note for offsets 1-40.
func TestOversizedSkipSwallowsRecordsBetweenBatches(t *testing.T) {
	topic := "bomb2"
	broker := faultBroker(t, topic, 1)
	faultProduce(t, broker, topic, []byte(`{"message":"first"}`)) // 0
	produceBomb(t, broker, topic, 10)                             // 1..10
	faultProduce(t, broker, topic, []byte(`{"message":"mid"}`))   // 11
	produceBomb(t, broker, topic, 29)                             // 12..40
	faultProduce(t, broker, topic, []byte(`{"message":"last"}`))  // 41

	s, sink, q := bombSource(t, broker, "g-bomb2", topic, "")
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer reviewShutdown(s)
	faultWait(t, 40*time.Second, "the record after the second oversized batch", func() bool { return sink.saw(`"last"`) })
	time.Sleep(200 * time.Millisecond)
	if !sink.saw(`"mid"`) {
		var notes []string
		for _, r := range q.Records() {
			notes = append(notes, r.Reason+": "+r.Detail)
		}
		t.Errorf("the ordinary record at offset 11, between two batches past max_batch_bytes, was never delivered "+
			"(committed offset now %d); quarantine notes: %q",
			faultCommitted(t, broker, "g-bomb2", topic), notes)
	}
}
