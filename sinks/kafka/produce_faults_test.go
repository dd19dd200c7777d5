package kafka

// Fault tests from a review of the Kafka destination: each failed before the
// fix of the bug it describes (the comments describe the code as it was
// found).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	tu "github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/queue"
)

// hangProduce makes the broker(s) hold every produce request for which hold
// reports true (node is the broker that received it) until the returned
// release function is called; it counts the produce requests that reached
// the broker. Held requests are processed normally once released.
func hangProduce(t *testing.T, c *kfake.Cluster, hold func(node int32, req *kmsg.ProduceRequest) bool) (release func(), produces *atomic.Int64) {
	t.Helper()
	ch := make(chan struct{})
	var released atomic.Bool
	produces = new(atomic.Int64)
	c.ControlKey(int16(kmsg.Produce), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		produces.Add(1)
		if !released.Load() && hold(c.CurrentNode(), r.(*kmsg.ProduceRequest)) {
			c.SleepControl(func() { <-ch })
		}
		return nil, nil, false
	})
	var once atomic.Bool
	release = func() {
		if once.CompareAndSwap(false, true) {
			released.Store(true)
			close(ch)
		}
	}
	t.Cleanup(release) // registered after the sink's Close: runs before it
	return release, produces
}

// Fault: Validate accepted a batch_timeout at or above write_timeout, a
// configuration that could not deliver anything. kafka-go held a partial
// batch for batch_timeout before sending it, and Write gave up after
// write_timeout; so every Write of a batch that did not fill a kafka-go
// batch (500 messages or batch_bytes per partition: the normal case on an
// edge) failed with "did not acknowledge within write_timeout", the queue
// retried it forever, and kafka-go sent each abandoned copy anyway once its
// timer fired. Fixed by sending each Write's requests at once (batch_timeout
// no longer has an effect): such a configuration delivers, once.
func TestBatchTimeoutAboveWriteTimeoutDelivers(t *testing.T) {
	c := newCluster(t)
	cfg := Config{Brokers: c.ListenAddrs(), Topic: "logs", BatchTimeout: 2 * time.Second, WriteTimeout: time.Second}
	s := newSink(t, c, cfg)
	b := mkBatch(ev{raw: `{"a":1}`, hash: 1, prio: pipeline.P1})
	defer b.Release()
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatalf("a Write of one event with batch_timeout %s >= write_timeout %s: %v", cfg.BatchTimeout, cfg.WriteTimeout, err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := stored(c, "logs"); n != 1 {
		t.Errorf("%d records stored, want 1", n)
	}
}

// Fault: when write_timeout ends while some partitions have acknowledged
// their records and another has not answered yet (its leader is a
// black-holed broker), Write returns a plain retryable error
// (callError: kafka-go's WriteMessages returns ctx.Err() and forgets which
// batches completed). The queue then sends the whole batch again, so every
// event the healthy brokers had already stored is duplicated, on every retry
// for as long as the one broker stays unreachable. The Write contract is "a
// *pipeline.BatchError when some events were delivered ... a plain
// retryable error when none was delivered". Correct: a BatchError naming
// only the events of the partitions that did not acknowledge.
func TestWriteTimeoutKeepsPerPartitionAcks(t *testing.T) {
	c := newCluster(t, kfake.NumBrokers(2))
	// logs-p1 and logs-p2 are led by broker 0, logs-p3 by broker 1: the
	// produce requests of the two travel on different connections.
	for _, topic := range []string{"logs-p1", "logs-p2", "logs-p3"} {
		node := int32(0)
		if topic == "logs-p3" {
			node = 1
		}
		for p := range int32(4) {
			if err := c.MoveTopicPartition(topic, p, node); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := newSink(t, c, Config{WriteTimeout: 1500 * time.Millisecond})
	warm := mkBatch(ev{raw: `{"w":1}`, hash: 1, prio: pipeline.P1}, ev{raw: `{"w":2}`, hash: 1, prio: pipeline.P2}, ev{raw: `{"w":3}`, hash: 1, prio: pipeline.P3})
	if err := s.Write(context.Background(), warm); err != nil {
		t.Fatal(err)
	}
	warm.Release()
	base := map[string]int64{}
	for _, topic := range []string{"logs-p1", "logs-p2", "logs-p3"} {
		base[topic] = stored(c, topic)
	}

	// Broker 1 stops answering produce requests.
	release, _ := hangProduce(t, c, func(node int32, _ *kmsg.ProduceRequest) bool { return node == 1 })
	defer release()

	var evs []ev
	for i := range 30 {
		evs = append(evs, ev{raw: fmt.Sprintf(`{"i":%d}`, i), hash: uint64(i + 100), prio: pipeline.Priorities[i%3]})
	}
	b := mkBatch(evs...)
	defer b.Release()
	err := s.Write(context.Background(), b)
	acked := stored(c, "logs-p1") - base["logs-p1"] + stored(c, "logs-p2") - base["logs-p2"]
	if acked != 20 {
		t.Fatalf("setup: broker 0 stored %d of the 20 P1/P2 events, want all", acked)
	}
	var be *pipeline.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("Write returned %v: a plain error makes the queue send all 30 events again, although the 20 P1/P2 events were acknowledged (%d stored); want a BatchError naming only the 10 P3 events", err, acked)
	}
	for _, it := range be.Items {
		if evs[it.Index].prio != pipeline.P3 || pipeline.IsPermanent(it.Err) {
			t.Errorf("item %d (%s): %v; only the P3 events should fail, retryably", it.Index, evs[it.Index].prio, it.Err)
		}
	}
	if len(be.Items) != 10 {
		t.Errorf("%d items, want the 10 P3 events", len(be.Items))
	}
}

// Fault: Writes that timed out leave their batches queued inside kafka-go,
// which keeps sending them (and retrying each up to maxAttempts times, each
// attempt waiting write_timeout) after Write has returned, one batch after
// another per partition. While a broker is slow or black-holed, each retry
// of the queue (every write_timeout plus backoff) adds one more copy of the
// batch (with its arena: st.release(false) drops it for a new one), and the
// partition drains one copy per maxAttempts x write_timeout: the backlog,
// the memory it holds and the produce requests it will send grow with the
// length of the outage, and when the broker answers again every copy is
// written. The Write ctx (and write_timeout) is not honoured by what
// kafka-go does with the records afterwards. Correct: once Write has
// returned an error, its records are not sent again behind the queue's
// back (at most what was already on the wire completes); for example send
// the produce requests with the Write's ctx (kafka-go's Client.Produce per
// partition batch) instead of through the asynchronous kafka-go Writer.
func TestTimedOutWritesDoNotPileUpInKafkaGo(t *testing.T) {
	c := newCluster(t)
	const timeout = 200 * time.Millisecond
	s := newSink(t, c, Config{Topic: "logs", WriteTimeout: timeout})
	warm := mkBatch(ev{raw: `{"w":1}`, hash: 1, prio: pipeline.P1})
	if err := s.Write(context.Background(), warm); err != nil {
		t.Fatal(err)
	}
	warm.Release()

	release, produces := hangProduce(t, c, func(int32, *kmsg.ProduceRequest) bool { return true })
	b := mkBatch(ev{raw: `{"a":1}`, hash: 2, prio: pipeline.P1})
	defer b.Release()
	const writes = 10 // the queue retrying one batch during a stall of a few seconds
	for i := range writes {
		if err := s.Write(context.Background(), b); err == nil {
			t.Fatalf("write %d succeeded against a hung broker", i)
		}
	}
	atReturn := produces.Load() // requests already on the wire
	time.Sleep(2 * timeout)     // no Write in progress
	during := produces.Load() - atReturn
	release()
	// Let kafka-go drain what it still holds.
	last, stable := produces.Load(), time.Now()
	for deadline := time.Now().Add(6 * time.Second); time.Now().Before(deadline) && time.Since(stable) < time.Second; time.Sleep(50 * time.Millisecond) {
		if n := produces.Load(); n != last {
			last, stable = n, time.Now()
		}
	}
	after := produces.Load() - atReturn
	copies := stored(c, "logs") - 1
	t.Logf("%d produce requests while the Writes ran, %d more while the broker still hung with no Write in progress, %d more in all after every Write had returned; the event is stored %d times",
		atReturn, during, after, copies)
	if after > maxAttempts {
		t.Errorf("after %d Writes failed, kafka-go sent %d more produce requests for their records with no Write in progress (more than one abandoned batch's %d attempts); the event ended up stored %d times: the abandoned copies piled up and were all sent later",
			writes, after, maxAttempts, copies)
	}
}

// readable counts the records of topic a consumer can still read (log start
// to high watermark).
func readable(c *kfake.Cluster, topic string) int64 {
	var n int64
	for _, p := range c.PartitionInfos(topic) {
		n += p.HighWatermark - p.LogStartOffset
	}
	return n
}

// Fault: build stamps every record with the event's own time (m.Time =
// Event.Time), which the broker (message.timestamp.type CreateTime, the
// default) uses for time-based retention. Security events are routinely
// old: a backfill of last month's logs, a quarantine replay, a device that
// buffered for days, a clock set in the past. Kafka deletes a batch (a
// segment, on a real broker: one whose first record is that old rolls as
// soon as a current record arrives, and is deleted at the next retention
// check, every 5 minutes by default) once its largest timestamp is older
// than retention.ms (7 days by default), whether or not the gateway has
// consumed it. Write returned nil, the queue dropped the events, and the
// gateway never sees them: acknowledged events lost. (The same choice gets
// events from a clock that runs ahead refused with INVALID_TIMESTAMP, and
// quarantined, by brokers with message.timestamp.after.max.ms, 1 hour on
// recent Kafka.) Correct: the record timestamp is when the edge hands the
// event to Kafka (Event.Ingest, or leave Message.Time zero for now); the
// event's time stays in its JSON, and the gateway does not read the record
// timestamp.
func TestOldEventsSurviveRetention(t *testing.T) {
	c := newCluster(t)
	s := newSink(t, c, Config{Topic: "logs"})
	now := time.Now()
	b := pipeline.NewBatch()
	defer b.Release()
	const n = 10
	for i := range n {
		a := b.Arena()
		a = append(a, fmt.Sprintf(`{"@timestamp":"30 days ago","i":%d}`, i)...)
		b.Commit(a, pipeline.Event{
			Time:   now.Add(-30 * 24 * time.Hour).UnixNano(), // the event's own time: a backfill
			Ingest: now.UnixNano(),                           // received just now
			Hash:   uint64(i + 1), SourceType: "aws.cloudtrail", Priority: pipeline.P2, Rule: -1,
		})
	}
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	// The broker's periodic retention check (retention.ms 7 days).
	c.ApplyRetention()
	if got := readable(c, "logs"); got != n {
		t.Fatalf("Write acknowledged %d events; after the broker's retention check %d can still be read: the records carry the events' 30-day-old time as their Kafka timestamp, so retention deleted them before any consumer read them", n, got)
	}
}

// Fault: an event whose topic does not exist is reported retryable forever
// (checkTopics), and the package documentation promises that "a missing
// topic ... never holds back events bound for other topics". Behind the
// durable queue it holds back all of them: the queue retries the missing
// topic's events with backoff and starts no other delivery while a
// delivery backs off, so with topic "logs.{source_type}" the first event
// of a new source type (a routine occurrence on an edge) stops the whole
// destination, P1 events to existing topics included, until an operator
// creates the topic; the disk queue then fills and the edge refuses input.
// Kafka's UNKNOWN_TOPIC_OR_PARTITION is retriable only while metadata
// propagates; with auto-creation off, a topic still missing after that does
// not appear by itself. Correct: the other topics' events keep flowing; for
// example the sink reports a topic still missing after a grace period
// (several metadata refreshes) as permanent, with the reason ("create
// topic X, then replay the quarantine"), so the queue sets those events
// aside instead of blocking on them.
func TestMissingTopicDoesNotStallOtherTopics(t *testing.T) {
	c := newCluster(t)
	if err := c.CreateTopic("logs.zeek", 2, nil); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, c, Config{Topic: "logs.{source_type}"}, withMetadataTTL(100*time.Millisecond))
	q, err := queue.Open("central", queue.Config{Dir: t.TempDir()}, s, &tu.MemQuarantine{},
		queue.NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		// The delivery of the missing topic's event is backing off: do not
		// wait for it (its events stay queued; newSink's cleanup closes
		// the sink).
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_ = q.Close(ctx)
	}()

	// A new source type shows up, next to a known one.
	first := mkBatch(ev{raw: `{"new":1}`, hash: 1, prio: pipeline.P2, src: "new.app"}, ev{raw: `{"zeek":1}`, hash: 2, prio: pipeline.P2, src: "zeek"})
	if err := q.Write(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	first.Release()
	for deadline := time.Now().Add(5 * time.Second); stored(c, "logs.zeek") < 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("setup: the first batch was not delivered")
		}
	}

	// Then P1 events for the existing topic.
	second := mkBatch(ev{raw: `{"zeek":2}`, hash: 3, prio: pipeline.P1, src: "zeek"}, ev{raw: `{"zeek":3}`, hash: 4, prio: pipeline.P1, src: "zeek"})
	if err := q.Write(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	second.Release()
	deadline := time.Now().Add(4 * time.Second)
	for stored(c, "logs.zeek") < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := stored(c, "logs.zeek") - 1; got != 2 {
		t.Fatalf("%d of 2 P1 events for the existing topic logs.zeek delivered within 4s (queue pending: %d): one event for the missing topic logs.new.app holds back the whole destination", got, q.Pending())
	}
}
