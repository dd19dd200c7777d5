// Package kafkain is the Kafka input: it consumes topics as a member of a
// consumer group (kafka-go's ConsumerGroup/Generation API, which has the
// rebalance hook Reader lacks) and commits an offset only once every event
// up to it was accepted by every destination it was routed to.
//
// Per assigned partition, one goroutine fetches records, turns them into a
// batch (up to batch_events or batch_wait) and hands it to the engine
// without waiting; up to max_inflight_batches of a partition may wait for
// their Ack. A tracker commits the highest contiguous offset whose batches
// were all accepted. A batch the destinations refuse is sent again with
// backoff, and nothing after it is committed meanwhile: the partition slows
// down, it never skips. Records that cannot become events (invalid JSON,
// oversized) are quarantined with topic, partition and offset, and their
// offsets count as done, so a poison record never stalls its partition.
//
// On a rebalance or shutdown each partition flushes, waits up to
// drain_timeout for its in-flight batches, and commits their contiguous
// prefix before it lets the group move on; what was not committed is read
// again by the next owner (at-least-once, duplicates bounded by the
// in-flight batches). A partition the group never committed starts at
// start_offset and commits the offset of its first record at once, so that
// with start_offset latest the next owner resumes there instead of at the
// end again, past records fetched and never delivered. Waiting for the
// engine's capacity (max_inflight_batches, shared by every input) is bounded
// by the rebalance and the drain deadline too.
//
// The group is given only the listed topics the cluster has (looked up again
// every topicRecheck): one missing topic would otherwise stop them all.
// A committed offset outside its partition's log starts again at
// start_offset, as Kafka's auto.offset.reset does. Generations that end as
// soon as they start are followed by a growing pause.
package kafkain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/backoff"
	"github.com/logrouter/logrouter/internal/jsonscan"
	"github.com/logrouter/logrouter/internal/kafkacfg"
	"github.com/logrouter/logrouter/internal/promreg"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/engine"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/route"
	kafkasink "github.com/logrouter/logrouter/sinks/kafka"
)

// Source is the Kafka input.
type Source struct {
	cfg    Config
	eng    *engine.Engine
	log    *slog.Logger
	dialer *kafka.Dialer
	topics map[string]topicState
	m      *metrics

	cancel   context.CancelFunc
	done     chan struct{}
	started  time.Time
	assigned atomic.Int64 // partitions consumed now
	lostAt   atomic.Int64 // when assigned last fell to 0 (ns since monoStart: a wall-clock step must not move it)
	stopped  atomic.Bool
	reapers  sync.WaitGroup
}

type topicState struct {
	format string
	defST  []byte
}

type metrics struct {
	lag        *prometheus.GaugeVec   // {input, topic, partition}
	committed  *prometheus.GaugeVec   // {input, topic, partition}
	rebalances prometheus.Counter     // generations joined
	assigned   prometheus.Gauge       // partitions owned now
	commitErrs prometheus.Counter     // failed commits (retried)
	records    *prometheus.CounterVec // {input, topic}
	resets     prometheus.Counter     // committed offsets out of the log's range, reset by start_offset
	control    *prometheus.CounterVec // {input, topic}: transaction markers skipped
	expired    *prometheus.CounterVec // {input, topic}: records retention removed before they were read
	inBytes    prometheus.Counter     // the engine's logrouter_input_bytes_total{input}: record values read
}

// New prepares the source; Start joins the group.
func New(cfg Config, eng *engine.Engine, log *slog.Logger) (*Source, error) {
	cfg.SetDefaults()
	if err := cfg.Validate("inputs.kafka"); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	d, err := kafkacfg.Dialer("logrouter-"+cfg.Name, cfg.TLS, cfg.SASL)
	if err != nil {
		return nil, fmt.Errorf("inputs.kafka: %w", err)
	}
	s := &Source{cfg: cfg, eng: eng, log: log.With("input", cfg.Name), dialer: d, topics: map[string]topicState{}, done: make(chan struct{})}
	for _, t := range cfg.Topics {
		s.topics[t.Name] = topicState{format: t.Format, defST: []byte(t.SourceType)}
	}
	reg := eng.Metrics().Registry
	var err2 error
	lag := register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logrouter_kafka_lag",
		Help: "Records between the last one fetched and the partition's high watermark."}, []string{"input", "topic", "partition"}), &err2)
	committed := register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logrouter_kafka_committed_offset",
		Help: "Last offset committed for the partition (the next record to read)."}, []string{"input", "topic", "partition"}), &err2)
	reb := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_kafka_rebalances_total",
		Help: "Consumer group generations joined (each is a rebalance)."}, []string{"input"}), &err2)
	asg := register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logrouter_kafka_assigned_partitions",
		Help: "Partitions this instance owns in its consumer group."}, []string{"input"}), &err2)
	cerr := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_kafka_commit_errors_total",
		Help: "Offset commits that failed (retried; records after the last commit are read again by the next owner)."}, []string{"input"}), &err2)
	rec := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_kafka_records_total",
		Help: "Records fetched."}, []string{"input", "topic"}), &err2)
	rst := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_kafka_offset_resets_total",
		Help: "Committed offsets found outside their partition's log (truncated, topic recreated) and reset by start_offset."}, []string{"input"}), &err2)
	ctl := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_kafka_control_records_total",
		Help: "Transaction markers (the commit and abort records of transactional producers) skipped: not the producer's records."}, []string{"input", "topic"}), &err2)
	exp := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_kafka_records_expired_total",
		Help: "Records the broker deleted before they were read (the topic's retention passed the group's position: a consumer group behind by more than retention.ms or retention.bytes, or a DeleteRecords call): never received, lost upstream of the router; reading went on from the partition's first offset."}, []string{"input", "topic"}), &err2)
	if err2 != nil {
		return nil, err2
	}
	s.m = &metrics{control: ctl, expired: exp, lag: lag, committed: committed, rebalances: reb.WithLabelValues(cfg.Name), assigned: asg.WithLabelValues(cfg.Name),
		commitErrs: cerr.WithLabelValues(cfg.Name), records: rec, resets: rst.WithLabelValues(cfg.Name),
		inBytes: eng.Metrics().InputBytes.WithLabelValues(cfg.Name)}
	return s, nil
}

// monoStart anchors monotonic readings (Source.lostAt).
var monoStart = time.Now()

