package kafkain

import (
	"context"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline/engine"
)

// TestStartCommittedAtAssignment: a partition the group never committed
// starts where start_offset says, resolved at assignment and committed at
// once, before any record is read (docs/configuration.md, start_offset):
// with latest and a quiet partition, the log's end then. A replica that dies
// before the first record would otherwise leave the next owner to resolve
// "latest" again, past records produced in between.
func TestStartCommittedAtAssignment(t *testing.T) {
	topic := "quiet"
	broker := faultBroker(t, topic, 1)
	faultProduce(t, broker, topic, []byte(`{"message":"a"}`), []byte(`{"message":"b"}`))
	cfg := faultConfig(broker, "g-quiet", topic)
	cfg.StartOffset = "latest"
	sink := newFaultSink()
	s, err := New(cfg, faultEngine(t, engine.Config{}, sink), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Shutdown(context.Background()) }()
	faultWait(t, 10*time.Second, "the start committed", func() bool { return faultCommitted(t, broker, "g-quiet", topic) == 2 })
	if sink.saw(`"a"`) || sink.saw(`"b"`) {
		t.Error("start_offset latest read the records before it")
	}
}
