package kafka

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol/metadata"
)

// A Write sends its own produce requests, one per partition batch, with
// kafka-go's Client under the Write's context (write_timeout): nothing of a
// Write is sent after it returned, and it knows which partitions
// acknowledged. (kafka-go's Writer merges concurrent Writes into shared
// batches that it keeps sending after a Write gave up: during a broker
// stall every retry of the queue added one more copy of the batch to its
// backlog, all written when the broker answered again, and a timeout lost
// the acknowledgements of the partitions that had answered.)

// maxInflightRequests bounds the produce requests one Write has in flight.
const maxInflightRequests = 16

// retryMin and retryMax bound the backoff between attempts of one request.
const (
	retryMin = 100 * time.Millisecond
	retryMax = time.Second
)

// request is one produce request of a Write: the messages st.order[lo:hi],
// all of one topic partition.
type request struct {
	topic  string
	part   int
	lo, hi int
	// outcome
	answered bool          // the broker answered (err is its verdict)
	err      error         // nil: every record stored
	recErrs  map[int]error // per record (index from lo), with err
}

// assign computes each message's partition (murmur2 of the key over the
// topic's partition count, as the Java client's default partitioner) and
// cuts the messages into requests of one partition and at most batch_bytes
// (and batchSize messages, when set).
func (s *Sink) assign(st *writeState) {
	st.part = slices.Grow(st.part[:0], len(st.msgs))[:len(st.msgs)]
	var bal kafkago.Murmur2Balancer
	for i := range st.msgs {
		n := st.nparts[st.tix[i]]
		st.part[i] = int32(bal.Balance(st.msgs[i], partitionList(n)...))
	}
	st.order = slices.Grow(st.order[:0], len(st.msgs))[:0]
	for i := range st.msgs {
		st.order = append(st.order, int32(i))
	}
	slices.SortStableFunc(st.order, func(a, b int32) int {
		if c := cmp.Compare(st.tix[a], st.tix[b]); c != 0 {
			return c
		}
		return cmp.Compare(st.part[a], st.part[b])
	})
	st.reqs = st.reqs[:0]
	for lo := 0; lo < len(st.order); {
		first := st.order[lo]
		size, hi := 0, lo
		for hi < len(st.order) {
			m := st.order[hi]
			if st.tix[m] != st.tix[first] || st.part[m] != st.part[first] {
				break
			}
			sz := len(st.msgs[m].Value) + recordOverhead
			if hi > lo && (int64(size+sz) > s.cfg.BatchBytes || (s.batchSize > 0 && hi-lo >= s.batchSize)) {
				break
			}
			size += sz
			hi++
		}
		st.reqs = append(st.reqs, request{topic: st.msgs[first].Topic, part: int(st.part[first]), lo: lo, hi: hi})
		lo = hi
	}
}

// partitionList returns [0, n), shared read-only.
func partitionList(n int) []int {
	if n < len(partitionLists) {
		return partitionLists[n]
	}
	l := make([]int, n)
	for i := range l {
		l[i] = i
	}
	return l
}

var partitionLists = func() (ls [257][]int) {
	for n := range ls {
		ls[n] = make([]int, n)
		for i := range n {
			ls[n][i] = i
		}
	}
	return ls
}()

// produce sends st.reqs, at most maxInflightRequests at a time, and records
// every message that was not stored as an item of st. It returns when every
// request was answered or ctx ended.
func (s *Sink) produce(ctx, parent context.Context, st *writeState) {
	sem := make(chan struct{}, maxInflightRequests)
	var wg sync.WaitGroup
	for k := range st.reqs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(r *request) {
			defer wg.Done()
			defer func() { <-sem }()
			s.send(ctx, st, r)
		}(&st.reqs[k])
	}
	wg.Wait()

	var iso []int32 // messages of requests refused with a permanent code
	for k := range st.reqs {
		r := &st.reqs[k]
		s.settle(ctx, parent, st, r, st.order[r.lo:r.hi], &iso)
	}
	if len(iso) > 0 {
		s.isolate(ctx, parent, st, iso)
	}
}