// register is promreg.Register, keeping the first error in *errp (a
// second kafka input shares the vectors, told apart by the input label).
func register[C prometheus.Collector](reg prometheus.Registerer, c C, errp *error) C {
	c, err := promreg.Register(reg, c)
	if err != nil && *errp == nil {
		*errp = err
	}
	return c
}

// Start joins the consumer group and consumes in the background.
func (s *Source) Start() error {
	if s.cancel != nil {
		return errors.New("inputs.kafka: started twice")
	}
	gc := s.groupConfig(s.configuredTopics())
	if err := gc.Validate(); err != nil {
		return fmt.Errorf("inputs.kafka: %w", err)
	}
	s.started = time.Now()
	setBatchLimit(s, int64(s.cfg.MaxBatchBytes))
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.run(ctx)
	s.log.Info("kafka input joining consumer group", "group", s.cfg.GroupID, "topics", gc.Topics, "brokers", s.cfg.Brokers)
	return nil
}

func (s *Source) configuredTopics() []string {
	topics := make([]string, 0, len(s.cfg.Topics))
	for _, t := range s.cfg.Topics {
		topics = append(topics, t.Name)
	}
	return topics
}

// groupConfig is the consumer group's configuration for topics.
func (s *Source) groupConfig(topics []string) kafka.ConsumerGroupConfig {
	start := kafka.FirstOffset
	if s.cfg.StartOffset == "latest" {
		start = kafka.LastOffset
	}
	return kafka.ConsumerGroupConfig{
		ID: s.cfg.GroupID, Brokers: s.cfg.Brokers, Dialer: s.dialer, Topics: topics,
		StartOffset: start, SessionTimeout: s.cfg.SessionTimeout, RebalanceTimeout: s.cfg.RebalanceTimeout,
		HeartbeatInterval: s.cfg.HeartbeatInterval, WatchPartitionChanges: true, JoinGroupBackoff: time.Second,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			s.log.Warn("kafka consumer group: " + fmt.Sprintf(msg, args...))
		}),
	}
}

// Ready reports whether the input owns partitions; it is not ready once
// ready_grace passed without any assigned (since the start, or since the
// last partition was released: a rebalance's moment without any is not an
// outage).
func (s *Source) Ready() (bool, string) {
	if s.assigned.Load() > 0 || time.Since(s.started) < s.cfg.ReadyGrace ||
		s.lostAt.Load() != 0 && time.Since(monoStart)-time.Duration(s.lostAt.Load()) < s.cfg.ReadyGrace {
		return true, ""
	}
	return false, fmt.Sprintf("kafka input %s: no partition assigned for %s (group %s)", s.cfg.Name, s.cfg.ReadyGrace, s.cfg.GroupID)
}

// topicRecheck is how often the topics are looked up again: a listed topic
// created later is consumed from then on, one deleted is left.
const topicRecheck = 30 * time.Second

// run consumes until ctx ends: one consumer group per set of the listed
// topics that exist. A group is not given a topic the cluster does not
// have: the leader's partition lookup fails for all topics at once and
// kafka-go's partition watcher ends every generation, so one missing topic
// (a typo, one the edges create on first use) would stop the others.
func (s *Source) run(ctx context.Context) {
	defer close(s.done)
	var missingWas string
	for ctx.Err() == nil {
		topics, missing, err := s.existingTopics(ctx)
		if err != nil {
			// The cluster cannot be asked now: join with every topic and
			// let the group retry; the watch below looks again.
			topics, missing = s.configuredTopics(), nil
		}
		var denied []string
		if len(missing) > 0 {
			missing, denied = s.splitDenied(ctx, missing)
		}
		if m := strings.Join(missing, ",") + "|" + strings.Join(denied, ","); m != missingWas {
			missingWas = m
			if len(missing) > 0 {
				s.log.Warn("kafka: listed topics do not exist; consuming the others, looking again every "+topicRecheck.String(),
					"missing", missing, "consuming", topics)
			}
			if len(denied) > 0 {
				s.log.Error("kafka: not authorized to read listed topics (TOPIC_AUTHORIZATION_FAILED): grant this user (sasl.username) Describe and Read on them; consuming the others, looking again every "+topicRecheck.String(),
					"denied", denied, "consuming", topics)
			}
		}
		if len(topics) == 0 {
			backoff.Sleep(ctx, topicRecheck)
			continue
		}
		cg, err := kafka.NewConsumerGroup(s.groupConfig(topics))
		if err != nil {
			s.log.Error("kafka: cannot create the consumer group; retrying", "err", err)
			backoff.Sleep(ctx, 10*time.Second)
			continue
		}
		stop := s.watchTopics(ctx, topics, cg)
		s.runGroup(ctx, cg)
		stop()
		if err := cg.Close(); err != nil && !errors.Is(err, kafka.ErrGroupClosed) {
			s.log.Warn("kafka: leaving the consumer group", "err", err)
		}
	}
}

