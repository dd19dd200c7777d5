package siem

// Review of sinks/siem (HEC with indexer acknowledgement).

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/siem/hecfake"
)

// TestHECAckPartial400CountsUnackedEventsDelivered
//
// With ack.enabled, docs/configuration.md says "a write counts as delivered
// only once Splunk confirms its ackId", and doc.go's table says 200 is
// delivered "with ack: once its ackId is confirmed"; for a 503 code 9 with
// invalid-event-number N the code already knows that "the first N have no
// ackId" and resends them. A 400 code 6/12/13 (or 7) answer with
// invalid-event-number N carries no ackId either (Splunk only hands one out
// for a 200), yet sendSpan marks events 0..N-1 partDelivered without any
// acknowledgement: the queue drops them as delivered although the indexer
// never confirmed them, which is exactly the loss indexer acknowledgement is
// turned on to prevent.
func TestHECAckPartial400CountsUnackedEventsDelivered(t *testing.T) {
	fake := newFake(t, hecfake.Config{Ack: true})
	fake.Poison("POISON")
	h := newTestHEC(t, fake, func(c *HECConfig) {
		c.Ack = HECAckConfig{Enabled: true, PollInterval: 20 * time.Millisecond, Timeout: 2 * time.Second}
	})
	raws := idRange(0, 6, "ws")
	raws[3] = testEvent(3, "ws", `"x":"POISON"`)
	b := makeBatch(raws, pipeline.P1)
	defer b.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	err := h.Write(ctx, b)
	named := map[int]bool{}
	var be *pipeline.BatchError
	if errors.As(err, &be) {
		for _, it := range be.Items {
			named[it.Index] = true
		}
	} else if err != nil {
		for i := range raws {
			named[i] = true
		}
	}
	// The ackIds the fake handed out for each event id.
	acked := map[string]bool{} // indexed at least once under an ackId
	for _, ev := range fake.Events() {
		id, _ := ev.Field("id")
		acked[id] = acked[id] || ev.AckID >= 0
	}
	for i := range raws {
		if named[i] {
			continue // handed back to the queue: fine
		}
		id := "e00000" + itoa(i)
		if !acked[id] {
			t.Errorf("event %d reported delivered (absent from Write's error %v) although Splunk never gave it an ackId (answer 400 code 6, invalid-event-number 3, no ackId): with ack.enabled it must be resent, as the 503 code 9 case is", i, err)
		}
	}
}
