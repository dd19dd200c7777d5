// Package kafka is the Kafka output destination ("type: kafka"). It is how
// edge logrouter instances forward events to a central gateway, which
// consumes the topic(s) as one consumer group.
//
// # Keys, partitions and deduplication
//
// Every event becomes one Kafka record whose value is the event's normalized
// JSON (Event.Raw), whose key is the event's deduplication key (Event.Key,
// 8 bytes big-endian: its content hash, or the hash of dedup.key_fields when
// they are set, which the queue keeps for it) and whose timestamp is when the edge sends it (the
// broker's time-based retention reads that timestamp: an event's own time,
// a month old in a backfill or a replay, would have its record deleted
// before the gateway read it; the event's time is in its JSON).
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
// whose topic does not exist fails with a retryable error for
// missing_topic_timeout (default 30s: the topic may be being created, and is
// picked up within seconds), so the durable queue keeps it; a topic still
// missing after that is an operator's to create, and its events are
// reported permanent ("create the topic, then replay the quarantine"): the
// queue sets them aside instead of holding back the events bound for other
// topics, which it would while it retried them. A topic is called missing
// only once the brokers, asked about it by name, say so: kafka-go's cached
// listing of all topics leaves out those the user may not describe, and a
// topic behind a missing ACL is TOPIC_AUTHORIZATION_FAILED, retryable, never
// quarantined as missing.
//
// # Delivery and errors
//
// Write is synchronous: it returns nil once the broker acknowledged every
// message of the batch (with required_acks all, once every in-sync replica
// has it), or an error within write_timeout. It sends one produce request per
// partition (and batch_bytes), up to 16 at a time, with kafka-go's Client
// under its own context: nothing of a Write is sent after it returned, and
// when write_timeout ends with some partitions answered, only the others'
// events are reported failed. Delivery is at least once: a request not
// answered in time may still have been written, and the queue sends its
// events again; the gateway's deduplication by key absorbs the copies.
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
//	  INVALID_RECORD, INVALID_TOPIC_EXCEPTION          below) and still failed
//	INVALID_TIMESTAMP (the record's time is the      retryable: the router's clock
//	  send time: the clocks differ by more than        is off from the broker's; fix
//	  message.timestamp.*.max.ms)                      NTP
//	UNKNOWN_TOPIC_OR_PARTITION (topic missing)       retryable: waits for an operator
//	NOT_LEADER_FOR_PARTITION, LEADER_NOT_AVAILABLE,  retryable (retried inside one
//	  REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS(_AFTER_   Write; a leader change or a lost
//	  APPEND), NETWORK_EXCEPTION, KAFKA_STORAGE_ERROR, connection makes the sink read
//	  any other temporary code                         the cluster's layout again)
//	TOPIC/CLUSTER_AUTHORIZATION_FAILED, SASL or TLS  retryable: operator fixes
//	  failures, UNSUPPORTED_COMPRESSION_TYPE,
//	  RECORD_LIST_TOO_LARGE, any other or unknown code
//	connection refused/reset, EOF, timeouts,         retryable (a plain error when no
//	  write_timeout exceeded, ctx canceled             event of the batch was delivered)
//
// Kafka answers a produce request per partition batch, so a permanent code
// does not say which message was at fault. A batch of good events that
// compresses to more than the topic's max.message.bytes gets
// MESSAGE_TOO_LARGE: such a request is sent again at once in halves (and
// halves of those while they are refused so), so a batch_bytes above what
// the topic takes costs a few more requests. Messages that fail with
// another permanent code are sent again one per request, up to 64 per
// Write (the rest are reported retryable and isolated by the next
// attempts), and only those that fail alone are reported permanent: a bad
// event never takes its neighbours to quarantine.
//
// Write copies every event's bytes into a pooled buffer before handing them
// to kafka-go, because a request still on the wire when Write returned early
// (ctx ended) may still be reading them, and the caller reuses the batch as
// soon as Write returns. Write allocates O(1) per batch and per request
// (messages, keys and values live in pooled buffers, records are read from
// them without copies), and logs nothing; the queue in front of the
// destination counts outcomes.
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
	"sync/atomic"
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