// existingTopics splits the listed topics into those the cluster has and
// those it has not.
func (s *Source) existingTopics(ctx context.Context) (have, missing []string, err error) {
	var parts []kafka.Partition
	err = s.dialAny(ctx, s.toBroker, func(c *kafka.Conn) error {
		var err error
		parts, err = c.ReadPartitions()
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	exists := map[string]bool{}
	for _, p := range parts {
		exists[p.Topic] = true
	}
	for _, t := range s.configuredTopics() {
		if exists[t] {
			have = append(have, t)
		} else {
			missing = append(missing, t)
		}
	}
	return have, missing, nil
}

// splitDenied asks the brokers about each topic the listing of all topics
// left out, by name (kafkacfg.ProbeTopic): the listing also leaves out the
// topics this user may not describe, which exist. It returns the missing
// ones and those behind an ACL.
func (s *Source) splitDenied(ctx context.Context, absent []string) (missing, denied []string) {
	tr := &kafka.Transport{DialTimeout: s.dialer.Timeout, ClientID: s.dialer.ClientID, Dial: s.dialer.DialFunc, TLS: s.dialer.TLS, SASL: s.dialer.SASLMechanism}
	for _, t := range absent {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		code, err := kafkacfg.ProbeTopic(pctx, kafka.TCP(s.cfg.Brokers...), tr, t)
		cancel()
		if err == nil && code == int16(kafka.TopicAuthorizationFailed) {
			denied = append(denied, t)
		} else {
			missing = append(missing, t)
		}
	}
	return missing, denied
}

// dialAny runs fn on a connection to the first broker that answers: dial
// connects to a bootstrap broker (the broker itself, or the leader of a
// partition it knows). Each attempt gets 10 s.
func (s *Source) dialAny(ctx context.Context, dial func(ctx context.Context, broker string) (*kafka.Conn, error), fn func(*kafka.Conn) error) error {
	var err error
	for _, b := range s.cfg.Brokers {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var c *kafka.Conn
		c, err = dial(dctx, b)
		cancel()
		if err != nil {
			continue
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		err = fn(c)
		_ = c.Close()
		if err == nil {
			return nil
		}
	}
	return err
}

// toBroker dials the broker itself.
func (s *Source) toBroker(ctx context.Context, b string) (*kafka.Conn, error) {
	return s.dialer.DialContext(ctx, "tcp", b)
}

// watchTopics looks the topics up every topicRecheck and closes cg when the
// set that exists is no longer topics (run then builds the group again).
// The returned func stops it and waits for it.
func (s *Source) watchTopics(ctx context.Context, topics []string, cg *kafka.ConsumerGroup) (stop func()) {
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(topicRecheck)
		defer t.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
			}
			have, _, err := s.existingTopics(wctx)
			if err != nil || slices.Equal(have, topics) {
				continue
			}
			s.log.Info("kafka: the listed topics that exist changed; joining the group again with them", "was", topics, "now", have)
			_ = cg.Close() // the partitions drain and commit; run joins again
			return
		}
	}()
	return func() { cancel(); <-done }
}

// minGeneration is how long a generation must last for the next one to be
// taken at once; shorter ones (a topic deleted under the group, a member
// flapping) are followed by a growing pause, so that a group that cannot
// settle does not rejoin thousands of times a second.
const minGeneration = 2 * time.Second

// runGroup takes cg's generations until ctx ends or cg is closed.
func (s *Source) runGroup(ctx context.Context, cg *kafka.ConsumerGroup) {
	joinFails, short := 0, 0
	for {
		gen, err := cg.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed) {
				return
			}
			if hint := kafkacfg.Explain("inputs.kafka", s.cfg.SASL, s.cfg.GroupID, err); hint != "" {
				// Not a passing fault: nothing is read until the
				// configuration or the brokers' ACLs change.
				s.log.Error("kafka: joining the consumer group failed; retrying: "+hint, "err", err)
			} else {
				s.log.Warn("kafka: joining the consumer group failed; retrying", "err", err)
			}
			joinFails++
			backoff.Sleep(ctx, min(time.Duration(joinFails)*time.Second, 10*time.Second))
			continue
		}
		joinFails = 0
		began := time.Now()
		s.m.rebalances.Inc()
		ended := make(chan struct{})
		gen.Start(func(gctx context.Context) { <-gctx.Done(); close(ended) })
		var parts []string
		for topic, pas := range gen.Assignments {
			for _, pa := range pas {
				parts = append(parts, topic+"/"+strconv.Itoa(pa.ID))
				topic, pa := topic, pa
				gen.Start(func(gctx context.Context) { s.consume(ctx, gctx, gen, topic, pa) })
			}
		}
		s.log.Info("kafka partitions assigned", "generation", gen.ID, "partitions", parts)
		select {
		case <-ended:
		case <-ctx.Done():
			return // run closes the group: the partitions drain and commit
		}
		if time.Since(began) >= minGeneration {
			short = 0
			continue
		}
		short++
		pause := min(100*time.Millisecond<<min(short, 7), 10*time.Second)
		pause += rand.N(pause / 2) // jitter: replicas do not rejoin in step
		backoff.Sleep(ctx, pause)
	}
}

// Shutdown stops fetching, lets every partition drain and commit (within
// drain_timeout and ctx) and leaves the group. Idempotent.
func (s *Source) Shutdown(ctx context.Context) error {
	if s.cancel == nil || s.stopped.Swap(true) {
		return nil
	}
	defer setBatchLimit(s, 0)
	s.cancel()
	// Ending run closes the group, which ends the generation: every
	// partition drains (bounded by drain_timeout) and commits before the
	// close returns; then the batches that outlived their partition wait
	// for their Acks. All of it within ctx: at the deadline the rest goes
	// on in the background (the engine, closed next, ends those batches)
	// and is read again by the next owner as far as it was not committed.
	closed := make(chan struct{})
	go func() {
		<-s.done
		s.reapers.Wait()
		close(closed)
	}()
	select {
	case <-closed:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("kafka input: still draining at the shutdown deadline (uncommitted records are read again by the next owner): %w", ctx.Err())
	}
}

// flight is a batch waiting for its Ack.
type flight struct {
	b      *pipeline.Batch
	lo, hi int64 // offsets it covers
	state  int   // pending, done, failed, unstored
	err    error
	tries  int // times it was sent again: its backoff grows with them
}

const (
	pending = iota
	done
	failed
	unstored // its rejects could not be quarantined: never committed, read again after the rebalance
)

// partition consumes one assigned partition.
type partition struct {
	s      *Source
	gen    *kafka.Generation
	topic  string
	id     int
	label  string
	ts     topicState
	w      *route.Worker
	jp     fastjson.Parser
	jpCost int64 // what jp's last parse holds (jsonscan.ParseCost)
	b      *pipeline.Batch
	lo, hi int64
	first  time.Time
	rej    []pipeline.Rejected

	mu         sync.Mutex
	inflight   []*flight
	notify     chan struct{}
	committed  int64 // next offset to read, as committed
	accepted   int64 // every record before it was accepted (or quarantined)
	lastCommit time.Time
	lag        prometheus.Gauge
	comm       prometheus.Gauge
	records    prometheus.Counter
	control    prometheus.Counter
	expired    prometheus.Counter // records retention deleted before they were read
	inBytes    prometheus.Counter
	oversized  atomic.Bool // the reader met a batch past max_batch_bytes (skipOversized)
}

