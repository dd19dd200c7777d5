package kafkain

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found). They reuse the
// helpers of source_faults_test.go (an
// in-process kfake broker, faultEngine, faultSink, faultProduce, ...).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/engine"
	kafkasink "github.com/logrouter/logrouter/sinks/kafka"
)

func reviewCounter(t *testing.T, c interface{ Write(*dto.Metric) error }) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// reviewShutdown stops s within 10s (a stuck Shutdown is not what these
// tests are about).
func reviewShutdown(s *Source) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.Shutdown(ctx)
}

// TestMissingTopicStarvesConfiguredTopics: config
//
//	inputs:
//	  kafka:
//	    topics: [{name: logs}, {name: audit}]
//
// where "audit" does not exist (yet: a typo, a topic the edges create on
// first use, one deleted). Start enables kafka-go's WatchPartitionChanges,
// whose watcher ends the generation at once when it cannot read a
// topic's partitions; and the group leader's readPartitions(logs, audit)
// fails as a whole, so not even "logs" is assigned (every generation logs
// "kafka partitions assigned ... partitions=[]"). The input consumes
// nothing at all from the topics that do exist, for as long as one listed
// topic is missing, while Ready still answers true during ready_grace and
// nothing says why. Expected: the existing topics are consumed (a missing
// topic is reported and watched for, as the official clients do). Fix in
// Source.Start/run (source.go): join with the topics that exist (check
// them with a metadata request, re-check periodically and rebuild the
// group when the set changes), or do not let a missing topic end every
// generation (WatchPartitionChanges only for existing topics).
func TestMissingTopicStarvesConfiguredTopics(t *testing.T) {
	broker := faultBroker(t, "logs", 1)
	sink := newFaultSink()
	cfg := faultConfig(broker, "g-review-missing", "logs")
	cfg.Topics = append(cfg.Topics, Topic{Name: "audit"}) // not created
	s, err := New(cfg, faultEngine(t, engine.Config{}, sink), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer reviewShutdown(s)
	faultProduce(t, broker, "logs", []byte(`{"seq":0}`), []byte(`{"seq":1}`))
	deadline := time.Now().Add(6 * time.Second)
	for sink.Events() < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := sink.Events(); n < 2 {
		t.Errorf("topic logs exists and holds 2 records, but %d were delivered in 6s because topic audit (also listed) does not exist; "+
			"%v consumer group generations were joined meanwhile, assigned partitions now %d",
			n, reviewCounter(t, s.m.rebalances), s.assigned.Load())
	}
}

// TestGenerationChurnWithoutBackoff: with its only topic missing
// (the gateway started before the edges created "logs"), every generation
// ends the moment it starts (the partition watcher cannot read the
// topic), kafka-go joins the next one at once, and Source.run takes it at
// once: about two thousand JoinGroup/SyncGroup/OffsetFetch rounds per
// second against the group coordinator, two log lines each (WARN
// "Problem getting partitions", INFO "kafka partitions assigned"), and
// logrouter_kafka_rebalances_total climbing by thousands a second, for as
// long as the topic is missing. The join-error path of run backs off
// (1s..10s), a generation that ends without doing anything does not.
// Expected: a generation that ends quickly (or without partitions) is
// followed by a growing pause before the next one. Fix in Source.run:
// back off (with jitter, up to ~10s) before cg.Next when the previous
// generation lasted less than, say, a heartbeat interval, resetting
// once a generation lives long enough.
func TestGenerationChurnWithoutBackoff(t *testing.T) {
	broker := faultBroker(t, "other", 1)
	cfg := faultConfig(broker, "g-review-churn", "logs") // "logs" does not exist
	s, err := New(cfg, faultEngine(t, engine.Config{}, newFaultSink()), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer reviewShutdown(s)
	time.Sleep(2 * time.Second)
	if n := reviewCounter(t, s.m.rebalances); n > 10 {
		t.Errorf("%v consumer group generations joined in 2s while the topic is missing: the rejoin loop has no backoff", n)
	}
}

// TestCommittedOffsetPastLogEndStallsPartition: the group's
// committed offset is past the end of the partition's log: the log was
// truncated under it (an unclean leader election, a topic deleted and
// created again while the group kept its offsets, a cluster restored from
// a backup or failed over to a mirror). consume seeks the kafka-go Reader
// to pa.Offset; kafka-go answers OffsetOutOfRange past the last offset by
// retrying quietly ("we'll retry later hoping that enough data has been
// produced"), so FetchMessage never returns and the partition delivers
// nothing: new records pile up unread, and once the log grows past the old
// committed offset, every record below it (here offsets 2..99) is skipped
// without being delivered, quarantined or counted. Expected: like the
// official clients' auto.offset.reset, an out-of-range position is reset
// by start_offset (earliest here), logged and counted, and the new
// records are delivered. Fix in consume (source.go): ReaderConfig
// OffsetOutOfRangeError: true, and on kafka.OffsetOutOfRange from
// FetchMessage (or a ListOffsets check of pa.Offset before SetOffset)
// SetOffset(kafka.FirstOffset/LastOffset per start_offset).
func TestCommittedOffsetPastLogEndStallsPartition(t *testing.T) {
	broker := faultBroker(t, "logs", 1)
	faultProduce(t, broker, "logs", []byte(`{"seq":"r0"}`), []byte(`{"seq":"r1"}`))
	// The group's offset of a longer log that is gone (a simple commit,
	// as a truncation leaves it).
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 5 * time.Second, Transport: tr}
	if _, err := cl.OffsetCommit(context.Background(), &kafka.OffsetCommitRequest{GroupID: "g-review-oor", GenerationID: -1,
		Topics: map[string][]kafka.OffsetCommit{"logs": {{Partition: 0, Offset: 100}}}}); err != nil {
		t.Fatal(err)
	}
	if got := faultCommitted(t, broker, "g-review-oor", "logs"); got != 100 {
		t.Fatalf("setup: committed offset %d, want 100", got)
	}
	sink := newFaultSink()
	s, err := New(faultConfig(broker, "g-review-oor", "logs"), faultEngine(t, engine.Config{}, sink), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer reviewShutdown(s)
	faultWait(t, 10*time.Second, "the partition's assignment", func() bool { return s.assigned.Load() > 0 })
	faultProduce(t, broker, "logs", []byte(`{"seq":"r2"}`), []byte(`{"seq":"r3"}`))
	deadline := time.Now().Add(5 * time.Second)
	for !(sink.saw(`"r2"`) && sink.saw(`"r3"`)) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !sink.saw(`"r2"`) || !sink.saw(`"r3"`) {
		t.Errorf("records at offsets 2 and 3, produced after the start, not delivered within 5s (%d events delivered; committed offset %d): "+
			"the partition waits for its log to reach offset 100 and will then skip offsets 2..99",
			sink.Events(), faultCommitted(t, broker, "g-review-oor", "logs"))
	}
}

// slowRefusingSink refuses every batch after a short round trip, as a
// destination queue whose disk is full (its WAL append fails: ENOSPC) or a
// destination answering 503 does: the refusal reaches the Ack
// asynchronously, from the engine's lane goroutine, not from Admit.
type slowRefusingSink struct {
	writes atomic.Int64
}

func (s *slowRefusingSink) Name() string { return "all" }
func (s *slowRefusingSink) Write(ctx context.Context, b *pipeline.Batch) error {
	s.writes.Add(1)
	time.Sleep(30 * time.Millisecond)
	return errors.New("write /var/lib/logrouter/queue/all/wal: no space left on device")
}
func (s *slowRefusingSink) Close(context.Context) error { return nil }

// TestRefusalBackoffResets: "a batch the destinations refuse is sent
// again with backoff" (retryDelay: 100ms doubling up to 5s). retryFailed
// counts attempts in a local variable: it re-emits a refused batch and
// returns as soon as that batch is pending again, so when the refusal
// arrives asynchronously (every Write failure, unlike a full queue's
// Admit, which refuses inside Emit) the next call starts again at attempt 0. Under a
// backlog (flush waiting for max_inflight_batches calls retryFailed every
// notify or 100ms) the same batch is resent every ~130ms for ever, and
// each resend logs the WARN "destinations refused a kafka batch", per
// partition: the backoff never grows. Here 20 records are waiting, one
// batch in flight per partition, and the destination refuses after 30ms:
// with the documented backoff about 5 writes happen in 3s (0.1+0.2+0.4+
// 0.8+1.6s), there are ~24. Fix in retryFailed/flight (source.go): keep
// the attempt count (and the time of the next try) in the flight, reset
// only when it is accepted, and have retryFailed skip flights whose next
// try has not come, instead of sleeping from attempt 0.
func TestRefusalBackoffResets(t *testing.T) {
	broker := faultBroker(t, "logs", 1)
	vals := make([][]byte, 20)
	for i := range vals {
		vals[i] = fmt.Appendf(nil, `{"seq":%d}`, i)
	}
	faultProduce(t, broker, "logs", vals...)
	sink := &slowRefusingSink{}
	cfg := faultConfig(broker, "g-review-backoff", "logs")
	cfg.BatchEvents = 1
	cfg.MaxInflightBatches = 1
	cfg.DrainTimeout = 300 * time.Millisecond
	s, err := New(cfg, faultEngine(t, engine.Config{}, sink), faultLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer reviewShutdown(s)
	faultWait(t, 10*time.Second, "the first write", func() bool { return sink.writes.Load() > 0 })
	start := sink.writes.Load()
	time.Sleep(3 * time.Second)
	if n := sink.writes.Load() - start; n > 10 {
		t.Errorf("the refused batch was sent %d times in 3s: the retry delay does not grow (expected about 5 with 100ms doubling)", n)
	}
}

// TestSpoofedLogrouterMetadataKept: the kafka input passes
// KeepOwnLogrouter: true for every record, so a record's own "logrouter"
// member is kept whoever wrote it. Only logrouter writes logrouter.* (see
// docs/schema.md: an event's own logrouter member is dropped "so a sender
// cannot claim another token or index"; "a logrouter edge's metadata read
// back from Kafka" is what the kafka input keeps). Since the edge's
// records are told apart by the logrouter-priority header
// (fromLogrouter), a record without it comes from some other producer
// (an application, Filebeat or Vector writing to the topic), yet its claimed
// logrouter.token and logrouter.index survive: the Kafka input sets
// neither, so nothing overwrites them, and the SOC sees the event
// attributed to a token that never sent it. Expected: without the header
// the record's own logrouter member is dropped (as on the HTTP inputs);
// with it, the edge's metadata is kept. Fix in partition.add
// (source.go): KeepOwnLogrouter: fromLogrouter(m.Headers).
func TestSpoofedLogrouterMetadataKept(t *testing.T) {
	e := faultEngine(t, engine.Config{}, newFaultSink())
	p := newPartition(e)
	defer e.PutWorker(p.w)
	rec := []byte(`{"message":"user login","logrouter":{"token":"soc-admin","index":"secops-audit"}}`)
	p.add(&kafka.Message{Topic: "t", Partition: 0, Offset: 5, Value: rec})
	// The same body from an edge (the header): its metadata is kept.
	p.add(&kafka.Message{Topic: "t", Partition: 0, Offset: 6, Value: rec,
		Headers: []kafka.Header{{Key: kafkasink.HeaderPriority, Value: []byte("P2")}}})
	if len(p.b.Events) != 2 {
		t.Fatalf("%d events, want 2 (rejects: %v)", len(p.b.Events), p.rej)
	}
	plain, edge := string(p.b.Events[0].Raw), string(p.b.Events[1].Raw)
	if !strings.Contains(edge, `"soc-admin"`) {
		t.Logf("note: the edge's record lost its logrouter.token: %s", edge)
	}
	for _, claim := range []string{`"soc-admin"`, `"secops-audit"`} {
		if strings.Contains(plain, claim) {
			t.Errorf("a record without the %s header (not an edge's) keeps its own claim %s in logrouter.*: %s",
				kafkasink.HeaderPriority, claim, plain)
		}
	}
}

// logRecorder is a slog.Handler that keeps the messages logged.
type logRecorder struct {
	mu   *sync.Mutex
	msgs *[]string
}

func newLogRecorder() logRecorder                              { return logRecorder{mu: &sync.Mutex{}, msgs: new([]string)} }
func (h logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	*h.msgs = append(*h.msgs, r.Message)
	h.mu.Unlock()
	return nil
}
func (h logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h logRecorder) WithGroup(string) slog.Handler      { return h }
func (h logRecorder) saw(sub string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range *h.msgs {
		if strings.Contains(m, sub) {
			return true
		}
	}
	return false
}

// TestAssignedGaugeOutlivesGeneration: assigned (and the gauge
// logrouter_kafka_assigned_partitions, which deploy/kubernetes tells
// operators to alert on instead of readiness, and which Ready reads) is
// set when a generation starts and never lowered when it ends. When the
// member loses its generation and cannot join another (coordinator
// unreachable, expelled and every rejoin failing), its partitions are
// drained and released, it consumes nothing, and it keeps reporting the
// partitions it had and being ready: the alert never fires and /readyz
// stays green. Expected: once the generation ended and no new one is
// joined, assigned is 0 (and Ready, past ready_grace, false). Fix in
// Source.run/consume (source.go): count partitions up when their
// goroutine starts and down when it returns (or store 0 when the
// generation ends and before cg.Next).
func TestAssignedGaugeOutlivesGeneration(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	broker := c.ListenAddrs()[0]
	logs := newLogRecorder()
	cfg := faultConfig(broker, "g-review-assigned", "logs")
	cfg.ReadyGrace = time.Second
	s, err := New(cfg, faultEngine(t, engine.Config{}, newFaultSink()), slog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer reviewShutdown(s)
	faultWait(t, 10*time.Second, "the assignment", func() bool { return s.assigned.Load() == 2 })
	c.Close() // the coordinator is gone: the generation ends, no other can be joined
	faultWait(t, 8*time.Second, "a failed attempt to join the next generation", func() bool {
		return logs.saw("joining the consumer group failed")
	})
	time.Sleep(1100 * time.Millisecond) // past ready_grace
	ready, _ := s.Ready()
	if n := s.assigned.Load(); n != 0 || ready {
		t.Errorf("the generation ended and no other could be joined, yet assigned partitions = %d and Ready() = %v", n, ready)
	}
}

// TestLagOfRevokedPartitionStays: consume sets the partition's
// logrouter_kafka_lag and logrouter_kafka_committed_offset series and
// nothing deletes them when the partition goes (a rebalance gives it to
// another replica, or the generation is lost): the replica keeps exporting
// the lag it had at that moment, for ever. A partition revoked during a
// backlog (the usual time for a rebalance: a replica added to catch up)
// leaves a series stuck high: a lag alert fires for ever, an autoscaler
// on the summed lag never scales down, and the sum over replicas counts
// the partition twice. Expected: when the partition's goroutine ends,
// its series are deleted (DeleteLabelValues). Fix in consume (source.go):
// defer s.m.lag.DeleteLabelValues(...) and the same for committed.
func TestLagOfRevokedPartitionStays(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	broker := c.ListenAddrs()[0]
	vals := make([][]byte, 50)
	for i := range vals {
		vals[i] = fmt.Appendf(nil, `{"seq":%d}`, i)
	}
	faultProduce(t, broker, "logs", vals...)
	sink := newFaultSink()
	sink.hold = true // the destination is slow: a backlog builds up
	defer sink.Release()
	logs := newLogRecorder()
	cfg := faultConfig(broker, "g-review-lag", "logs")
	cfg.BatchEvents = 1
	cfg.MaxInflightBatches = 1
	cfg.DrainTimeout = 300 * time.Millisecond
	s, err := New(cfg, faultEngine(t, engine.Config{WriteTimeout: time.Second}, sink), slog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer reviewShutdown(s)
	select {
	case <-sink.started:
	case <-time.After(10 * time.Second):
		t.Fatal("nothing reached the destination")
	}
	time.Sleep(200 * time.Millisecond)
	lag := s.m.lag.WithLabelValues(s.cfg.Name, "logs", "0")
	var m dto.Metric
	_ = lag.Write(&m)
	t.Logf("lag while owning logs/0: %v", m.GetGauge().GetValue())
	c.Close() // the generation ends (here: the coordinator is gone); the partition is drained and released
	faultWait(t, 8*time.Second, "a failed attempt to join the next generation", func() bool {
		return logs.saw("joining the consumer group failed")
	})
	if s.m.lag.DeleteLabelValues(s.cfg.Name, "logs", "0") {
		t.Errorf("logrouter_kafka_lag{partition=\"0\"} (%v) is still exported after the partition was released", m.GetGauge().GetValue())
	}
}
