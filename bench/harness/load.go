package harness

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/segmentio/kafka-go"
	"github.com/valyala/fastjson"
)

// loadConfig is what drives the load.
type loadConfig struct {
	protos      []Protocol // worker i sends protos[i%len(protos)]
	concurrency int
	batch       int           // events per request / write
	rate        float64       // bytes per second, 0 = as fast as the router takes them
	duration    time.Duration // how long new batches are started
	retryFor    time.Duration // how long after the end a refused batch is still resent
	httpURL     string        // http://host:port of the HTTP input
	token       string
	gzip        bool
	syslogAddr  string
	kafka       *kafka.Writer
}

// loadStats counts what was sent. Events and bytes count every event sent,
// duplicates included; bytes are uncompressed request bodies, syslog frames
// or Kafka record values: what the router's input reads.
type loadStats struct {
	requests    atomic.Uint64 // requests, writes (retries included)
	retries     atomic.Uint64 // resends after 429/503, errors
	refused     atomic.Uint64 // 429/503 answers
	errors      atomic.Uint64 // transport errors
	rejected    atomic.Uint64 // events answered with a permanent error (not acknowledged, not resent)
	abandoned   atomic.Uint64 // events still refused when retryFor ran out, or bulk items refused 429/503 (not resent)
	partial     atomic.Uint64 // OTLP requests answered with partial_success: every record counted acknowledged
	eventsSent  atomic.Uint64
	eventsAcked atomic.Uint64
	bytesAcked  atomic.Uint64
}

// limiter paces bytes to a rate: each batch reserves its slot in time.
type limiter struct {
	mu   sync.Mutex
	rate float64 // bytes per second
	next time.Time
}

func (l *limiter) reserve(n int) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	t := l.next
	l.next = l.next.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
	return t
}

// adjust corrects a reservation by the difference between the estimate and
// the batch's real size.
func (l *limiter) adjust(diff int) {
	l.mu.Lock()
	l.next = l.next.Add(time.Duration(float64(diff) / l.rate * float64(time.Second)))
	l.mu.Unlock()
}

// sleepUntil waits until t; false when ctx ended or t is past end.
func sleepUntil(ctx context.Context, t, end time.Time) bool {
	if !t.Before(end) {
		return false
	}
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// runLoad drives the load until c.duration has passed, then waits for the
// batches in flight (resent for up to c.retryFor). Acknowledged events are
// marked in acked.
func runLoad(ctx context.Context, g *gen, acked *bitset, c loadConfig, st *loadStats) {
	var lim *limiter
	if c.rate > 0 {
		lim = &limiter{rate: c.rate}
	}
	start := time.Now()
	end := start.Add(c.duration)
	retryUntil := end.Add(c.retryFor)
	var client *http.Client
	var tr *http.Transport
	for _, p := range c.protos {
		if p == ProtoHEC || p == ProtoNDJSON || p == ProtoBulk || p == ProtoOTLP {
			tr = &http.Transport{
				MaxIdleConnsPerHost: c.concurrency, MaxConnsPerHost: c.concurrency,
				DisableCompression: true, IdleConnTimeout: 30 * time.Second,
				DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			}
			client = &http.Client{Transport: tr, Timeout: 2 * time.Minute}
			break
		}
	}
	var wg sync.WaitGroup
	for i := range c.concurrency {
		proto := c.protos[i%len(c.protos)]
		w := &worker{c: &c, st: st, acked: acked, proto: proto, client: client, retryUntil: retryUntil}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.close()
			var b batch
			est := c.batch * 900
			for ctx.Err() == nil && time.Now().Before(end) {
				if lim != nil && !sleepUntil(ctx, lim.reserve(est), end) {
					break
				}
				g.fill(&b, proto, c.batch)
				if lim != nil {
					lim.adjust(len(b.body) - est)
				}
				est = len(b.body)
				st.eventsSent.Add(uint64(len(b.seqs)))
				w.send(ctx, &b)
			}
		}()
	}
	wg.Wait()
	if tr != nil {
		tr.CloseIdleConnections()
	}
}

