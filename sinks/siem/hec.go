package siem

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// HEC codes this package acts on (Splunk docs, "Troubleshoot HTTP Event
// Collector").
const (
	hecCodeSuccess        = 0
	hecCodeTokenDisabled  = 1
	hecCodeTokenRequired  = 2
	hecCodeInvalidAuth    = 3
	hecCodeInvalidToken   = 4
	hecCodeNoData         = 5
	hecCodeInvalidFormat  = 6
	hecCodeIncorrectIndex = 7
	hecCodeBusy           = 9
	hecCodeNoChannel      = 10
	hecCodeBadChannel     = 11
	hecCodeEventRequired  = 12
	hecCodeEventBlank     = 13
	hecCodeAckDisabled    = 14
)

// maxAckResends bounds the ack-timeout resends within one Write; after
// that the events are returned as retryable and the queue takes over.
const maxAckResends = 3

// HECError is an answer of Splunk HEC other than success.
type HECError struct {
	// Status is the HTTP status.
	Status int
	// Code is the HEC code, -1 when the answer carried none.
	Code int
	// Text is the HEC text.
	Text string
	// InvalidEvent is the invalid-event-number (0-based within the
	// request), -1 when absent.
	InvalidEvent int
}

func (e *HECError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d", e.Status)
	if e.Code >= 0 {
		fmt.Fprintf(&b, ", code %d", e.Code)
	}
	if e.Text != "" {
		fmt.Fprintf(&b, " %q", e.Text)
	}
	if e.InvalidEvent >= 0 {
		fmt.Fprintf(&b, " (invalid event %d of the request)", e.InvalidEvent)
	}
	return b.String()
}

// errAckTimeout is the retryable error of events whose ack never came.
var errAckTimeout = errors.New("indexer acknowledgement not received within ack.timeout")

// HEC is a Splunk HTTP Event Collector destination. It implements
// pipeline.Sink; Write may be called from many goroutines at once.
type HEC struct {
	name     string
	cfg      HECConfig
	eventURL string
	ackURL   string
	channel  string
	client   *http.Client
	tr       *http.Transport
	log      *slog.Logger
	m        *destMetrics
	now      func() time.Time
	sem      chan struct{}

	auth    atomic.Pointer[string] // "Splunk <token>"
	tokenMu sync.Mutex

	// envelope parts, rendered once
	defHost []byte // JSON string
	mid     []byte // ,"source":"…"
	stFixed bool   // sourcetype is configured (it is in tail)
	tail    []byte // [,"sourcetype":"…"][,"index":"…"],"event":
	suffix  []byte // [,"fields":{…}]}

	acks   *ackTracker // nil when ack is not enabled
	ackOff atomic.Bool // acks turned out unsupported: no-ack mode

	authLog, errLog rateLimit

	closed    atomic.Bool
	closeMu   sync.RWMutex // Write holds it shared; Close waits for it exclusively
	closeOnce sync.Once
	life      context.Context
	stop      context.CancelFunc
}

var _ pipeline.Sink = (*HEC)(nil)