// settle records the outcome of request r, which sent msgs: every message
// not stored becomes an item of st, except those of a request refused with
// a permanent code about the whole request, which are added to iso (up to
// maxIsolated) to be sent alone, and those of a request refused as too
// large (MESSAGE_TOO_LARGE: the compressed batch is larger than the
// topic's max.message.bytes, while each event fits), which are sent again
// in halves at once (bisect).
func (s *Sink) settle(ctx, parent context.Context, st *writeState, r *request, msgs []int32, iso *[]int32) {
	if !r.answered {
		// Not answered within the Write's time: perhaps stored (at least
		// once), and the request may still be on the wire, so the buffers
		// are not reused.
		st.reusable = false
		err := s.callError(parent, cmp.Or(ctx.Err(), r.err, context.DeadlineExceeded))
		for _, m := range msgs {
			st.fail(int(st.idx[m]), 0, err)
		}
		return
	}
	if r.err == nil {
		return
	}
	perm, code := classify(r.err)
	tooLarge := perm && len(r.recErrs) == 0 && errors.Is(r.err, kafkago.MessageSizeTooLarge)
	switch {
	case tooLarge && len(msgs) > 1 && ctx.Err() == nil:
		s.bisect(ctx, parent, st, r, msgs, iso)
		return
	case tooLarge && len(msgs) == 1:
		err := fmt.Errorf("%w: the event (%d bytes) is larger than topic %q accepts: lower max_message_bytes to the broker's message.max.bytes (and the topic's max.message.bytes) so that such events are refused before sending, or raise those limits", r.err, len(st.msgs[msgs[0]].Value), r.topic)
		st.fail(int(st.idx[msgs[0]]), code, st.wrap(s, r.topic, err, true))
		return
	}
	for j, m := range msgs {
		if rerr, ok := r.recErrs[j]; ok {
			// The broker named this record: it alone is at fault.
			st.fail(int(st.idx[m]), code, st.wrap(s, r.topic, fmt.Errorf("%w: %v", r.err, rerr), perm))
			continue
		}
		switch {
		case len(r.recErrs) > 0:
			// The batch was refused for other records: these are fine.
			st.fail(int(st.idx[m]), code, st.wrap(s, r.topic, r.err, false))
		case perm && len(msgs) > 1 && len(*iso) < maxIsolated:
			*iso = append(*iso, m)
		default:
			// A permanent code past maxIsolated is reported retryable:
			// the next attempts isolate it.
			st.fail(int(st.idx[m]), code, st.wrap(s, r.topic, r.err, perm && len(msgs) == 1))
		}
	}
}

// bisect sends msgs, which the broker refused together as too large, as
// two requests of half of them each (and those in halves again while they
// are refused so), settling each: a batch_bytes above what the topic takes
// compressed costs a few more requests, not the events past maxIsolated
// waiting for the queue's backoff. A message refused alone is permanent
// (isolate's explanation).
func (s *Sink) bisect(ctx, parent context.Context, st *writeState, r *request, msgs []int32, iso *[]int32) {
	mid := len(msgs) / 2
	for _, half := range [2][]int32{msgs[:mid], msgs[mid:]} {
		h := request{topic: r.topic, part: r.part}
		s.sendMessages(ctx, st, &h, half, maxAttempts)
		s.settle(ctx, parent, st, &h, half, iso)
	}
}

// isolate sends each message of iso alone, to tell which of them a
// permanent code about their request is about (see the package
// documentation): only a message refused alone is permanent.
func (s *Sink) isolate(ctx, parent context.Context, st *writeState, iso []int32) {
	for _, m := range iso {
		r := request{topic: st.msgs[m].Topic, part: int(st.part[m])}
		one := [1]int32{m}
		s.sendMessages(ctx, st, &r, one[:], 1)
		s.settle(ctx, parent, st, &r, one[:], nil)
	}
}

// send sends request r, retrying what the cluster may fix by itself
// (leadership moves, under-replication, broken connections) up to
// maxAttempts times within ctx.
func (s *Sink) send(ctx context.Context, st *writeState, r *request) {
	s.sendMessages(ctx, st, r, st.order[r.lo:r.hi], maxAttempts)
}