// consume runs until the generation ends (rebalance) or the input stops.
func (s *Source) consume(ctx, gctx context.Context, gen *kafka.Generation, topic string, pa kafka.PartitionAssignment) {
	run, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(gctx, cancel)
	defer stop()
	pid := strconv.Itoa(pa.ID)
	p := &partition{s: s, gen: gen, topic: topic, id: pa.ID, label: topic + "/" + pid, ts: s.topics[topic],
		w: s.eng.Worker(), notify: make(chan struct{}, 1), committed: pa.Offset, accepted: pa.Offset, lo: -1,
		lag:     s.m.lag.WithLabelValues(s.cfg.Name, topic, pid),
		comm:    s.m.committed.WithLabelValues(s.cfg.Name, topic, pid),
		records: s.m.records.WithLabelValues(s.cfg.Name, topic), control: s.m.control.WithLabelValues(s.cfg.Name, topic), inBytes: s.m.inBytes,
		// At 0 from the start: increase() over a series that first shows
		// up at N reads 0, and LogrouterKafkaRecordsExpired would miss a
		// pod's first expiry (a one-off catch-up after an outage).
		expired: s.m.expired.WithLabelValues(s.cfg.Name, topic)}
	defer func() { s.eng.PutWorker(p.w) }() // the worker it has at the end (Refresh)
	s.m.assigned.Set(float64(s.assigned.Add(1)))
	defer func() {
		n := s.assigned.Add(-1)
		if n == 0 {
			s.lostAt.Store(int64(time.Since(monoStart)) + 1) // 0: never
		}
		s.m.assigned.Set(float64(n))
		// The partition's series go with it: another replica owns it now,
		// and a lag left behind would alert (and scale) for ever.
		s.m.lag.DeleteLabelValues(s.cfg.Name, topic, pid)
		s.m.committed.DeleteLabelValues(s.cfg.Name, topic, pid)
	}()
	p.newBatch()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: s.cfg.Brokers, Topic: topic, Partition: pa.ID, Dialer: s.dialer,
		MinBytes: 1, MaxBytes: s.cfg.FetchMaxBytes, MaxWait: 250 * time.Millisecond,
		OffsetOutOfRangeError: true, // outOfRange: a log cut below the position while it runs
		ReadBackoffMin:        100 * time.Millisecond, ReadBackoffMax: time.Second,
		ErrorLogger: kafka.LoggerFunc(p.readerError),
	})
	defer r.Close()
	var lastFetch atomic.Int64 // when the loop last asked for a record
	lastFetch.Store(time.Now().UnixNano())
	stopLag := s.watchLag(run, r, p, &lastFetch)
	defer stopLag() // before r.Close
	if pa.Offset < 0 {
		// No commit yet: start_offset's sentinel resolved here rather
		// than by kafka-go, so that the reader's position is an offset
		// from the start (skipOversized needs one when the first batch
		// is past max_batch_bytes). Committed at once (commit), as the
		// first record's offset was, so that the next owner resumes
		// here. Asked again with backoff while the broker does not
		// answer (a leader election): a sentinel left to kafka-go would
		// leave skipOversized no position to start from.
		for attempt := 0; ; attempt++ {
			off, ok := s.resolveStart(run, topic, pa.ID, pa.Offset)
			if ok {
				pa.Offset = off
				p.accepted = off
				break
			}
			if run.Err() != nil {
				return // the generation ended: nothing was read or committed
			}
			if attempt == 0 {
				s.log.Warn("kafka: cannot read the partition's offsets to resolve start_offset; retrying", "partition", p.label)
			}
			backoff.Sleep(run, retryDelay(attempt))
		}
	}
	if off, ok, expired := s.inRange(run, topic, pa.ID, pa.Offset); !ok && expired > 0 {
		// Retention deleted records after the group's commit: read on
		// from the first that exists (not from the end, which would skip
		// every record retained), counted as expired.
		p.expire(expired)
		pa.Offset = off
		p.accepted = off
	} else if !ok {
		// Like auto.offset.reset: the committed offset is outside the
		// log (truncated by an unclean leader election, the topic
		// recreated, a restore or mirror failover). kafka-go would wait
		// quietly for the log to reach it and then skip every record
		// below it. The reset position is committed as the partition's
		// first commit.
		s.m.resets.Inc()
		s.log.Warn("kafka: the committed offset is outside the partition's log; starting at start_offset", "partition", p.label,
			"committed", pa.Offset, "start_offset", s.cfg.StartOffset, "now", off)
		pa.Offset = off
		p.accepted = off
	}
	if err := r.SetOffset(pa.Offset); err != nil {
		s.log.Error("kafka: cannot seek; the partition waits for the next rebalance", "partition", p.label, "offset", pa.Offset, "err", err)
		<-run.Done()
		return
	}
	for run.Err() == nil {
		p.retryFailed(run)
		p.commit(false)
		wait := time.Second
		if len(p.b.Events) > 0 || len(p.rej) > 0 {
			wait = time.Until(p.first.Add(s.cfg.BatchWait))
		}
		fctx, fcancel := context.WithTimeout(run, max(wait, time.Millisecond))
		lastFetch.Store(time.Now().UnixNano())
		m, err := r.FetchMessage(fctx)
		fcancel()
		if err != nil {
			if run.Err() != nil {
				break
			}
			if errors.Is(err, errBatchTooLarge) {
				p.oversized.Store(true)
			}
			if p.oversized.Load() {
				// Nothing came before the deadline and a batch past
				// max_batch_bytes stopped the reader: every record
				// before it is delivered (r.Offset is the next to read).
				p.skipOversized(run, r)
				continue
			}
			if errors.Is(err, context.DeadlineExceeded) {
				p.flush(run)
				continue
			}
			if errors.Is(err, kafka.OffsetOutOfRange) {
				p.outOfRange(run, r)
				continue
			}
			s.log.Warn("kafka fetch failed; retrying", "partition", p.label, "err", err)
			backoff.Sleep(run, 500*time.Millisecond)
			continue
		}
		if controlRecord(&m) {
			p.control.Inc()
		} else {
			p.records.Inc()
		}
		p.lag.Set(float64(max(m.HighWaterMark-m.Offset-1, 0)))
		p.add(&m)
		// batch_wait bounds a batch's age even while records keep coming
		// (a backlog never lets the fetch above time out).
		if len(p.b.Events) >= s.cfg.BatchEvents || time.Since(p.first) >= s.cfg.BatchWait {
			p.flush(run)
		}
	}
	p.drain()
}