// NewHEC validates cfg, reads the token file and TLS files, and returns the
// destination. No connection is made before the first Write.
func NewHEC(name string, cfg HECConfig, opts ...Option) (*HEC, error) {
	if name == "" {
		return nil, errors.New("splunk_hec: destination name must not be empty")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.SetDefaults()
	o := buildOptions(name, opts)
	u, _ := baseURL(cfg.URL)
	tlsc, err := cfg.TLS.build(o.log)
	if err != nil {
		return nil, err
	}
	token := string(cfg.Token)
	if cfg.TokenFile != "" {
		if token, err = readToken(cfg.TokenFile); err != nil {
			return nil, err
		}
	}
	channel := cfg.Ack.Channel
	if channel == "" {
		channel = newUUID()
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: min(cfg.Timeout, 10*time.Second), KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConns:          cfg.MaxConcurrentRequests + 2,
		MaxIdleConnsPerHost:   cfg.MaxConcurrentRequests + 2,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
	}
	if tlsc != nil {
		tlsc.Transport(tr)
	}
	// A cookie jar keeps a load balancer's stickiness cookie (an ELB's
	// AWSALB, an F5's BIGipServer): Splunk's guidance for indexer
	// acknowledgement behind a load balancer is sticky sessions by cookie,
	// since an ackId is known only to the indexer that handed it out.
	// Without one, requests and ack polls of the channel spread over the
	// indexers, whose ackIds collide (read as a Splunk restart) and whose
	// polls never confirm the others' ids: resends and duplicates.
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("splunk_hec %s: %w", name, err)
	}
	h := &HEC{
		name: name, cfg: cfg, channel: channel,
		eventURL: u.String() + hecEventPath,
		ackURL:   u.String() + hecAckPath + "?channel=" + channel,
		tr:       tr,
		// Never follow a redirect: Go would resend a POST as a GET without
		// its body, and whatever answered that would decide the events'
		// fate. A 3xx is retried as it is (doc.go, Outcomes).
		client: &http.Client{Transport: tr, Timeout: cfg.Timeout, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		log:     o.log.With("destination", name, "type", TypeHEC),
		m:       o.metrics.forDestination(name),
		now:     o.now,
		sem:     make(chan struct{}, cfg.MaxConcurrentRequests),
		authLog: rateLimit{every: 10 * time.Second},
		errLog:  rateLimit{every: 10 * time.Second},
	}
	a := "Splunk " + token
	h.auth.Store(&a)
	h.render()
	h.life, h.stop = context.WithCancel(context.Background())
	if cfg.Ack.Enabled {
		h.acks = newAckTracker(h)
		go h.acks.run(h.life)
	}
	return h, nil
}

func (h *HEC) render() {
	c := &h.cfg
	h.defHost = normalize.AppendString(nil, []byte(c.DefaultHost))
	h.mid = normalize.AppendString([]byte(`,"source":`), []byte(c.Source))
	if c.SourceType != "" {
		h.stFixed = true
		h.tail = normalize.AppendString(append(h.tail, `,"sourcetype":`...), []byte(c.SourceType))
	}
	if c.Index != "" {
		h.tail = normalize.AppendString(append(h.tail, `,"index":`...), []byte(c.Index))
	}
	h.tail = append(h.tail, `,"event":`...)
	if len(c.Fields) > 0 {
		keys := make([]string, 0, len(c.Fields))
		for k := range c.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		h.suffix = append(h.suffix, `,"fields":{`...)
		for i, k := range keys {
			if i > 0 {
				h.suffix = append(h.suffix, ',')
			}
			h.suffix = normalize.AppendString(h.suffix, []byte(k))
			h.suffix = append(h.suffix, ':')
			h.suffix = normalize.AppendString(h.suffix, []byte(c.Fields[k]))
		}
		h.suffix = append(h.suffix, '}')
	}
	h.suffix = append(h.suffix, '}')
}

// Name returns the destination name.
func (h *HEC) Name() string { return h.name }

// Channel returns the X-Splunk-Request-Channel this destination sends.
func (h *HEC) Channel() string { return h.channel }

func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf(`"token_file": %w`, err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf(`"token_file" %s is empty: write the HEC token into it`, path)
	}
	if strings.ContainsAny(t, " \t\r\n") {
		return "", fmt.Errorf(`"token_file" %s holds more than one word: write only the HEC token into it`, path)
	}
	return t, nil
}

// reloadToken re-reads token_file (after a 401/403).
func (h *HEC) reloadToken() {
	if h.cfg.TokenFile == "" {
		return
	}
	h.tokenMu.Lock()
	defer h.tokenMu.Unlock()
	t, err := readToken(h.cfg.TokenFile)
	if err != nil {
		h.log.Error("HEC token_file could not be re-read; keeping the current token", "err", err)
		return
	}
	if a := "Splunk " + t; a != *h.auth.Load() {
		h.auth.Store(&a)
		h.log.Info("HEC token_file re-read: the token changed", "token_file", h.cfg.TokenFile)
	}
}

// scrub removes the token from text that came from the network before it
// is logged or returned.
func (h *HEC) scrub(s string) string {
	tok := strings.TrimPrefix(*h.auth.Load(), "Splunk ")
	if tok != "" && strings.Contains(s, tok) {
		s = strings.ReplaceAll(s, tok, redacted)
	}
	return s
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hx = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hx[c>>4], hx[c&0xf])
	}
	return string(out)
}

