// Package kafka is the Kafka output destination ("type: kafka"). It is how
// edge logrouter instances forward events to a central gateway, which
// consumes the topic(s) as one consumer group.
//
// # Keys, partitions and deduplication
//
// Every event becomes one Kafka record whose value is the event's normalized
// JSON (Event.Raw), whose key is the event's content hash (Event.Hash, 8
// bytes big-endian) and whose timestamp is the event's time (Event.Time).
// Records are partitioned with murmur2 of the key, the Java client's default
// partitioner, so a key lands where a Java (or librdkafka "murmur2_random")
// producer would put it. Identical events therefore get identical keys
// wherever they were collected: duplicates sent by different edges, and the
// redeliveries of one edge after a retry, land in the same partition, hence
// in the same gateway instance of the consumer group, so each instance's
// local deduplication is effective cluster-wide. Changing a topic's partition
// count moves keys to other partitions (and instances) and weakens
// deduplication until the instances' windows have turned over.
//
// Each record also carries the header "logrouter-priority" with the event's
// priority: "P1", "P2" or "P3".
//
// # Topics
//
// The "topic" setting is a fixed name or a template with {priority} ("p1",
// "p2", "p3") and {source_type} (the event's source type, bytes outside
// [A-Za-z0-9._-] replaced by '_', at most 200 bytes), for example
// "logs-{priority}". Names are rendered once per (priority, source type) and
// cached, never per event. Topics are never created automatically: an event
// whose topic does not exist fails with a retryable error, so the durable
// queue keeps it (and retries, picking the topic up within seconds of its
// creation) until an operator creates the topic. A missing topic never sends
// events to quarantine, and never holds back events bound for other topics.
//
// # Delivery and errors
//
// Write is synchronous: it returns nil once the broker acknowledged every
// message of the batch (with required_acks all, once every in-sync replica
// has it), or an error within write_timeout. Delivery is at least once: a
// Write that timed out may still have been written, and the queue sends the
// batch again; the gateway's deduplication by key absorbs the copies.
//
// Outcomes are per message: when only some messages failed, Write returns a
// *pipeline.BatchError with one ItemError per failed event (Status is the
// Kafka error code, 0 when there is none). Permanent items go to the
// destination's quarantine, the others are retried alone. A failure is
// permanent only when the message itself is at fault:
//
//	cause                                            outcome
//	event larger than max_message_bytes (checked     permanent, not sent
//	  before sending, with the record overhead)
//	MESSAGE_TOO_LARGE, CORRUPT_MESSAGE (kafka-go's   permanent, once the message
//	  InvalidMessage), INVALID_MESSAGE_SIZE,           was sent again alone (see
//	  INVALID_RECORD, INVALID_TIMESTAMP,               below) and still failed
//	  INVALID_TOPIC_EXCEPTION
//	UNKNOWN_TOPIC_OR_PARTITION (topic missing)       retryable: waits for an operator
//	NOT_LEADER_FOR_PARTITION, LEADER_NOT_AVAILABLE,  retryable (kafka-go also retries
//	  REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS(_AFTER_   these inside one Write)
//	  APPEND), NETWORK_EXCEPTION, KAFKA_STORAGE_ERROR,
//	  any other temporary code
//	TOPIC/CLUSTER_AUTHORIZATION_FAILED, SASL or TLS  retryable: operator fixes
//	  failures, UNSUPPORTED_COMPRESSION_TYPE,
//	  RECORD_LIST_TOO_LARGE, any other or unknown code
//	connection refused/reset, EOF, timeouts,         retryable (a plain error when no
//	  write_timeout exceeded, ctx canceled             event of the batch was delivered)
//
// Kafka answers a produce request per partition batch, and kafka-go merges
// the messages of concurrent Writes into one batch per partition, so a
// permanent code does not say which message was at fault (a batch of good
// events that compresses to more than the broker's message.max.bytes gets
// MESSAGE_TOO_LARGE too). Messages that fail with a permanent code are
// therefore sent again one per request, up to 64 per Write (the rest are
// reported retryable and isolated by the next attempts), and only those that
// fail alone are reported permanent: a bad event never takes its neighbours
// to quarantine.
//
// Write copies every event's bytes into a pooled buffer before handing them
// to kafka-go, because kafka-go keeps referencing the messages of a Write
// that returned early (ctx ended) until its produce requests complete, and
// the caller reuses the batch as soon as Write returns. Write allocates O(1)
// per batch (messages, keys and values live in pooled buffers) beyond what
// kafka-go allocates per message (about four, for its metadata look-ups),
// and logs nothing; the queue in front of the destination counts outcomes.
package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"slices"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/logrouter/logrouter/internal/kafkacfg"
	"github.com/segmentio/kafka-go/protocol/metadata"

	"github.com/logrouter/logrouter/pipeline"
)