// maxAttempts is the retry budget of one produce request within a Write
// (temporary codes and broken connections, 100ms..1s backoff). It is low
// because the durable queue retries forever anyway.
const maxAttempts = 3

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

// withBatchSize bounds the messages of one produce request (for
// benchmarks; by default batch_bytes alone bounds a request).
func withBatchSize(n int) Option {
	return func(o *options) { o.batchSize = n }
}

// Sink is the Kafka destination. It implements pipeline.Sink.
//
// Write is safe for concurrent use: each Write sends its own produce
// requests over the shared transport's connections.
type Sink struct {
	name      string
	cfg       Config
	topics    *topicTemplate
	addr      net.Addr
	cur       atomic.Pointer[transport] // swapped by refreshMetadata
	newOwn    func() *kafkago.Transport // builds a transport of the sink's settings; nil with WithTransport
	acks      kafkago.RequiredAcks
	codec     kafkago.Compression
	batchSize int // most messages per request; 0: batch_bytes alone
	maxRaw    int // largest Event.Raw sent

	// missing remembers since when each topic has been missing, for
	// missing_topic_timeout.
	missingMu   sync.Mutex
	missing     map[string]time.Time
	missingWait time.Duration

	gate pipeline.Gate

	// refreshed is when refreshMetadata last dropped the transport's
	// cluster layout (unix ns).
	refreshed atomic.Int64
}

var _ pipeline.Sink = (*Sink)(nil)

// transport is what the sink sends through: rt, and own when the sink
// built it (nil with WithTransport), with a Client over rt.
type transport struct {
	rt     kafkago.RoundTripper
	own    *kafkago.Transport
	client *kafkago.Client
}

func (s *Sink) transport(rt kafkago.RoundTripper, own *kafkago.Transport) *transport {
	return &transport{rt: rt, own: own, client: &kafkago.Client{Addr: s.addr, Transport: rt, Timeout: s.cfg.WriteTimeout}}
}

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
		name:      name,
		cfg:       cfg,
		topics:    topics,
		addr:      kafkago.TCP(cfg.Brokers...),
		acks:      acks,
		codec:     codec,
		batchSize: o.batchSize,
		maxRaw:    cfg.MaxMessageBytes - recordOverhead,
		missing:   map[string]time.Time{},
	}
	s.missingWait = cfg.MissingTopicTimeout
	if s.missingWait == 0 && o.metadataTTL > 0 {
		// Tests shorten the metadata refresh: five refreshes, as the
		// default 30s is five of the default 6s.
		s.missingWait = 5 * o.metadataTTL
	}
	if s.missingWait == 0 {
		s.missingWait = DefaultMissingTopicTimeout
	}
	if o.rt != nil {
		s.cur.Store(s.transport(o.rt, nil))
		return s, nil
	}
	tc, err := kafkacfg.TLSClient(cfg.TLS)
	if err != nil {
		return nil, fmt.Errorf("kafka %s: %w", name, err)
	}
	mech, err := kafkacfg.Mechanism(cfg.SASL)
	if err != nil {
		return nil, fmt.Errorf("kafka %s: %w", name, err)
	}
	s.newOwn = func() *kafkago.Transport {
		t := kafkacfg.Transport(min(10*time.Second, cfg.WriteTimeout), clientID, tc, mech)
		t.MetadataTTL = o.metadataTTL
		return t
	}
	own := s.newOwn()
	s.cur.Store(s.transport(own, own))
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
		s.assign(st)
		s.produce(ctx, parent, st)
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
	if hint := kafkacfg.Explain("destination "+s.name, s.cfg.SASL, "", err); hint != "" {
		// Credentials, ACLs or TLS: retried, but nothing gets through
		// until the configuration or the brokers change.
		return fmt.Errorf("kafka %s: %s: %w", s.name, hint, err)
	}
	return fmt.Errorf("kafka %s: %w", s.name, err)
}