// --- encoding ---

// hecBuf is a batch rendered as concatenated envelopes; ends[i] is the end
// offset of event i's envelope.
type hecBuf struct {
	buf  []byte
	ends []int
}

var hecBufPool = sync.Pool{New: func() any { return new(hecBuf) }}

const maxPooledBuf = 16 << 20

// envelopeOverhead estimates the bytes an envelope adds to Raw.
const envelopeOverhead = 160

func (h *HEC) encode(b *pipeline.Batch) *hecBuf {
	e := hecBufPool.Get().(*hecBuf)
	need := b.Bytes() + len(b.Events)*(envelopeOverhead+len(h.tail)+len(h.suffix)+len(h.mid))
	if cap(e.buf) < need {
		e.buf = make([]byte, 0, need)
	}
	e.buf = e.buf[:0]
	e.ends = e.ends[:0]
	for i := range b.Events {
		e.buf = h.appendEnvelope(e.buf, &b.Events[i])
		e.ends = append(e.ends, len(e.buf))
	}
	return e
}

func releaseHECBuf(e *hecBuf) {
	if cap(e.buf) > maxPooledBuf {
		e.buf = nil
	}
	hecBufPool.Put(e)
}

// appendEnvelope appends ev's HEC envelope.
func (h *HEC) appendEnvelope(dst []byte, ev *pipeline.Event) []byte {
	dst = append(dst, `{"time":`...)
	t := ev.Time
	if t <= 0 {
		t = ev.Ingest
	}
	dst = appendEpochMillis(dst, t)
	dst = append(dst, `,"host":`...)
	if v := lookupRaw(ev.Raw, "host", "name"); len(v) > 2 && v[0] == '"' {
		dst = append(dst, v...)
	} else {
		dst = append(dst, h.defHost...)
	}
	dst = append(dst, h.mid...)
	if !h.stFixed && ev.SourceType != "" {
		dst = append(dst, `,"sourcetype":`...)
		dst = normalize.AppendString(dst, unsafe.Slice(unsafe.StringData(ev.SourceType), len(ev.SourceType)))
	}
	dst = append(dst, h.tail...)
	if len(ev.Raw) == 0 {
		dst = append(dst, `""`...) // Splunk answers code 13 for it: permanent
	} else {
		dst = append(dst, ev.Raw...)
	}
	return append(dst, h.suffix...)
}

// appendEpochMillis appends unix nanoseconds as epoch seconds with a
// three-digit millisecond fraction.
func appendEpochMillis(dst []byte, ns int64) []byte {
	if ns < 0 {
		ns = 0
	}
	ms := ns / 1e6
	dst = strconv.AppendInt(dst, ms/1000, 10)
	f := ms % 1000
	return append(dst, '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
}

// body returns the envelopes of events [start, end).
func (e *hecBuf) body(start, end int) []byte {
	from := 0
	if start > 0 {
		from = e.ends[start-1]
	}
	return e.buf[from:e.ends[end-1]]
}

type span struct{ start, end int }

// chunks splits the events into requests of at most max bytes (an event
// larger than max goes alone).
func (e *hecBuf) chunks(max int) []span {
	var out []span
	start, from := 0, 0
	for i, end := range e.ends {
		if i > start && end-from > max {
			out = append(out, span{start, i})
			start, from = i, e.ends[i-1]
		}
	}
	return append(out, span{start, len(e.ends)})
}

// --- sending ---

type partKind uint8

const (
	partDelivered partKind = iota
	partRetry
	partPermanent
	partAckWait
)

// part is the outcome of events [start, end) of the batch.
type part struct {
	span
	kind   partKind
	status int
	err    error
	ack    *ackWaiter
}

// lateAck is the ackId of a copy of span's events sent again after its ack
// timed out, kept polled (awaitAcks): done once its outcome was read, ok
// if Splunk confirmed it.
type lateAck struct {
	span
	w        *ackWaiter
	done, ok bool
}

// Write sends b's events as HEC envelopes (in several concurrent requests
// when larger than max_batch_bytes) and returns nil once Splunk accepted
// every one (with ack: confirmed every one). Otherwise it returns a
// retryable error when no event was delivered and all may be retried, or a
// *pipeline.BatchError naming each undelivered event, permanent or
// retryable, as the package documentation's table says. It does not retain
// b. After Close it returns pipeline.ErrClosed.
func (h *HEC) Write(ctx context.Context, b *pipeline.Batch) error {
	if h.closed.Load() {
		return pipeline.ErrClosed
	}
	if b == nil || len(b.Events) == 0 {
		return nil
	}
	h.closeMu.RLock()
	defer h.closeMu.RUnlock()
	if h.closed.Load() {
		return pipeline.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := mergeCtx(ctx, h.life)
	defer cancel()
	e := h.encode(b)
	defer releaseHECBuf(e)
	parts := h.sendAll(ctx, e, e.chunks(h.cfg.MaxBatchBytes))
	if h.acks != nil {
		parts = h.awaitAcks(ctx, e, parts)
	}
	return h.finish(b, parts)
}

// sendAll sends the spans concurrently (bounded by the semaphore) and
// returns their parts.
func (h *HEC) sendAll(ctx context.Context, e *hecBuf, spans []span) []part {
	if len(spans) == 1 {
		return h.sendSpan(ctx, e, spans[0], nil)
	}
	res := make([][]part, len(spans))
	var wg sync.WaitGroup
	for i, sp := range spans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = h.sendSpan(ctx, e, sp, nil)
		}()
	}
	wg.Wait()
	var out []part
	for _, r := range res {
		out = append(out, r...)
	}
	return out
}