func (s *Sink) sendMessages(ctx context.Context, st *writeState, r *request, msgs []int32, attempts int) {
	recs := records{msgs: st.msgs, order: msgs}
	for attempt := 0; attempt < attempts; attempt++ {
		if attempt > 0 {
			d := min(retryMin<<(attempt-1), retryMax)
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		recs.next = 0
		res, err := s.cur.Load().client.Produce(ctx, &kafkago.ProduceRequest{
			Topic: r.topic, Partition: r.part, RequiredAcks: s.acks, Compression: s.codec, Records: &recs,
		})
		if err != nil {
			if ctx.Err() != nil {
				r.err = err
				return // not answered
			}
			r.err = err            // network, TLS, a broken connection: retried
			s.refreshMetadata(ctx) // a broker gone: its partitions get new leaders
			continue
		}
		r.answered, r.err, r.recErrs = true, nil, nil
		if res == nil { // required_acks none: no answer to wait for
			return
		}
		if res.Error == nil {
			return
		}
		r.err, r.recErrs = res.Error, res.RecordErrors
		if perm, _ := classify(res.Error); perm || !retriable(res.Error) {
			return
		}
		if staleLeader(res.Error) {
			s.refreshMetadata(ctx)
		}
		r.answered = attempt == attempts-1 // retried below; answered if it was the last try
		if r.answered {
			return
		}
	}
	// Attempts used up on transport errors: the broker never answered
	// this request; the last error says why.
}

// staleLeader reports whether err says that the request went to a broker
// that no longer leads the partition (a rolling restart, a reassignment).
func staleLeader(err error) bool {
	return errors.Is(err, kafkago.NotLeaderForPartition) || errors.Is(err, kafkago.LeaderNotAvailable) ||
		errors.Is(err, kafkago.FencedLeaderEpoch) || errors.Is(err, kafkago.UnknownLeaderEpoch)
}

// refreshMetadata gives the sink a transport that has read the cluster's
// layout anew, at most once a second: kafka-go's Transport refreshes it
// only every 6 s and until then sends every request of a partition whose
// leadership moved to the old leader (NOT_LEADER_FOR_PARTITION each time;
// a leader move failed writes for up to 6 s). A new transport is built and
// asked for the metadata (within 5 s); only once it has them does it
// replace the current one, whose requests under way finish (its pool is
// reference counted): while the brokers named in brokers cannot be reached
// the current transport, which keeps its last known layout, stays. A
// transport given with WithTransport is its owner's, never replaced.
func (s *Sink) refreshMetadata(ctx context.Context) {
	cur := s.cur.Load()
	if cur.own == nil || s.newOwn == nil {
		return
	}
	now := time.Now().UnixNano()
	last := s.refreshed.Load()
	if now-last < int64(time.Second) || !s.refreshed.CompareAndSwap(last, now) {
		return
	}
	fresh := s.newOwn()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := fresh.RoundTrip(pctx, s.addr, &metadata.Request{}); err != nil {
		fresh.CloseIdleConnections()
		return
	}
	// Called within a Write: Close, which closes the current transport,
	// runs only after it.
	if !s.cur.CompareAndSwap(cur, s.transport(fresh, fresh)) {
		fresh.CloseIdleConnections()
		return
	}
	cur.own.CloseIdleConnections()
}

// retriable reports whether a produce error may go away by itself within a
// Write (kafka-go's Writer retried these): leadership changes,
// under-replication, timeouts.
func retriable(err error) bool {
	var kerr kafkago.Error
	if !errors.As(err, &kerr) {
		return true
	}
	return kerr.Temporary()
}

// records is a RecordReader over messages of a Write (no copy, no
// allocation per record): the values live in the Write's arena.
type records struct {
	msgs  []kafkago.Message
	order []int32
	next  int
	rec   kafkago.Record
	key   bytesRC
	value bytesRC
}

func (r *records) ReadRecord() (*kafkago.Record, error) {
	if r.next >= len(r.order) {
		return nil, io.EOF
	}
	m := &r.msgs[r.order[r.next]]
	r.next++
	r.rec = kafkago.Record{Time: m.Time, Headers: m.Headers}
	r.key.Reset(m.Key)
	r.rec.Key = &r.key
	r.value.Reset(m.Value)
	r.rec.Value = &r.value
	return &r.rec, nil
}

// bytesRC is the kafka-go Bytes of a record's key or value.
type bytesRC struct{ bytes.Reader }

func (*bytesRC) Close() error { return nil }