// checkTopics looks up the batch's topics in the transport's metadata cache
// (refreshed every few seconds, no round trip otherwise) and takes the
// messages of missing or failing topics out of the batch as retryable (or,
// for an invalid name, permanent) items. kafka-go would otherwise fail the
// whole WriteMessages call for one missing topic.
func (s *Sink) checkTopics(ctx context.Context, st *writeState) error {
	r, err := s.cur.Load().rt.RoundTrip(ctx, s.addr, &metadata.Request{TopicNames: st.topics})
	if err != nil {
		return fmt.Errorf("looking up topics: %w", err)
	}
	res, ok := r.(*metadata.Response)
	if !ok {
		return fmt.Errorf("looking up topics: unexpected response %T", r)
	}
	st.bad = st.bad[:0]
	st.nparts = slices.Grow(st.nparts[:0], len(st.topics))[:len(st.topics)]
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
			// The cached listing of every topic leaves out those this
			// user may not describe: ask for it by name before calling
			// it missing.
			switch code := s.probe(ctx, name); code {
			case int16(kafkago.TopicAuthorizationFailed):
				s.foundTopic(name)
				terr = fmt.Errorf("kafka %s: topic %q: not authorized: grant this user (sasl.username) Describe and Write on the topic; its events stay queued until then: %w",
					s.name, name, kafkago.TopicAuthorizationFailed)
			case 0:
				// It exists: the cache is older than the topic.
				s.foundTopic(name)
				terr = fmt.Errorf("kafka %s: topic %q is not in the client's metadata yet: %w", s.name, name, kafkago.LeaderNotAvailable)
			default:
				terr = s.missingTopic(name)
			}
		case t.ErrorCode != 0:
			kerr := kafkago.Error(t.ErrorCode)
			terr = fmt.Errorf("kafka %s: topic %q: %w", s.name, name, kerr)
			if perm, _ := classify(kerr); perm {
				terr = pipeline.Permanent(terr)
			}
		case len(t.Partitions) == 0:
			terr = fmt.Errorf("kafka %s: topic %q has no partitions yet: %w", s.name, name, kafkago.LeaderNotAvailable)
		default:
			st.nparts[i] = len(t.Partitions)
			s.foundTopic(name)
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
		st.msgs[n], st.idx[n], st.tix[n] = st.msgs[i], st.idx[i], st.tix[i]
		n++
	}
	clear(st.msgs[n:])
	st.msgs, st.idx, st.tix = st.msgs[:n], st.idx[:n], st.tix[:n]
	return nil
}

// probe asks the brokers about topic name alone (kafkacfg.ProbeTopic): the
// error code of the answer, UNKNOWN_TOPIC_OR_PARTITION when it cannot be
// asked (the answer then is what the cache said).
func (s *Sink) probe(ctx context.Context, name string) int16 {
	own := s.cur.Load().own
	if own == nil {
		return int16(kafkago.UnknownTopicOrPartition) // a transport a test gave
	}
	code, err := kafkacfg.ProbeTopic(ctx, s.addr, own, name)
	if err != nil {
		return int16(kafkago.UnknownTopicOrPartition)
	}
	return code
}

// missingTopic is the error for the events of a topic the cluster does not
// have: retryable while it has been missing for less than
// missing_topic_timeout, permanent after (see the package documentation).
func (s *Sink) missingTopic(name string) error {
	now := time.Now()
	s.missingMu.Lock()
	since, ok := s.missing[name]
	if !ok {
		if len(s.missing) >= 4096 { // bounded: a template of source types
			clear(s.missing)
		}
		since = now
		s.missing[name] = now
	}
	s.missingMu.Unlock()
	if waited := now.Sub(since); waited >= s.missingWait {
		return pipeline.Permanent(fmt.Errorf("kafka %s: topic %q does not exist (topics are not created automatically) and has been missing for %s (missing_topic_timeout %s): create it, then replay the quarantine: %w",
			s.name, name, waited.Round(time.Second), s.missingWait, kafkago.UnknownTopicOrPartition))
	}
	return fmt.Errorf("kafka %s: topic %q does not exist (topics are not created automatically): create it; its events stay queued for missing_topic_timeout %s, then go to the quarantine: %w",
		s.name, name, s.missingWait, kafkago.UnknownTopicOrPartition)
}