// readerError takes the kafka-go Reader's error log lines (its
// ErrorLogger): a batch past max_batch_bytes is skipped by consume
// (skipBatch); records retention removed below the position, which the
// Reader skips on its own while it runs, are counted; the rest is logged.
func (p *partition) readerError(msg string, args ...any) {
	s := p.s
	for _, a := range args {
		if err, ok := a.(error); ok && errors.Is(err, errBatchTooLarge) {
			// Retried by kafka-go for ever: consume finds the
			// batch's offsets and skips them (skipBatch).
			if !p.oversized.Swap(true) {
				s.log.Warn("kafka: "+err.Error()+"; finding its offsets to skip it", "partition", p.label, "max_batch_bytes", s.cfg.MaxBatchBytes)
			}
			return
		}
	}
	if n, ok := retentionSkip(msg, args); ok {
		p.expire(n)
		return
	}
	s.log.Warn("kafka reader: "+fmt.Sprintf(msg, args...), "partition", p.label)
}

// readerSkipFormat is how kafka-go (v0.4.51, reader.go) logs a position
// retention passed while the Reader runs, before it moves on to the first
// offset: its last argument is the number of records skipped.
const readerSkipFormat = "the kafka reader is reading before the first offset"

// retentionSkip reads the records skipped out of a kafka-go error line.
// The commit moves past them with the next record accepted after the
// skip: should the partition change owner before one is, the next owner
// finds the commit below the log's start and counts them again.
func retentionSkip(msg string, args []any) (int64, bool) {
	if !strings.HasPrefix(msg, readerSkipFormat) || len(args) == 0 {
		return 0, false
	}
	n, ok := args[len(args)-1].(int64)
	return n, ok && n > 0
}

// expire counts n records the broker deleted before the partition read
// them, and says so: they are lost before the router, and an operator
// must know (LogrouterKafkaRecordsExpired).
func (p *partition) expire(n int64) {
	if n <= 0 {
		return
	}
	p.expired.Add(float64(n))
	p.s.log.Error("kafka: records were deleted by the topic's retention before they were read (the consumer group is behind by more than retention.ms or retention.bytes): they are lost before the router; reading goes on from the partition's first offset. Add replicas (up to the partitions), look for a slow destination, or raise the topic's retention",
		"partition", p.label, "records", n)
}

// outOfRange handles the reader's position falling outside the
// partition's log while it runs (OffsetOutOfRangeError: an unclean leader
// election cut the log below it, the topic was recreated), as inRange does
// at assignment: kafka-go would wait quietly for the log to grow back to
// the position and skip every record below it. What was read before is
// delivered and committed first; then the partition reads on from
// start_offset, and commits that position. A log cut and written past the
// position again before the next fetch cannot be told apart from one that
// was not cut (kafka-go exposes neither topic IDs nor leader epochs).
func (p *partition) outOfRange(ctx context.Context, r *kafka.Reader) {
	pos := r.Offset()
	// Decided now, as the cut is seen: settling the batches in flight can
	// take long enough for a log being written to grow past the position
	// again, which would hide the cut.
	off, ok, expired := p.s.inRange(ctx, p.topic, p.id, pos)
	p.settle(ctx)
	if ctx.Err() != nil {
		return
	}
	p.commit(false) // takes the batches settled since settle last looked
	p.mu.Lock()
	settled := len(p.inflight) == 0
	if !ok && settled {
		p.accepted = off
	}
	p.mu.Unlock()
	if ok || !settled {
		// The log reaches the position again, or cannot be asked (or a
		// batch is still in flight: asked again at the next error): read
		// on from it. The reader stopped at the error, and a seek to where
		// it is does nothing: seek away and back to restart it.
		backoff.Sleep(ctx, time.Second)
		_ = r.SetOffset(kafka.LastOffset)
		if err := r.SetOffset(pos); err != nil {
			p.s.log.Error("kafka: cannot seek; the partition waits for the next rebalance", "partition", p.label, "offset", pos, "err", err)
		}
		return
	}
	if expired > 0 {
		p.expire(expired)
		if err := r.SetOffset(off); err != nil {
			p.s.log.Error("kafka: cannot seek; the partition waits for the next rebalance", "partition", p.label, "offset", off, "err", err)
			return
		}
		p.commit(true)
		return
	}
	p.s.m.resets.Inc()
	p.s.log.Warn("kafka: the partition's log was cut below its position (an unclean leader election, the topic recreated); reading on from start_offset: records written below the position and past the cut are read, none skipped",
		"partition", p.label, "position", pos, "start_offset", p.s.cfg.StartOffset, "now", off)
	if err := r.SetOffset(off); err != nil {
		p.s.log.Error("kafka: cannot seek; the partition waits for the next rebalance", "partition", p.label, "offset", off, "err", err)
		return
	}
	p.commit(true)
}

// inRange checks a committed offset against the partition's log: ok is
// false when it lies past the last offset or before the first. Before the
// first, retention passed it (a group far behind): off is the first
// offset, whatever start_offset says (the records from there on exist;
// none of them is skipped), and expired counts the records deleted unread.
// Past the last (the log cut by an unclean leader election, the topic
// recreated), off is where start_offset says to begin. A sentinel (no
// commit yet) or a log that cannot be asked is taken as it is.
func (s *Source) inRange(ctx context.Context, topic string, part int, off int64) (at int64, ok bool, expired int64) {
	if off < 0 {
		return off, true, 0
	}
	first, last, err := s.offsets(ctx, topic, part)
	switch {
	case err != nil || (off >= first && off <= last):
		return off, true, 0
	case off < first:
		return first, false, first - off
	case s.cfg.StartOffset == "latest":
		return last, false, 0
	}
	return first, false, 0
}

// offsets returns the partition's first offset and its end (the offset the
// next record will get), asked of its leader.
func (s *Source) offsets(ctx context.Context, topic string, part int) (first, last int64, err error) {
	err = s.dialAny(ctx, s.leaderDial(topic, part), func(c *kafka.Conn) (err error) {
		first, last, err = c.ReadOffsets()
		return err
	})
	return first, last, err
}

// leaderDial dials the partition's leader (for dialAny).
func (s *Source) leaderDial(topic string, part int) func(ctx context.Context, broker string) (*kafka.Conn, error) {
	return func(ctx context.Context, b string) (*kafka.Conn, error) {
		return s.dialer.DialLeader(ctx, "tcp", b, topic, part)
	}
}