// sendSpan sends events sp as one request and classifies the answer.
func (h *HEC) sendSpan(ctx context.Context, e *hecBuf, sp span, out []part) []part {
	res := h.post(ctx, h.eventURL, e.body(sp.start, sp.end), *h.cfg.Gzip, true)
	n := sp.end - sp.start
	whole := func(k partKind, err error) []part {
		if k == partPermanent {
			err = pipeline.Permanent(err)
		}
		return append(out, part{span: sp, kind: k, status: res.status, err: err})
	}
	if res.err != nil {
		h.m.requests[outNetwork].Inc()
		if ctx.Err() != nil {
			return whole(partRetry, ctx.Err())
		}
		return whole(partRetry, fmt.Errorf("splunk_hec %s: %s", h.name, h.scrub(res.err.Error())))
	}
	herr := &HECError{Status: res.status, Code: res.code, Text: h.scrub(res.text), InvalidEvent: res.invalid}
	err := fmt.Errorf("splunk_hec %s: %w", h.name, herr)
	switch st, code := res.status, res.code; {
	case st == http.StatusOK && (!res.answer || res.code != 0):
		// Splunk answers 200 only with {"text":"Success","code":0}; a 200
		// with anything else (an HTML page, an empty body: nginx "return
		// 200;", a JSON object without code 0) is something in the way, a
		// proxy or load balancer, that did not deliver the events: never
		// count them delivered.
		h.m.requests[outNetwork].Inc()
		return whole(partRetry, fmt.Errorf("splunk_hec %s: answered 200 with a body that is no HEC answer (%q): a proxy or load balancer in the way? check the url; retrying",
			h.name, h.scrub(string(res.raw[:min(len(res.raw), 120)]))))
	case st == http.StatusOK:
		h.m.requests[outOK].Inc()
		if h.acks == nil || h.ackOff.Load() {
			return append(out, part{span: sp, kind: partDelivered})
		}
		if res.ackID < 0 {
			h.fallbackNoAck("Splunk answered 200 without an ackId: indexer acknowledgement is off for this token")
			return append(out, part{span: sp, kind: partDelivered})
		}
		return append(out, part{span: sp, kind: partAckWait, ack: h.acks.add(res.ackID)})
	case st == http.StatusBadRequest && (code == hecCodeInvalidFormat || code == hecCodeEventRequired || code == hecCodeEventBlank):
		if res.invalid < 0 || res.invalid >= n {
			h.m.requests[outRejected].Inc()
			return whole(partPermanent, err)
		}
		h.m.requests[outPartial].Inc()
		bad := sp.start + res.invalid
		if bad > sp.start {
			out = append(out, h.takenBefore(span{sp.start, bad}, st, err))
		}
		out = append(out, part{span: span{bad, bad + 1}, kind: partPermanent, status: st, err: pipeline.Permanent(err)})
		if bad+1 < sp.end {
			// Splunk did not read them: it stopped at the invalid event,
			// it is not busy. Sent again at once, in this Write: left to
			// the queue's retry, each further invalid event in the batch
			// cost the events behind it a longer backoff (k invalid
			// events: k-1 growing waits before healthy P1 events reached
			// the SIEM). Each resend decides at least one event, so this
			// ends.
			return h.sendSpan(ctx, e, span{bad + 1, sp.end}, out)
		}
		return out
	case st == http.StatusBadRequest && code == hecCodeIncorrectIndex:
		h.m.requests[outRejected].Inc()
		h.logErr(&h.errLog, "Splunk refused the index: the events go to quarantine; fix \"index\" (or the token's allowed indexes) and replay them", herr)
		if res.invalid > 0 && res.invalid < n {
			bad := sp.start + res.invalid
			out = append(out, h.takenBefore(span{sp.start, bad}, st, err))
			return append(out, part{span: span{bad, sp.end}, kind: partPermanent, status: st, err: pipeline.Permanent(err)})
		}
		return whole(partPermanent, err)
	case st == http.StatusBadRequest && (code == hecCodeNoChannel || code == hecCodeBadChannel):
		h.m.requests[outClientError].Inc()
		h.logErr(&h.errLog, "Splunk refused the request channel; events stay queued and are retried: check ack.channel and the token's indexer acknowledgement", herr)
		return whole(partRetry, err)
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		h.m.requests[outAuth].Inc()
		h.reloadToken()
		h.logErr(&h.authLog, "Splunk HEC refused the token; events stay queued and are retried until it works: fix the token (token_file is re-read after every refusal)", herr)
		return whole(partRetry, err)
	case st == http.StatusNotFound || st == http.StatusMethodNotAllowed:
		h.m.requests[outClientError].Inc()
		h.logErr(&h.errLog, "Splunk HEC endpoint not found; events stay queued and are retried: check \"url\" and that HEC is enabled", herr)
		return whole(partRetry, err)
	case st == http.StatusRequestTimeout:
		h.m.requests[outClientError].Inc()
		return whole(partRetry, err)
	case st == http.StatusRequestEntityTooLarge:
		h.m.requests[outTooLarge].Inc()
		if n > 1 {
			h.logErr(&h.errLog, "Splunk refused a request as too large; sending it in halves: lower max_batch_bytes below Splunk's max_content_length", herr)
			mid := sp.start + n/2
			out = h.sendSpan(ctx, e, span{sp.start, mid}, out)
			return h.sendSpan(ctx, e, span{mid, sp.end}, out)
		}
		return whole(partPermanent, err)
	case st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable:
		h.m.requests[outBusy].Inc()
		// Splunk's queues filled part-way through the request: it took
		// the events before invalid-event-number and stopped there. Sent
		// again whole, those would be indexed twice. With indexer
		// acknowledgement they have no ackId to confirm them, so they are
		// sent again (counted as resent) rather than taken as delivered.
		if code == hecCodeBusy && res.invalid > 0 && res.invalid < n {
			taken := sp.start + res.invalid
			if h.acks == nil || h.ackOff.Load() {
				out = append(out, part{span: span{sp.start, taken}, kind: partDelivered})
				return append(out, part{span: span{taken, sp.end}, kind: partRetry, status: st, err: err})
			}
			h.m.resentBusy.Add(float64(res.invalid))
		}
		return whole(partRetry, err)
	case st >= 500:
		h.m.requests[outServerError].Inc()
		return whole(partRetry, err)
	case st >= 400 && !res.answer:
		// A 4xx without an HEC answer ({"text":...,"code":N}) is not
		// Splunk judging the events: a proxy asking for credentials
		// (407), nginx refusing plain HTTP on its TLS port (400), a WAF.
		// Fixing that must not have sent P1 events to the quarantine.
		h.m.requests[outClientError].Inc()
		h.logErr(&h.errLog, "something other than Splunk HEC refused the request (no HEC answer); events stay queued and are retried: check url, proxy and TLS settings", herr)
		return whole(partRetry, err)
	case st >= 400:
		h.m.requests[outRejected].Inc()
		return whole(partPermanent, err)
	}
	h.m.requests[outClientError].Inc()
	return whole(partRetry, err)
}