// HeaderPriority is the record header that carries the event's priority
// ("P1", "P2" or "P3").
const HeaderPriority = "logrouter-priority"

// recordOverhead bounds what one record adds to its event's bytes, in the
// broker's measure (a v2 batch header of 61 bytes, the record's varints, the
// 8-byte key and the priority header: about 120 bytes) and in kafka-go's
// (Message.totalSize: 55 bytes), so an event of up to MaxMessageBytes -
// recordOverhead bytes fits a message on its own and never trips kafka-go's
// whole-call size check.
const recordOverhead = 128

// maxIsolated bounds how many messages one Write sends again one by one to
// tell which of them a permanent batch-level error is about.
const maxIsolated = 64

// maxAttempts is kafka-go's retry budget per produce batch (it retries
// temporary codes and broken connections with 100ms..1s backoff). It is low
// because the durable queue retries forever anyway, and because a batch
// abandoned by a timed-out Write keeps retrying in the background.
const maxAttempts = 3

// defaultBatchSize is kafka-go's per-partition message-count limit. kafka-go
// preallocates that many Message slots (about 150 bytes each) for every
// partition batch, even one that times out with a few messages, so it is
// kept moderate: 500 typical events are about 350 KB, a third of the default
// batch_bytes. (100, 250, 500 and 1000 were within noise of each other in
// BenchmarkWrite; 1000 allocated 1.7 times as much per serial Write.)
const defaultBatchSize = 500

// clientID identifies the destination to the brokers (quotas, logs).
const clientID = "logrouter"

var priorityHeaders = func() (h [pipeline.NumPriorities][]kafkago.Header) {
	for p := range h {
		v := []byte(pipeline.Priority(p).String())
		// Shared read-only by every message: full slice expressions so
		// that nothing can append into them.
		h[p] = []kafkago.Header{{Key: HeaderPriority, Value: v[:len(v):len(v)]}}[:1:1]
	}
	return h
}()

// Option changes how New builds a Sink; the zero set of options is the
// production setting.
type Option func(*options)

type options struct {
	rt          kafkago.RoundTripper
	metadataTTL time.Duration
	batchSize   int
}

// WithTransport makes the sink use rt (for example a kafka-go *Transport
// shared with other clients of the same cluster) instead of building its own
// from the tls and sasl settings. The caller owns rt: Close does not close
// its connections.
func WithTransport(rt kafkago.RoundTripper) Option {
	return func(o *options) { o.rt = rt }
}

// withMetadataTTL sets how often the transport refreshes the cluster
// metadata (default 6s): how soon a new topic is used (for tests).
func withMetadataTTL(d time.Duration) Option {
	return func(o *options) { o.metadataTTL = d }
}

// withBatchSize overrides defaultBatchSize (for benchmarks).
func withBatchSize(n int) Option {
	return func(o *options) { o.batchSize = n }
}

// Sink is the Kafka destination. It implements pipeline.Sink.
//
// Write is safe for concurrent use and is meant to be called from many
// goroutines: they share one kafka-go Writer, which merges their messages
// into one produce request per partition every batch_timeout.
type Sink struct {
	name   string
	cfg    Config
	topics *topicTemplate
	addr   net.Addr
	rt     kafkago.RoundTripper
	own    *kafkago.Transport // built by New, closed by Close; nil with WithTransport
	w      *kafkago.Writer    // batching writer for every Write
	single *kafkago.Writer    // one message per request, to isolate permanent failures
	maxRaw int                // largest Event.Raw sent

	gate pipeline.Gate
}

var _ pipeline.Sink = (*Sink)(nil)