// resolveStart returns the offset sentinel (kafka.FirstOffset,
// kafka.LastOffset) stands for in the partition's log now; ok is false
// when the broker cannot be asked.
func (s *Source) resolveStart(ctx context.Context, topic string, part int, sentinel int64) (int64, bool) {
	first, last, err := s.offsets(ctx, topic, part)
	if err != nil {
		return sentinel, false
	}
	if sentinel == kafka.LastOffset {
		return last, true
	}
	return first, true
}

// lagRefresh is how long a partition may go without asking for a record
// before its lag is looked up from the broker.
const lagRefresh = time.Second

// watchLag keeps the partition's lag gauge current while its loop is held
// (a refused batch sent again with backoff, in-flight batches waiting for
// their Acks): the gauge is otherwise set at each fetch only, and would read
// flat exactly while the backlog grows. It asks the broker only for a
// partition that has not fetched for lagRefresh. The returned func stops it
// and waits for it.
func (s *Source) watchLag(ctx context.Context, r *kafka.Reader, p *partition, lastFetch *atomic.Int64) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(lagRefresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// A loop that fetches asks at least every second (its
			// longest wait): only one that has not for a while is held.
			if time.Since(time.Unix(0, lastFetch.Load())) < 5*lagRefresh/2 {
				continue
			}
			lctx, lcancel := context.WithTimeout(ctx, 5*time.Second)
			if lag, err := r.ReadLag(lctx); err == nil {
				p.lag.Set(float64(max(lag, 0)))
			}
			lcancel()
		}
	}()
	return func() { cancel(); <-done }
}

func (p *partition) newBatch() {
	p.b = pipeline.NewBatch()
	p.b.Meta = pipeline.Meta{Input: p.s.cfg.Name, Protocol: "kafka", Peer: p.label, IngestTime: time.Now().UnixNano()}
	p.lo, p.hi, p.first = -1, -1, time.Time{}
	// The quarantined copies of the last batch (up to max_message_bytes
	// each) are not kept by the array: a burst of rejects would stay
	// referenced for as long as the partition is assigned.
	clear(p.rej)
	if cap(p.rej) > maxKeptRejects {
		p.rej = nil
	}
	p.rej = p.rej[:0]
}

// maxKeptRejects bounds the rejects slice a partition keeps between
// batches.
const maxKeptRejects = 256

// add turns one record into events (or quarantined rejects).
func (p *partition) add(m *kafka.Message) {
	p.open(m.Offset)
	p.hi = m.Offset
	if controlRecord(m) {
		return // a transaction marker: its offset is done, it holds no event
	}
	v := m.Value
	if p.inBytes != nil {
		p.inBytes.Add(float64(len(v))) // received bytes, as the other inputs count theirs
	}
	// A logrouter edge's metadata (edge -> Kafka -> gateway) is kept, and
	// its events (the sink's priority header says so) are not normalized
	// by a source profile again.
	// Any other producer's record loses its own logrouter member, as on
	// the other inputs: nobody but an edge claims a token or an index.
	edge := fromLogrouter(m.Headers)
	em := normalize.EventMeta{DefaultSourceType: p.ts.defST, KeepOwnLogrouter: edge, Normalized: edge}
	if t := recordTime(m); t > 0 {
		// The record's timestamp (the producer's CreateTime, or the
		// broker's LogAppendTime) is the time of an event without one of
		// its own, as HEC's time is: a backlog read after an outage is
		// filed when it happened, not when it was read (Filebeat's kafka
		// input does the same).
		em.DefaultTime = t
	}
	switch p.ts.format {
	case "json":
		if len(v) > p.s.cfg.MaxMessageBytes {
			// A batch envelope (a CloudTrail file: the broker bounds the
			// compressed batch, not the record) is taken record by record.
			if edge || !p.addLarge(m, v, &em) {
				p.tooLarge(m, v)
			}
			return
		}
		p.addJSON(m, v, &em)
	default: // ndjson, raw: one event per line, each line bounded
		for len(v) > 0 {
			line := v
			if i := indexByte(v, '\n'); i >= 0 {
				line, v = v[:i], v[i+1:]
			} else {
				v = nil
			}
			line = trimSpace(line)
			if len(line) == 0 {
				continue
			}
			if len(line) > p.s.cfg.MaxMessageBytes {
				p.tooLarge(m, line)
				continue
			}
			if p.ts.format == "raw" {
				if err := p.w.Add(p.b, nil, line, &em); err != nil {
					p.reject(m, line, normalize.Reason(err), err)
				}
				continue
			}
			p.addJSON(m, line, &em)
		}
	}
}

// open takes offset off into the batch: the first offset of a new batch
// starts it.
func (p *partition) open(off int64) {
	if p.accepted < 0 {
		// The group had no commit for the partition (pa.Offset was
		// start_offset's sentinel): the first record fetched is where it
		// starts. Commit that position (commit does, at once), so that
		// the next owner resumes here rather than resolving "latest"
		// again past records fetched here and never delivered.
		p.mu.Lock()
		p.accepted = off
		p.mu.Unlock()
	}
	if p.lo < 0 {
		p.lo = off
		p.first = time.Now()
		// The batch's ingest time is its first record's arrival, not the
		// previous flush (after a quiet hour, a record would be stamped
		// an hour early: event.ingested, and @timestamp when it has no
		// time of its own).
		p.b.Meta.IngestTime = p.first.UnixNano()
		p.w = p.s.eng.Refresh(p.w) // rules reloaded since the last batch: this one uses them
	}
}

// tooLarge quarantines the first max_message_bytes of raw, a record (or
// line) longer than that.
func (p *partition) tooLarge(m *kafka.Message, raw []byte) {
	p.reject(m, raw[:p.s.cfg.MaxMessageBytes], "too_large",
		fmt.Errorf("record of %d bytes exceeds inputs.kafka.max_message_bytes (%d); these are its first bytes: split it at the source or raise max_message_bytes", len(raw), p.s.cfg.MaxMessageBytes))
}