// takenBefore is the part of a request Splunk took before the invalid
// event that stopped it (a 400 with invalid-event-number): delivered, or,
// with indexer acknowledgement, sent again (counted as resent): a 400
// carries no ackId, so nothing would ever confirm that those events were
// indexed, and ack mode counts an event delivered only once confirmed.
func (h *HEC) takenBefore(sp span, status int, err error) part {
	if h.acks == nil || h.ackOff.Load() {
		return part{span: sp, kind: partDelivered}
	}
	h.m.resentInvalid.Add(float64(sp.end - sp.start))
	return part{span: sp, kind: partRetry, status: status,
		err: fmt.Errorf("splunk_hec %s: taken before an invalid event but not acknowledged (a 400 carries no ackId): sent again: %w", h.name, err)}
}

func (h *HEC) logErr(rl *rateLimit, msg string, herr *HECError) {
	if ok, suppressed := rl.allow(); ok {
		h.log.Error(msg, "status", herr.Status, "code", herr.Code, "text", herr.Text, "suppressed", suppressed)
	}
}

// fallbackNoAck switches to no-ack mode once.
func (h *HEC) fallbackNoAck(why string) {
	if h.ackOff.CompareAndSwap(false, true) {
		h.log.Error("ack.enabled is set but Splunk does not acknowledge; falling back to no-ack mode (delivered = HEC answered 200): enable indexer acknowledgement on the token or turn ack off", "reason", why)
		h.acks.failAll(ackUnsupported)
	}
}