// worker is one connection's sender.
type worker struct {
	c          *loadConfig
	st         *loadStats
	acked      *bitset
	proto      Protocol
	client     *http.Client
	retryUntil time.Time

	zbuf  bytes.Buffer
	zw    *gzip.Writer
	resp  bytes.Buffer
	p     fastjson.Parser
	conn  net.Conn
	msgs  []kafka.Message
	items []int
	// itemsBusy: of a partial bulk answer, the items refused with 429/503
	// (the rest of those not in items were refused for good).
	itemsBusy int
}

func (w *worker) close() {
	if w.conn != nil {
		if tc, ok := w.conn.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		_ = w.conn.Close()
	}
}

func (w *worker) ack(b *batch) {
	for _, s := range b.seqs {
		w.acked.set(s)
	}
	w.st.eventsAcked.Add(uint64(len(b.seqs)))
	w.st.bytesAcked.Add(uint64(len(b.body)))
}

// backoff waits before a resend; false when it is too late to resend.
func (w *worker) backoff(ctx context.Context, attempt int, retryAfter string) bool {
	d := min(50*time.Millisecond<<min(attempt, 5), time.Second)
	if s, err := strconv.Atoi(retryAfter); err == nil && s > 0 {
		d = min(time.Duration(s)*time.Second, time.Second)
	}
	if time.Now().Add(d).After(w.retryUntil) {
		return false
	}
	return sleepUntil(ctx, time.Now().Add(d), w.retryUntil)
}

func (w *worker) send(ctx context.Context, b *batch) {
	switch w.proto {
	case ProtoSyslog:
		w.sendSyslog(ctx, b)
	case ProtoKafka:
		w.sendKafka(ctx, b)
	default:
		w.sendHTTP(ctx, b)
	}
}

// outcome of one answer.
type outcome int

const (
	outAck outcome = iota
	outRetry
	outReject
	outPartial // w.items lists the acknowledged events
)

func (w *worker) sendHTTP(ctx context.Context, b *batch) {
	var path, auth string
	switch w.proto {
	case ProtoHEC:
		path, auth = "/services/collector/event", "Splunk "+w.c.token
	case ProtoOTLP:
		path, auth = "/v1/logs", "Bearer "+w.c.token
	case ProtoBulk:
		path, auth = "/_bulk", "Bearer "+w.c.token
	default:
		path, auth = "/ingest", "Bearer "+w.c.token
	}
	body := b.body
	if w.c.gzip {
		if w.zw == nil {
			w.zw, _ = gzip.NewWriterLevel(&w.zbuf, gzip.BestSpeed)
		}
		w.zbuf.Reset()
		w.zw.Reset(&w.zbuf)
		_, _ = w.zw.Write(body)
		_ = w.zw.Close()
		body = w.zbuf.Bytes()
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			w.st.retries.Add(1)
		}
		w.st.requests.Add(1)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.c.httpURL+path, bytes.NewReader(body))
		if err != nil {
			panic(err)
		}
		req.Header.Set("Authorization", auth)
		switch w.proto {
		case ProtoHEC:
			req.Header.Set("Content-Type", "application/json")
		case ProtoOTLP:
			req.Header.Set("Content-Type", "application/x-protobuf")
		default:
			req.Header.Set("Content-Type", "application/x-ndjson")
		}
		if w.c.gzip {
			req.Header.Set("Content-Encoding", "gzip")
		}
		resp, err := w.client.Do(req)
		retryAfter := ""
		out := outRetry
		if err != nil {
			w.st.errors.Add(1)
		} else {
			w.resp.Reset()
			_, _ = w.resp.ReadFrom(io.LimitReader(resp.Body, 64<<20))
			_ = resp.Body.Close()
			retryAfter = resp.Header.Get("Retry-After")
			out = w.classify(resp.StatusCode, w.resp.Bytes(), len(b.seqs))
		}
		switch out {
		case outAck:
			w.ack(b)
			return
		case outReject:
			w.st.rejected.Add(uint64(len(b.seqs)))
			return
		case outPartial:
			for _, i := range w.items {
				w.acked.set(b.seqs[i])
			}
			w.st.eventsAcked.Add(uint64(len(w.items)))
			w.st.bytesAcked.Add(uint64(len(b.body) * len(w.items) / len(b.seqs)))
			w.st.rejected.Add(uint64(len(b.seqs) - len(w.items) - w.itemsBusy))
			w.st.abandoned.Add(uint64(w.itemsBusy))
			return
		}
		if ctx.Err() != nil || !w.backoff(ctx, attempt, retryAfter) {
			w.st.abandoned.Add(uint64(len(b.seqs)))
			return
		}
	}
}

