package kafkain

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/engine"
)

// reviewGateSink accepts every batch, except that while gated it holds
// each Write until ungate.
type reviewGateSink struct {
	gated   atomic.Bool
	open    chan struct{}
	once    sync.Once
	held    atomic.Int32 // Writes begun while gated
	mu      sync.Mutex
	seen    map[string]bool
	accepts int
}

func newReviewGateSink() *reviewGateSink {
	return &reviewGateSink{open: make(chan struct{}), seen: map[string]bool{}}
}
func (s *reviewGateSink) Name() string { return "all" }
func (s *reviewGateSink) Write(ctx context.Context, b *pipeline.Batch) error {
	if s.gated.Load() {
		s.held.Add(1)
		select {
		case <-s.open:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	for _, ev := range b.Events {
		s.seen[string(ev.Raw)] = true
	}
	s.accepts += len(b.Events)
	s.mu.Unlock()
	return nil
}
func (s *reviewGateSink) Close(context.Context) error { return nil }
func (s *reviewGateSink) ungate()                     { s.once.Do(func() { close(s.open) }) }
func (s *reviewGateSink) events() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepts
}
func (s *reviewGateSink) saw(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for raw := range s.seen {
		if strings.Contains(raw, sub) {
			return true
		}
	}
	return false
}

// TestDetectedLogCutKeptWhileSettling
//
// Fault: outOfRange (e54e116) receives kafka-go's OffsetOutOfRange (the
// reader found its position pos past the end of the partition's log: the
// log was cut under it), then first settles the batches in flight (flush,
// then wait for every Ack: as long as the destinations take, seconds to
// minutes when one is slow or refusing), and only then asks the broker
// where the log is (inRange(pos)). A partition that is being written to
// has grown past pos again by then; inRange answers ok and outOfRange
// "reads on from" pos: every record of the new log below pos is skipped
// without a word (no reset counted, no log, the commit passes them). That
// is the silent loss the commit set out to remove, on exactly the
// partitions where it matters (busy ones, whose previous batch is still in
// flight when the cut is seen). The documented residual ("a log cut and
// written past the position again before the partition's next fetch") does
// not cover it: the fetch did see the cut, the decision just came late.
//
// Sequence: 20 records consumed and delivered; the destination is slowed
// (held) and one more record (offset 20) is read, so one batch is in
// flight at position 21; the topic is deleted and created again (log end
// 0, no rebalance); the reader reports OffsetOutOfRange and outOfRange
// waits in settle for the held batch; 25 records are produced (offsets
// 0..24, past 21); the destination then accepts.
//
// Expected: the cut was seen: the partition restarts at start_offset
// (earliest: 0), counts a reset, and the 25 new records are all delivered.
//
// Actual: resets stays 0 and only offsets 21..24 of the new log are
// delivered; 0..20 are skipped.
func TestDetectedLogCutKeptWhileSettling(t *testing.T) {
	broker := faultBroker(t, "logs", 1)
	old := make([][]byte, 20)
	for i := range old {
		old[i] = fmt.Appendf(nil, `{"old":%d}`, i)
	}
	faultProduce(t, broker, "logs", old...)
	sink := newReviewGateSink()
	defer sink.ungate()
	cfg := faultConfig(broker, "g-review-cutregrow", "logs")
	cfg.DrainTimeout = 2 * time.Second
	s, err := New(cfg, faultEngine(t, engine.Config{}, sink), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer reviewShutdown(s)
	faultWait(t, 15*time.Second, "the first 20 records delivered", func() bool { return sink.events() >= 20 })

	// A slow destination: the next batch stays in flight.
	sink.gated.Store(true)
	faultProduce(t, broker, "logs", []byte(`{"old":20}`))
	faultWait(t, 10*time.Second, "offset 20 in flight", func() bool { return sink.held.Load() >= 1 })

	// The log is cut under the running reader.
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 5 * time.Second, Transport: tr}
	ctx := context.Background()
	if _, err := cl.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{"logs"}}); err != nil {
		t.Fatal(err)
	}
	if r, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: "logs", NumPartitions: 1, ReplicationFactor: 1}}}); err != nil {
		t.Fatal(err)
	} else if e := r.Errors["logs"]; e != nil {
		t.Fatal(e)
	}
	// The reader re-initializes, finds 21 past the log's end (0) and
	// reports it; outOfRange now waits for the batch in flight.
	time.Sleep(3 * time.Second)
	fresh := make([][]byte, 25)
	for i := range fresh {
		fresh[i] = fmt.Appendf(nil, `{"fresh":"f%02d"}`, i)
	}
	faultProduce(t, broker, "logs", fresh...)
	sink.gated.Store(false)
	sink.ungate()

	faultWait(t, 15*time.Second, "the last record of the new log", func() bool { return sink.saw(`"f24"`) })
	time.Sleep(2 * time.Second)
	var lost []int
	for i := range fresh {
		if !sink.saw(fmt.Sprintf(`"f%02d"`, i)) {
			lost = append(lost, i)
		}
	}
	if len(lost) > 0 {
		t.Errorf("the reader reported the log cut (position 21 past the new log's end 0) while a batch was in flight; the log regrew to 25 "+
			"before that batch was accepted, and offsets %v of the new log were never delivered (offset resets counted %v; committed offset %d)",
			lost, reviewCounter(t, s.m.resets), faultCommitted(t, broker, "g-review-cutregrow", "logs"))
	}
}