// awaitAcks waits for the acks of parts in partAckWait and resends the
// requests whose ack timed out.
func (h *HEC) awaitAcks(ctx context.Context, e *hecBuf, parts []part) (out []part) {
	// The ackIds of copies sent again after their ack timed out stay
	// polled (ackTracker.keep) until the Write ends: Splunk may confirm
	// one late (its guidance: acks can take minutes), and that confirms
	// every event of its span, whichever copy's ack comes first. Without
	// them, acks always later than ack.timeout confirmed nothing and each
	// round indexed the events again.
	var late []lateAck
	var wake chan struct{} // signalled when a kept copy's ack resolves
	confirmedLate := func(sp span) bool {
		for i := range late {
			l := &late[i]
			if !l.done {
				select {
				case o := <-l.w.res:
					l.done, l.ok = true, o == ackConfirmed
				default:
				}
			}
			if l.ok && l.start <= sp.start && sp.end <= l.end {
				return true
			}
		}
		return false
	}
	defer func() {
		// A part left to retry (its resend refused, 503 or a broken
		// connection, or not made as the Write ended) whose earlier
		// copy Splunk confirmed meanwhile is delivered: sending it again
		// would be a duplicate.
		for i := range out {
			if p := &out[i]; p.kind == partRetry && confirmedLate(p.span) {
				p.kind, p.err, p.status = partDelivered, nil, 0
			}
		}
		for _, l := range late {
			h.acks.cancel(l.w)
		}
	}()
	for round := 0; ; round++ {
		// take files p's ack outcome o.
		take := func(p *part, o ackOutcome, canResend bool) {
			switch o {
			case ackConfirmed, ackUnsupported:
				p.kind = partDelivered
			case ackTimedOut:
				h.m.ackTimeouts.Inc()
				switch {
				case confirmedLate(p.span):
					p.kind = partDelivered
				case round >= maxAckResends || !canResend:
					p.kind, p.err = partRetry, fmt.Errorf("splunk_hec %s: %w (after %d resends)", h.name, errAckTimeout, round)
				default:
					p.kind = partRetry // sent again below, unless a late ack confirms it first
					if wake == nil {
						wake = make(chan struct{}, 1)
					}
					if h.acks.keep(p.ack, wake) {
						late = append(late, lateAck{span: p.span, w: p.ack})
					}
				}
			}
		}
		for i := range parts {
			p := &parts[i]
			if p.kind != partAckWait {
				continue
			}
			// A kept copy confirmed while earlier parts were waited
			// for delivers p at once (its wake may have been taken).
			if len(late) > 0 && confirmedLate(p.span) {
				h.acks.cancel(p.ack)
				p.kind = partDelivered
				continue
			}
			// An outcome already there is taken before the context is
			// looked at (select picks at random among ready cases).
			select {
			case o := <-p.ack.res:
				take(p, o, true)
				continue
			default:
			}
		wait:
			select {
			case o := <-p.ack.res:
				take(p, o, true)
			case <-wake:
				// A copy kept late resolved: if Splunk confirmed one
				// holding p's events, they are in; p's own ack (of
				// a resend) is no longer waited for.
				if !confirmedLate(p.span) {
					goto wait
				}
				h.acks.cancel(p.ack)
				p.kind = partDelivered
			case <-ctx.Done():
				// Requests Splunk already confirmed are delivered, even
				// those not looked at yet: handing them back would send
				// them again. Only those still unconfirmed are retried.
				for j := range parts {
					q := &parts[j]
					if q.kind != partAckWait {
						continue
					}
					select {
					case o := <-q.ack.res:
						take(q, o, false)
					default:
					}
				}
				for j := range parts {
					q := &parts[j]
					if q.kind == partAckWait && confirmedLate(q.span) {
						h.acks.cancel(q.ack)
						q.kind = partDelivered
					}
					if q.kind == partAckWait {
						h.acks.cancel(q.ack)
						q.kind, q.err = partRetry, ctx.Err()
					} else if q.kind == partRetry && q.err == nil { // a resend not made
						q.err = ctx.Err()
					}
				}
				return parts
			}
		}
		// A copy confirmed while the round waited for the other parts
		// delivers its spans: they are not sent again.
		var resend []span
		for i := range parts {
			if p := &parts[i]; p.kind == partRetry && p.err == nil {
				if confirmedLate(p.span) {
					p.kind = partDelivered
				} else {
					h.m.resentAck.Add(float64(p.end - p.start))
					resend = append(resend, p.span)
				}
			}
		}
		if len(resend) == 0 {
			return parts
		}
		kept := parts[:0]
		for _, p := range parts {
			if !(p.kind == partRetry && p.err == nil) {
				kept = append(kept, p)
			}
		}
		h.log.Warn("Splunk did not acknowledge requests in time; resending them (possible duplicates, counted)", "requests", len(resend), "ack_timeout", h.cfg.Ack.Timeout.String())
		parts = append(kept, h.sendAll(ctx, e, resend)...)
	}
}