// classify maps an HTTP answer to an outcome.
func (w *worker) classify(status int, body []byte, n int) outcome {
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		w.st.refused.Add(1)
		return outRetry
	case status >= 500:
		return outRetry
	case status >= 400:
		return outReject
	case status < 200 || status >= 300:
		return outRetry
	}
	if w.proto == ProtoOTLP && len(body) > 0 {
		// An ExportLogsServiceResponse with partial_success (its only
		// field): the router took every record but the ones it
		// quarantined, which it does not name. All count as acknowledged,
		// so the quarantined ones show as lost (the load is valid: any
		// refusal is a fault), and the run is marked (partial).
		w.st.partial.Add(1)
		return outAck
	}
	if w.proto != ProtoBulk {
		return outAck
	}
	head := body[:min(len(body), 64)]
	if bytes.Contains(head, []byte(`"errors":false`)) {
		return outAck
	}
	v, err := w.p.ParseBytes(body)
	if err != nil {
		return outRetry
	}
	items := v.GetArray("items")
	if len(items) != n {
		return outRetry
	}
	w.items = w.items[:0]
	retryable := 0
	for i, it := range items {
		o, err := it.Object()
		if err != nil {
			continue
		}
		var st int
		o.Visit(func(_ []byte, x *fastjson.Value) { st = x.GetInt("status") })
		switch {
		case st >= 200 && st < 300:
			w.items = append(w.items, i)
		case st == 429 || st == 503:
			retryable++
		}
	}
	if retryable == n {
		w.st.refused.Add(1)
		return outRetry
	}
	w.itemsBusy = retryable
	return outPartial
}

func (w *worker) sendSyslog(ctx context.Context, b *batch) {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			w.st.retries.Add(1)
		}
		w.st.requests.Add(1)
		err := w.writeSyslog(b.body)
		if err == nil {
			w.ack(b)
			return
		}
		w.st.errors.Add(1)
		if w.conn != nil {
			_ = w.conn.Close()
			w.conn = nil
		}
		if ctx.Err() != nil || !w.backoff(ctx, attempt, "") {
			w.st.abandoned.Add(uint64(len(b.seqs)))
			return
		}
	}
}

func (w *worker) writeSyslog(body []byte) error {
	if w.conn == nil {
		c, err := net.DialTimeout("tcp", w.c.syslogAddr, 5*time.Second)
		if err != nil {
			return err
		}
		w.conn = c
	}
	if err := w.conn.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
		return err
	}
	_, err := w.conn.Write(body)
	return err
}

func (w *worker) sendKafka(ctx context.Context, b *batch) {
	w.msgs = w.msgs[:0]
	for i := 0; i+1 < len(b.offs); i++ {
		w.msgs = append(w.msgs, kafka.Message{Value: b.body[b.offs[i]:b.offs[i+1]]})
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			w.st.retries.Add(1)
		}
		w.st.requests.Add(1)
		err := w.c.kafka.WriteMessages(ctx, w.msgs...)
		if err == nil {
			w.ack(b)
			return
		}
		var we kafka.WriteErrors
		if errors.As(err, &we) {
			// Some messages made it: resend the batch (duplicates
			// are identical, the router's deduplication drops them).
			w.st.refused.Add(1)
		} else {
			w.st.errors.Add(1)
		}
		if ctx.Err() != nil || !w.backoff(ctx, attempt, "") {
			w.st.abandoned.Add(uint64(len(b.seqs)))
			return
		}
	}
}