// New validates cfg (with defaults applied) and returns a Sink. It does not
// contact the brokers: the first Write does, and reports an unreachable
// cluster as a retryable error. TLS files are read here.
func New(name string, cfg Config, opts ...Option) (*Sink, error) {
	if name == "" {
		return nil, errors.New("kafka: destination name must not be empty")
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	topics, err := parseTopic(cfg.Topic)
	if err != nil {
		return nil, err
	}
	codec, _ := compressionCodec(cfg.Compression)
	acks, _ := requiredAcks(cfg.RequiredAcks)
	s := &Sink{
		name:   name,
		cfg:    cfg,
		topics: topics,
		addr:   kafkago.TCP(cfg.Brokers...),
		rt:     o.rt,
		maxRaw: cfg.MaxMessageBytes - recordOverhead,
	}
	if s.rt == nil {
		tc, err := kafkacfg.TLSConfig(cfg.TLS)
		if err != nil {
			return nil, fmt.Errorf("kafka %s: %w", name, err)
		}
		mech, err := kafkacfg.Mechanism(cfg.SASL)
		if err != nil {
			return nil, fmt.Errorf("kafka %s: %w", name, err)
		}
		s.own = &kafkago.Transport{
			DialTimeout: min(10*time.Second, cfg.WriteTimeout),
			ClientID:    clientID,
			TLS:         tc,
			SASL:        mech,
			MetadataTTL: o.metadataTTL,
		}
		s.rt = s.own
	}
	batchSize := o.batchSize
	if batchSize <= 0 {
		batchSize = defaultBatchSize
	}
	writer := func(batchSize, attempts int) *kafkago.Writer {
		return &kafkago.Writer{
			Addr:                   s.addr,
			Balancer:               &kafkago.Murmur2Balancer{},
			MaxAttempts:            attempts,
			BatchSize:              batchSize,
			BatchBytes:             cfg.BatchBytes,
			BatchTimeout:           cfg.BatchTimeout,
			ReadTimeout:            cfg.WriteTimeout,
			WriteTimeout:           cfg.WriteTimeout,
			RequiredAcks:           acks,
			Async:                  false,
			Compression:            codec,
			Transport:              s.rt,
			AllowAutoTopicCreation: false,
		}
	}
	s.w = writer(batchSize, maxAttempts)
	// One message per request and no retry inside kafka-go: isolation
	// must fit the rest of the Write's time, and a retryable outcome is
	// retried by the queue anyway.
	s.single = writer(1, 1)
	return s, nil
}

// Name returns the destination name given to New.
func (s *Sink) Name() string { return s.name }

// Write sends every event of b and returns once the brokers acknowledged all
// of them (nil), or with an error: a *pipeline.BatchError when some events
// were delivered or some failed permanently, a plain retryable error when
// none was delivered, ctx's error when ctx ended first. Write takes at most
// write_timeout. An empty batch is a no-op. After Close it returns
// pipeline.ErrClosed.
//
// Write does not retain b or any Event.Raw: the records' keys and values are
// copies (see writeState).
func (s *Sink) Write(ctx context.Context, b *pipeline.Batch) error {
	if !s.gate.Enter() {
		return pipeline.ErrClosed
	}
	defer s.gate.Exit()
	if err := ctx.Err(); err != nil {
		return err
	}
	if b == nil || len(b.Events) == 0 {
		return nil
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	defer cancel()

	st := statePool.Get().(*writeState)
	st.build(s, b)
	if len(st.msgs) > 0 {
		if err := s.checkTopics(ctx, st); err != nil {
			st.release(true)
			return s.callError(parent, err)
		}
	}
	if len(st.msgs) > 0 {
		err := s.w.WriteMessages(ctx, st.msgs...)
		// WriteMessages returns WriteErrors as is, never wrapped.
		werrs, partial := err.(kafkago.WriteErrors) //nolint:errorlint
		switch {
		case err == nil:
		case partial && len(werrs) == len(st.msgs):
			s.writeErrors(ctx, st, werrs)
		default:
			// WriteMessages may have returned before kafka-go finished
			// with the messages (ctx ended): the buffers must not be
			// reused.
			st.release(false)
			return s.callError(parent, err)
		}
	}
	err := st.result(s, len(b.Events))
	st.release(st.reusable)
	return err
}

// callError turns an error that failed a whole Write into the error Write
// returns. Such errors are always retryable.
func (s *Sink) callError(parent context.Context, err error) error {
	switch {
	case errors.Is(err, io.ErrClosedPipe):
		return pipeline.ErrClosed
	case parent.Err() != nil:
		return fmt.Errorf("kafka %s: %w", s.name, parent.Err())
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("kafka %s: the brokers did not acknowledge the batch within write_timeout %s (the queue sends it again): %w", s.name, s.cfg.WriteTimeout, err)
	}
	return fmt.Errorf("kafka %s: %w", s.name, err)
}

// checkTopics looks up the batch's topics in the transport's metadata cache
// (refreshed every few seconds, no round trip otherwise) and takes the
// messages of missing or failing topics out of the batch as retryable (or,
// for an invalid name, permanent) items. kafka-go would otherwise fail the
// whole WriteMessages call for one missing topic.
func (s *Sink) checkTopics(ctx context.Context, st *writeState) error {
	r, err := s.rt.RoundTrip(ctx, s.addr, &metadata.Request{TopicNames: st.topics})
	if err != nil {
		return fmt.Errorf("looking up topics: %w", err)
	}
	res, ok := r.(*metadata.Response)
	if !ok {
		return fmt.Errorf("looking up topics: unexpected response %T", r)
	}
	st.bad = st.bad[:0]
	for i := range st.topics {
		name := st.topics[i]
		var t *metadata.ResponseTopic
		for j := range res.Topics {
			if res.Topics[j].Name == name {
				t = &res.Topics[j]
				break
			}
		}
		var terr error
		switch {
		case t == nil || t.ErrorCode == int16(kafkago.UnknownTopicOrPartition):
			terr = fmt.Errorf("kafka %s: topic %q does not exist (topics are not created automatically): create it; its events stay queued until then: %w", s.name, name, kafkago.UnknownTopicOrPartition)
		case t.ErrorCode != 0:
			kerr := kafkago.Error(t.ErrorCode)
			terr = fmt.Errorf("kafka %s: topic %q: %w", s.name, name, kerr)
			if perm, _ := classify(kerr); perm {
				terr = pipeline.Permanent(terr)
			}
		case len(t.Partitions) == 0:
			terr = fmt.Errorf("kafka %s: topic %q has no partitions yet: %w", s.name, name, kafkago.LeaderNotAvailable)
		default:
			continue
		}
		var code int16
		if t != nil {
			code = t.ErrorCode
		}
		st.bad = append(st.bad, badTopic{name: name, code: code, err: terr})
	}
	if len(st.bad) == 0 {
		return nil
	}
	// Drop the messages of bad topics, keeping the order of the others.
	n := 0
	for i := range st.msgs {
		if bt := st.badTopic(st.msgs[i].Topic); bt != nil {
			st.fail(int(st.idx[i]), bt.code, bt.err)
			continue
		}
		st.msgs[n], st.idx[n] = st.msgs[i], st.idx[i]
		n++
	}
	clear(st.msgs[n:])
	st.msgs, st.idx = st.msgs[:n], st.idx[:n]
	return nil
}

// writeErrors records the per-message outcome of a WriteMessages call that
// failed in part. Messages with a permanent code are sent again one per
// request (see the package documentation).
func (s *Sink) writeErrors(ctx context.Context, st *writeState, werrs kafkago.WriteErrors) {
	st.iso = st.iso[:0]
	for i, err := range werrs {
		if err == nil {
			continue
		}
		perm, code := classify(err)
		if perm && len(st.iso) < maxIsolated {
			st.iso = append(st.iso, int32(i))
			continue
		}
		// A permanent code past maxIsolated is reported retryable: the
		// next attempt isolates it.
		st.fail(int(st.idx[i]), code, st.wrap(s, st.msgs[i].Topic, err, false))
	}
	if len(st.iso) == 0 {
		return
	}
	st.isoMsgs = st.isoMsgs[:0]
	for _, i := range st.iso {
		st.isoMsgs = append(st.isoMsgs, st.msgs[i])
	}
	err := s.single.WriteMessages(ctx, st.isoMsgs...)
	clear(st.isoMsgs)
	if err == nil {
		return
	}
	alone, ok := err.(kafkago.WriteErrors) //nolint:errorlint // returned as is
	if !ok || len(alone) != len(st.iso) {
		st.reusable = false // kafka-go may still hold the messages
		for _, i := range st.iso {
			st.fail(int(st.idx[i]), 0, st.wrap(s, st.msgs[i].Topic, err, false))
		}
		return
	}
	for j, err := range alone {
		if err == nil {
			continue
		}
		i := st.iso[j]
		perm, code := classify(err)
		if perm && errors.Is(err, kafkago.MessageSizeTooLarge) {
			err = fmt.Errorf("%w: the event (%d bytes) is larger than topic %q accepts: lower max_message_bytes to the broker's message.max.bytes (and the topic's max.message.bytes) so that such events are refused before sending, or raise those limits", err, len(st.msgs[i].Value), st.msgs[i].Topic)
		}
		st.fail(int(st.idx[i]), code, st.wrap(s, st.msgs[i].Topic, err, perm))
	}
}

// Close flushes what kafka-go still holds, waits for the Writes in flight and
// closes the connections. It is idempotent; ctx bounds the wait (the closing
// then finishes in the background). After Close, Write returns
// pipeline.ErrClosed.
func (s *Sink) Close(ctx context.Context) error {
	err := s.gate.Close(ctx, func() error {
		err := errors.Join(s.w.Close(), s.single.Close())
		if s.own != nil {
			s.own.CloseIdleConnections()
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("kafka %s: close: %w", s.name, err)
	}
	return nil
}

// writeState is one Write's scratch space, pooled so that a Write allocates
// O(1) per batch.
//
// Ownership of the record bytes: kafka-go does not copy Message.Key or
// Message.Value; its partition writers keep the Message structs (and so the
// byte slices) in their batches until the produce request completes. With
// Async false, WriteMessages waits for every batch holding its messages
// (writer.go: the loop over batch.done) before it returns nil or
// WriteErrors, and kafka-go drops the batch afterwards, so buffers are free
// again then. But when ctx ends first, WriteMessages returns ctx.Err() at
// once while the batches are still queued or being sent (kafka-go documents
// this: "they might also still be written after this method has already
// returned"). Write must not retain Event.Raw after it returns, and the
// batch's arena is reused by the caller right after, so the values are
// copied into the pooled arena below, and an arena that kafka-go may still
// read is dropped rather than reused (reusable = false). The copy costs one
// memmove of the batch per Write, small next to compression.
type writeState struct {
	arena    []byte // keys and values of msgs
	msgs     []kafkago.Message
	idx      []int32 // msgs[i] is b.Events[idx[i]]
	topics   []string
	bad      []badTopic
	items    []pipeline.ItemError
	iso      []int32 // indexes in msgs sent again one by one
	isoMsgs  []kafkago.Message
	overflow map[topicKey]string // names past the sink-wide cache, this batch only
	reusable bool

	// last error wrapped, reused for the other messages of a failed batch
	lastErr, lastWrapped error
	lastTopic            string
	lastPerm             bool
}

type badTopic struct {
	name string
	code int16
	err  error
}

var statePool = sync.Pool{New: func() any { return new(writeState) }}

// Pooled buffers bigger than this are dropped rather than kept.
const (
	maxPooledArena = 16 << 20
	maxPooledMsgs  = 16 << 10
)

func (st *writeState) release(reuse bool) {
	clear(st.msgs)
	clear(st.topics)
	clear(st.bad)
	clear(st.items)
	st.msgs, st.topics, st.bad, st.items = st.msgs[:0], st.topics[:0], st.bad[:0], st.items[:0]
	st.idx, st.iso = st.idx[:0], st.iso[:0]
	st.overflow = nil
	st.lastErr, st.lastWrapped, st.lastTopic = nil, nil, ""
	if !reuse || cap(st.arena) > maxPooledArena {
		st.arena = nil
	}
	if cap(st.msgs) > maxPooledMsgs {
		st.msgs, st.idx = nil, nil
	}
	st.arena = st.arena[:0]
	statePool.Put(st)
}

// build fills msgs with one message per event of b, except the events too
// large to send, which become permanent items.
func (st *writeState) build(s *Sink, b *pipeline.Batch) {
	st.reusable = true
	n := len(b.Events)
	// Size the arena exactly, so that appends never move it under the
	// slices already handed out.
	total := 8 * n
	for i := range b.Events {
		if l := len(b.Events[i].Raw); l <= s.maxRaw {
			total += l
		}
	}
	if cap(st.arena) < total {
		st.arena = make([]byte, 0, total)
	}
	st.msgs = slices.Grow(st.msgs[:0], n)
	st.idx = slices.Grow(st.idx[:0], n)
	arena := st.arena[:0]

	var (
		have      bool
		lastPrio  pipeline.Priority
		lastSrc   string
		lastTopic string
	)
	for i := range b.Events {
		ev := &b.Events[i]
		if len(ev.Raw) > s.maxRaw {
			st.fail(i, 0, pipeline.Permanentf("kafka %s: event of %d bytes exceeds max_message_bytes %d (less %d bytes of record overhead): raise max_message_bytes together with the broker's message.max.bytes (and the topic's max.message.bytes)", s.name, len(ev.Raw), s.cfg.MaxMessageBytes, recordOverhead))
			continue
		}
		if !have || ev.Priority != lastPrio || ev.SourceType != lastSrc {
			have, lastPrio, lastSrc = true, ev.Priority, ev.SourceType
			lastTopic = st.topicFor(s.topics, ev.Priority, ev.SourceType)
			if !slices.Contains(st.topics, lastTopic) {
				st.topics = append(st.topics, lastTopic)
			}
		}
		start := len(arena)
		arena = binary.BigEndian.AppendUint64(arena, ev.Hash)
		arena = append(arena, ev.Raw...)
		m := kafkago.Message{
			Topic: lastTopic,
			Key:   arena[start : start+8 : start+8],
			Value: arena[start+8 : len(arena) : len(arena)],
		}
		if ev.Priority < pipeline.NumPriorities {
			m.Headers = priorityHeaders[ev.Priority]
		}
		if ev.Time > 0 {
			m.Time = time.Unix(0, ev.Time)
		}
		st.msgs = append(st.msgs, m)
		st.idx = append(st.idx, int32(i))
	}
	st.arena = arena
}

func (st *writeState) topicFor(t *topicTemplate, p pipeline.Priority, src string) string {
	if name, ok := t.lookup(p, src); ok {
		return name
	}
	k := topicKey{p, src}
	if name, ok := st.overflow[k]; ok {
		return name
	}
	if st.overflow == nil {
		st.overflow = make(map[topicKey]string)
	}
	name := t.render(nil, p, src)
	st.overflow[k] = name
	return name
}

func (st *writeState) badTopic(name string) *badTopic {
	for i := range st.bad {
		if st.bad[i].name == name {
			return &st.bad[i]
		}
	}
	return nil
}

func (st *writeState) fail(i int, code int16, err error) {
	st.items = append(st.items, pipeline.ItemError{Index: i, Status: int(code), Err: err})
}

// wrap names the destination and topic in err, marking it permanent when
// perm. The messages of one failed partition batch share one error value, so
// the wrapped error is reused for them.
func (st *writeState) wrap(s *Sink, topic string, err error, perm bool) error {
	if st.lastWrapped != nil && topic == st.lastTopic && perm == st.lastPerm && sameError(err, st.lastErr) {
		return st.lastWrapped
	}
	w := fmt.Errorf("kafka %s: topic %s: %w", s.name, topic, err)
	if perm {
		w = pipeline.Permanent(w)
	}
	st.lastErr, st.lastWrapped, st.lastTopic, st.lastPerm = err, w, topic, perm
	return w
}

func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	ta := reflect.TypeOf(a)
	return ta == reflect.TypeOf(b) && ta.Comparable() && a == b
}

// result is what Write returns for the items recorded.
func (st *writeState) result(s *Sink, events int) error {
	if len(st.items) == 0 {
		return nil
	}
	perm := false
	for _, it := range st.items {
		perm = perm || pipeline.IsPermanent(it.Err)
	}
	if !perm && len(st.items) == events {
		// Nothing was delivered and everything may be retried: a plain
		// error retries the whole batch.
		return fmt.Errorf("%d events not delivered: %w", events, st.items[0].Err)
	}
	items := slices.Clone(st.items)
	slices.SortFunc(items, func(a, b pipeline.ItemError) int { return a.Index - b.Index })
	return &pipeline.BatchError{Items: items}
}