// finish turns the parts into Write's result and counts them.
func (h *HEC) finish(b *pipeline.Batch, parts []part) error {
	var items []pipeline.ItemError
	delivered, retry := 0, 0
	var firstRetry error
	now := h.now().UnixNano()
	for _, p := range parts {
		switch p.kind {
		case partDelivered:
			delivered += p.end - p.start
			h.m.observeAges(b.Events[p.start:p.end], now)
		case partRetry, partPermanent:
			if p.kind == partRetry {
				retry += p.end - p.start
				if firstRetry == nil {
					firstRetry = p.err
				}
			}
			for i := p.start; i < p.end; i++ {
				items = append(items, pipeline.ItemError{Index: i, Status: p.status, Err: p.err})
			}
		}
	}
	h.m.delivered.Add(float64(delivered))
	h.m.retryable.Add(float64(retry))
	h.m.permanent.Add(float64(len(items) - retry))
	switch {
	case len(items) == 0:
		return nil
	case delivered == 0 && retry == len(items) && retry == len(b.Events):
		return firstRetry
	}
	slices.SortFunc(items, func(a, b pipeline.ItemError) int { return a.Index - b.Index })
	return &pipeline.BatchError{Items: items}
}

// --- HTTP ---

type hecResult struct {
	status  int
	code    int
	text    string
	invalid int
	ackID   int64
	raw     []byte // the answer's body
	answer  bool   // raw is a JSON object, as every HEC answer is
	err     error
}