// addLarge adds raw, a JSON record longer than max_message_bytes, record
// by record when it is a batch envelope or an API page
// (normalize.LargeRecords: split by a byte scan, each record parsed alone,
// as addJSON would have split it had it fit); a record of it longer than
// max_message_bytes itself is quarantined alone. It reports false, having
// added nothing, when raw is not such an envelope.
func (p *partition) addLarge(m *kafka.Message, raw []byte, em *normalize.EventMeta) bool {
	if fastjson.ValidateBytes(raw) != nil {
		return false
	}
	arr := normalize.LargeRecords(raw)
	if arr == nil {
		return false
	}
	var one [1]*fastjson.Value
	_ = jsonscan.Elements(arr, func(el []byte) error {
		if len(el) > p.s.cfg.MaxMessageBytes {
			p.tooLarge(m, el)
			return nil
		}
		if jsonscan.TooDeep(el, jsonscan.MaxDepth) {
			p.reject(m, el, "too_deep", jsonscan.ErrTooDeep)
			return nil
		}
		v, err := p.parse(el)
		if err != nil {
			p.reject(m, el, parseReason(err), err)
			return nil
		}
		one[0] = v
		p.w.AddRecords(p.b, one[:], em, func(part *fastjson.Value, err error) {
			p.reject(m, part.MarshalTo(nil), normalize.Reason(err), err)
		})
		p.parsed()
		return nil
	})
	return true
}

func (p *partition) addJSON(m *kafka.Message, raw []byte, em *normalize.EventMeta) {
	if jsonscan.TooDeep(raw, jsonscan.MaxDepth) {
		p.reject(m, raw, "too_deep", jsonscan.ErrTooDeep)
		return
	}
	obj, err := p.parse(raw)
	if err != nil {
		p.reject(m, raw, parseReason(err), err)
		return
	}
	defer p.parsed()
	if obj.Type() != fastjson.TypeObject {
		p.reject(m, raw, "not_object", errors.New("the record is not a JSON object"))
		return
	}
	if em.Normalized {
		// A logrouter edge's event: one event the edge normalized and
		// classified, never split again (an edge splits what it splits).
		if err := p.w.Add(p.b, obj, nil, em); err != nil {
			p.reject(m, raw, normalize.Reason(err), err)
		}
		return
	}
	if parts, activity := normalize.Parts(obj); parts != nil {
		// A batch envelope (Azure Event Hubs, CloudTrail files) or a
		// Google Workspace activity of several events: one event per
		// record or activity event, a failed one quarantined alone.
		p.w.AddParts(p.b, obj, parts, activity, em, func(part *fastjson.Value, err error) {
			p.reject(m, part.MarshalTo(nil), normalize.Reason(err), err)
		})
		return
	}
	if err := p.w.Add(p.b, obj, nil, em); err != nil {
		p.reject(m, raw, normalize.Reason(err), err)
	}
}

// parse parses one record with p.jp, unless it is too dense in values to
// parse (jsonscan.ErrTooManyValues: a long array of tiny values, the shape
// of a decompression bomb, would hold tens of times its size). Call parsed
// once the value is no longer used.
func (p *partition) parse(raw []byte) (*fastjson.Value, error) {
	c, err := jsonscan.ParseCost(raw)
	if err != nil {
		return nil, err
	}
	p.jpCost = c
	return p.jp.ParseBytes(raw)
}

// parsed lets go of what a large parse grew p.jp to (its value slice would
// stay with the partition for as long as it is assigned).
func (p *partition) parsed() {
	if p.jpCost > jsonscan.KeepParserBytes {
		p.jp = fastjson.Parser{}
	}
	p.jpCost = 0
}

// parseReason is the quarantine reason of a record parse refused with err.
func parseReason(err error) string {
	if errors.Is(err, jsonscan.ErrTooManyValues) {
		return "too_many_values"
	}
	return "invalid_json"
}

func (p *partition) reject(m *kafka.Message, raw []byte, reason string, err error) {
	proto := "kafka"
	if fromLogrouter(m.Headers) {
		// A logrouter edge's event: a replay keeps its metadata and does
		// not normalize it by a source profile again (ProtoEdge).
		proto = ProtoEdge
	}
	p.rej = append(p.rej, pipeline.Rejected{
		Raw: append([]byte(nil), raw...), Reason: reason, Detail: err.Error(),
		Input: p.s.cfg.Name, Protocol: proto, Peer: fmt.Sprintf("%s/%d@%d", m.Topic, m.Partition, m.Offset),
		Time: time.Now().UnixNano(),
		// The topic's source type and the record's timestamp, which a
		// replay applies again.
		DefaultSourceType: string(p.ts.defST),
		RecordTime:        recordTime(m),
	})
}

// recordTime returns m's timestamp in unix ns, or 0 when it has none (a
// record without one reads as before 1970) or one past what unix ns hold.
func recordTime(m *kafka.Message) int64 {
	if y := m.Time.Year(); y < 1970 || y > 2261 {
		return 0
	}
	return max(m.Time.UnixNano(), 0)
}

// flush quarantines the rejects and hands the batch to the engine without
// waiting, once fewer than max_inflight_batches are waiting.
func (p *partition) flush(ctx context.Context) {
	if p.lo < 0 {
		return
	}
	stored := true
	for attempt := 0; len(p.rej) > 0; attempt++ {
		if err := p.s.eng.Quarantine(context.Background(), p.rej); err == nil {
			break
		}
		// The records stay uncommitted until they are stored.
		backoff.Sleep(ctx, retryDelay(attempt))
		if ctx.Err() != nil && attempt > 3 {
			p.s.log.Error("kafka: quarantine unavailable; these records will be read again after the rebalance", "partition", p.label,
				"offsets", fmt.Sprintf("%d-%d", p.lo, p.hi))
			stored = false
			break
		}
	}
	for ctx.Err() == nil {
		p.mu.Lock()
		n := len(p.inflight)
		p.mu.Unlock()
		if n < p.s.cfg.MaxInflightBatches {
			break
		}
		p.retryFailed(ctx)
		p.commit(false)
		select {
		case <-p.notify:
		case <-time.After(100 * time.Millisecond):
		}
	}
	f := &flight{b: p.b, lo: p.lo, hi: p.hi}
	p.mu.Lock()
	p.inflight = append(p.inflight, f)
	p.mu.Unlock()
	switch {
	case !stored:
		// Its poison records are stored nowhere: never commit over them
		// (nor anything after them) in this generation; they are read
		// again after the rebalance.
		p.mu.Lock()
		f.state = unstored
		p.mu.Unlock()
	case len(f.b.Events) == 0: // every record was a poison record: done already
		p.finish(f, nil)
	default:
		p.emit(ctx, f)
	}
	p.newBatch()
}