// foundTopic forgets that name was missing.
func (s *Sink) foundTopic(name string) {
	s.missingMu.Lock()
	if len(s.missing) > 0 {
		delete(s.missing, name)
	}
	s.missingMu.Unlock()
}

// Close waits for the Writes in flight and closes the connections. It is
// idempotent; ctx bounds the wait (the closing then finishes in the
// background). After Close, Write returns pipeline.ErrClosed.
func (s *Sink) Close(ctx context.Context) error {
	err := s.gate.Close(ctx, func() error {
		if own := s.cur.Load().own; own != nil {
			own.CloseIdleConnections()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("kafka %s: close: %w", s.name, err)
	}
	return nil
}

// writeState is one Write's scratch space, pooled so that a Write allocates
// O(1) per batch.
//
// Ownership of the record bytes: the produce requests read Message.Key and
// Message.Value without copying them. A request answered is done with them;
// one still in flight when ctx ended may be written to its connection after
// Write returned. Write must not retain Event.Raw after it returns, and the
// batch's arena is reused by the caller right after, so the values are
// copied into the pooled arena below, and an arena a request may still read
// is dropped rather than reused (reusable = false). The copy costs one
// memmove of the batch per Write, small next to compression.
type writeState struct {
	arena    []byte // keys and values of msgs
	msgs     []kafkago.Message
	idx      []int32  // msgs[i] is b.Events[idx[i]]
	tix      []uint16 // msgs[i] goes to topics[tix[i]]
	topics   []string
	nparts   []int   // partitions of topics[i]
	part     []int32 // msgs[i]'s partition
	order    []int32 // msgs indexes by topic and partition
	reqs     []request
	bad      []badTopic
	items    []pipeline.ItemError
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
	if !reuse {
		// A request may still read the messages, their order and their
		// bytes: leave those arrays to it (untouched).
		st.arena, st.msgs, st.order = nil, nil, nil
	}
	clear(st.msgs)
	clear(st.topics)
	clear(st.bad)
	clear(st.items)
	clear(st.reqs)
	st.msgs, st.topics, st.bad, st.items = st.msgs[:0], st.topics[:0], st.bad[:0], st.items[:0]
	st.idx, st.tix, st.nparts, st.part, st.order, st.reqs = st.idx[:0], st.tix[:0], st.nparts[:0], st.part[:0], st.order[:0], st.reqs[:0]
	st.overflow = nil
	st.lastErr, st.lastWrapped, st.lastTopic = nil, nil, ""
	if cap(st.arena) > maxPooledArena {
		st.arena = nil
	}
	if cap(st.msgs) > maxPooledMsgs {
		st.msgs, st.idx, st.tix, st.part, st.order = nil, nil, nil, nil, nil
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
	st.tix = slices.Grow(st.tix[:0], n)
	arena := st.arena[:0]

	var (
		have      bool
		lastPrio  pipeline.Priority
		lastSrc   string
		lastTopic string
		lastTix   uint16
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
			k := slices.Index(st.topics, lastTopic)
			if k < 0 {
				k = len(st.topics)
				st.topics = append(st.topics, lastTopic)
			}
			lastTix = uint16(k)
		}
		start := len(arena)
		key := ev.Key // the dedup key: copies the gateway drops as repeats share a partition
		if key == 0 {
			key = ev.Hash
		}
		arena = binary.BigEndian.AppendUint64(arena, key)
		arena = append(arena, ev.Raw...)
		m := kafkago.Message{
			Topic: lastTopic,
			Key:   arena[start : start+8 : start+8],
			Value: arena[start+8 : len(arena) : len(arena)],
		}
		if ev.Priority < pipeline.NumPriorities {
			m.Headers = priorityHeaders[ev.Priority]
		}
		// No Time: the record's timestamp is the send time (see the
		// package documentation: retention).
		st.msgs = append(st.msgs, m)
		st.idx = append(st.idx, int32(i))
		st.tix = append(st.tix, lastTix)
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