// trackedBody lets post wait until the transport is done with the body
// before its buffer is reused (RoundTrip may close it after returning).
type trackedBody struct {
	r      bytes.Reader
	once   sync.Once
	closed chan struct{}
}

func (t *trackedBody) Read(p []byte) (int, error) { return t.r.Read(p) }
func (t *trackedBody) Close() error {
	t.once.Do(func() { close(t.closed) })
	return nil
}

type gzBuf struct {
	w   *gzip.Writer
	buf bytes.Buffer
}

var gzPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return &gzBuf{w: w}
}}

func (g *gzBuf) compress(p []byte) []byte {
	g.buf.Reset()
	g.w.Reset(&g.buf)
	_, _ = g.w.Write(p)
	_ = g.w.Close()
	return g.buf.Bytes()
}

var answerParsers fastjson.ParserPool

// post sends body to url and reads the answer. useSem bounds it by
// max_concurrent_requests (event requests; ack polls are not bounded).
func (h *HEC) post(ctx context.Context, url string, body []byte, gz, useSem bool) hecResult {
	if useSem {
		select {
		case h.sem <- struct{}{}:
			defer func() { <-h.sem }()
		case <-ctx.Done():
			return hecResult{err: ctx.Err()}
		}
	}
	start := time.Now()
	payload := body
	if gz {
		g := gzPool.Get().(*gzBuf)
		defer func() {
			if g.buf.Cap() <= maxPooledBuf {
				gzPool.Put(g)
			}
		}()
		payload = g.compress(body)
	}
	tb := &trackedBody{closed: make(chan struct{})}
	tb.r.Reset(payload)
	defer func() { <-tb.closed }() // runs before the gzip buffer goes back to the pool
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, tb)
	if err != nil {
		_ = tb.Close()
		return hecResult{err: err}
	}
	req.ContentLength = int64(len(payload))
	req.Header.Set("Authorization", *h.auth.Load())
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Splunk-Request-Channel", h.channel)
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := h.client.Do(req)
	h.m.reqSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		return hecResult{err: err}
	}
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	res := hecResult{status: resp.StatusCode, code: -1, invalid: -1, ackID: -1, raw: data}
	if rerr != nil && resp.StatusCode == http.StatusOK {
		// the answer was cut: Splunk did accept the request, but its
		// ackId is unknown
		return hecResult{err: fmt.Errorf("reading the answer: %w", rerr)}
	}
	p := answerParsers.Get()
	if v, perr := p.ParseBytes(data); perr == nil && v.Type() == fastjson.TypeObject {
		// An HEC answer has a numeric code ({"text":"Success","code":0});
		// a JSON object without one ({}, {"status":"ok"}: a load balancer's
		// fixed answer) is something in the way.
		if c := v.Get("code"); c != nil && c.Type() == fastjson.TypeNumber {
			res.answer = true
			res.code = c.GetInt()
		}
		res.text = string(v.GetStringBytes("text"))
		if c := v.Get("invalid-event-number"); c != nil && c.Type() == fastjson.TypeNumber {
			res.invalid = c.GetInt()
		}
		if c := v.Get("ackId"); c != nil && c.Type() == fastjson.TypeNumber {
			res.ackID = c.GetInt64()
		}
	} else if len(data) > 0 && resp.StatusCode != http.StatusOK {
		res.text = strings.TrimSpace(string(data[:min(len(data), 200)]))
	}
	answerParsers.Put(p)
	return res
}

// Close stops the destination: it waits for Writes in flight (bounded by
// ctx, then aborts them), stops the ack poller and closes idle
// connections. Idempotent; Write returns pipeline.ErrClosed afterwards.
func (h *HEC) Close(ctx context.Context) error {
	h.closeOnce.Do(func() {
		h.closed.Store(true)
		drained := make(chan struct{})
		go func() {
			h.closeMu.Lock()
			h.closeMu.Unlock() //nolint:staticcheck // only waiting for Writes
			close(drained)
		}()
		select {
		case <-drained:
		case <-ctx.Done():
			h.stop()
			<-drained
		}
		h.stop()
		if h.acks != nil {
			<-h.acks.done
		}
		h.tr.CloseIdleConnections()
	})
	return nil
}