// emit hands f to the engine. Emit blocks while the engine's
// max_inflight_batches (shared by every input) are in flight; ctx (the
// partition's run, or the drain's deadline) bounds that wait, so a rebalance
// or shutdown is never held by other inputs' slow destinations: a batch that
// could not start fails and is read again by the next owner.
func (p *partition) emit(ctx context.Context, f *flight) {
	f.b.Ack = pipeline.NewAck(func(err error) { p.finish(f, err) })
	_ = p.s.eng.Emit(ctx, f.b)
}

func (p *partition) finish(f *flight, err error) {
	p.mu.Lock()
	if err != nil {
		f.state, f.err = failed, err
	} else {
		f.state = done
	}
	p.mu.Unlock()
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// retryFailed sends refused batches again with backoff, until none is
// refused or ctx ends (a rebalance, the shutdown, the drain's deadline):
// then it returns at once and leaves the refused batches failed, never
// committed, so their records are read again. Nothing after a refused batch
// is committed meanwhile.
func (p *partition) retryFailed(ctx context.Context) {
	for {
		var f *flight
		p.mu.Lock()
		for _, x := range p.inflight {
			if x.state == failed {
				f = x
				break
			}
		}
		p.mu.Unlock()
		if f == nil {
			return
		}
		// The attempt count is the flight's: a refusal that arrives after
		// this returned (a Write that failed, not the admission) goes on
		// from the delay it reached.
		if f.tries == 0 || f.tries%10 == 0 {
			p.s.log.Warn("destinations refused a kafka batch; sending it again (offsets after it wait)", "partition", p.label,
				"offsets", fmt.Sprintf("%d-%d", f.lo, f.hi), "tries", f.tries, "err", f.err)
		}
		if !backoff.Sleep(ctx, retryDelay(f.tries)) {
			return
		}
		f.tries++
		p.mu.Lock()
		f.state = pending
		p.mu.Unlock()
		p.emit(ctx, f)
	}
}

// commit commits the highest contiguous accepted offset, at most every
// commit_interval unless forced.
func (p *partition) commit(force bool) {
	p.mu.Lock()
	k := 0
	for k < len(p.inflight) && p.inflight[k].state == done {
		p.accepted = p.inflight[k].hi + 1
		p.inflight[k].b.Release()
		k++
	}
	p.inflight = append(p.inflight[:0], p.inflight[k:]...)
	next := p.accepted
	p.mu.Unlock()
	if next == p.committed || !(force || time.Since(p.lastCommit) >= p.s.cfg.CommitInterval) {
		return
	}
	p.lastCommit = time.Now()
	if err := p.gen.CommitOffsets(map[string]map[int]int64{p.topic: {p.id: next}}); err != nil {
		p.s.m.commitErrs.Inc()
		p.s.log.Warn("kafka offset commit failed (retried; uncommitted records are read again after a rebalance)", "partition", p.label, "offset", next, "err", err)
		return
	}
	p.committed = next
	p.comm.Set(float64(next))
}

// drain flushes, waits up to drain_timeout for in-flight batches (sending
// refused ones again meanwhile), commits the contiguous prefix, and leaves
// batches still in flight to a reaper that releases them after their Ack.
func (p *partition) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), p.s.cfg.DrainTimeout)
	defer cancel()
	p.settle(ctx)
	p.commit(true)
	p.mu.Lock()
	left := p.inflight
	p.inflight = nil
	p.mu.Unlock()
	if len(left) > 0 {
		p.s.log.Warn("kafka: batches still in flight at the end of the drain; their records will be read again", "partition", p.label, "batches", len(left))
	}
	p.reap(left)
	p.b.Release()
}

// settle flushes and waits until ctx ends or no batch in flight may still
// be accepted (sending refused ones again meanwhile), committing the
// contiguous prefix as it goes.
func (p *partition) settle(ctx context.Context) {
	p.flush(ctx)
	for ctx.Err() == nil {
		p.commit(false)
		p.mu.Lock()
		n := 0 // flights that may still be accepted
		for _, f := range p.inflight {
			if f.state == pending || f.state == failed {
				n++
			}
		}
		p.mu.Unlock()
		if n == 0 {
			break
		}
		p.retryFailed(ctx)
		select {
		case <-p.notify:
		case <-ctx.Done():
		}
	}
}

// reap releases the batches left in flight at the end of a drain, each
// after its Ack.
func (p *partition) reap(left []*flight) {
	for _, f := range left {
		p.mu.Lock() // a late Ack's finish writes the state
		st := f.state
		p.mu.Unlock()
		if st != pending {
			f.b.Release()
			continue
		}
		p.s.reapers.Add(1)
		go func(f *flight) { // the engine still reads it: release after the Ack
			defer p.s.reapers.Done()
			for {
				p.mu.Lock()
				st := f.state
				p.mu.Unlock()
				if st != pending {
					f.b.Release()
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}(f)
	}
}

func retryDelay(attempt int) time.Duration {
	return min(100*time.Millisecond<<min(attempt, 6), 5*time.Second)
}

// ProtoEdge is the quarantine protocol of a record a logrouter edge wrote
// (its priority header says so): replayed as the gateway reads it, its
// logrouter.* kept and no source profile applied again.
const ProtoEdge = "kafka-edge"

// controlRecord reports whether m has the exact shape of a transaction
// marker, the record a transactional producer's commit or abort writes to
// every partition it wrote to (NiFi's PublishKafka by default, Kafka
// Connect and Flink exactly-once): key int16 version 0 and int16 type (0
// abort, 1 commit), value int16 version 0 and int32 coordinator epoch, no
// headers (Kafka protocol guide, "Control Batches": "should not be passed
// on to applications"). kafka-go does not read the batch's control flag and
// hands markers over as records (segmentio/kafka-go#1446); as events they
// were quarantined as invalid JSON, or delivered as six NUL bytes. No log
// record has this shape: a six-byte binary value.
func controlRecord(m *kafka.Message) bool {
	k, v := m.Key, m.Value
	return len(k) == 4 && k[0] == 0 && k[1] == 0 && k[2] == 0 && k[3] <= 1 &&
		len(v) == 6 && v[0] == 0 && v[1] == 0 && len(m.Headers) == 0
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// fromLogrouter reports whether a record was written by a logrouter's
// kafka destination: it carries its priority header.
func fromLogrouter(hs []kafka.Header) bool {
	for _, h := range hs {
		if h.Key == kafkasink.HeaderPriority {
			return true
		}
	}
	return false
}
