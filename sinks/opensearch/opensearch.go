package opensearch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	opensearchgo "github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/signer"
	"github.com/opensearch-project/opensearch-go/v4/signer/awsv2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/internal/tlsconf"
	"github.com/logrouter/logrouter/pipeline"
)

// bulkPath is the bulk endpoint with the answer cut to what
// readBulkResponse reads (filter_path, which every OpenSearch and
// Elasticsearch endpoint takes): each item's _index, _id, status and error.
// A created item's answer shrinks from ~190 bytes to ~70 (no _version,
// result, _shards, _seq_no, _primary_term), less for the cluster to send and
// for the sink to read. status is in every item, so the filter never drops
// one (an item emptied by a filter would be left out of the array). The
// top-level error and status keep a whole-request answer readable should a
// bulk-API look-alike filter its errors too (OpenSearch sends error
// documents whole); servers without filter_path ignore it.
const bulkPath = "/_bulk?filter_path=items.*._index,items.*._id,items.*.status,items.*.error,error,status"

// maxResponseBytes bounds a bulk answer read into memory (about 250 bytes
// per item, so far above any bulk_bytes).
const maxResponseBytes = 256 << 20

// loudEvery is how often refusals for the cluster's state (401/403, write
// blocks, missing indices, the shard limit) are logged at most.
const loudEvery = 10 * time.Second

// Option changes how New builds a Sink; the zero set of options is the
// production setting.
type Option func(*options)

type options struct {
	metrics   *Metrics
	log       *slog.Logger
	rt        http.RoundTripper
	awsCfg    *aws.Config
	bootRetry time.Duration
	bootWait  time.Duration
}

// WithMetrics makes the sink count into m (shared by every OpenSearch
// destination; see NewMetrics). Without it the sink's counters are not
// registered anywhere.
func WithMetrics(m *Metrics) Option { return func(o *options) { o.metrics = m } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithTransport makes the client use rt instead of an http.Transport built
// from the tls settings (for tests, or a proxy).
func WithTransport(rt http.RoundTripper) Option { return func(o *options) { o.rt = rt } }

// WithAWSConfig signs requests (with aws_sigv4 set) with cfg's credentials
// instead of those of the default credential chain.
func WithAWSConfig(cfg aws.Config) Option { return func(o *options) { o.awsCfg = &cfg } }

// withBootstrapTiming sets the first background retry delay of the
// bootstrap and how long New waits for its first attempt (for tests).
func withBootstrapTiming(retry, wait time.Duration) Option {
	return func(o *options) { o.bootRetry, o.bootWait = retry, wait }
}

// Sink is the OpenSearch destination. It implements pipeline.Sink; Write is
// safe for concurrent use.
type Sink struct {
	name   string
	cfg    Config
	namer  *namer // index names
	gzip   bool
	client *opensearchgo.Client
	own    *http.Transport // built by New, closed by Close
	sem    chan struct{}
	log    *slog.Logger

	indexed, conflict, retried, quarantined prometheus.Counter
	reqBytes, splits                        prometheus.Counter
	dateClamped, typeOverflow               prometheus.Counter
	requests                                *prometheus.CounterVec // curried with the destination
	templateReady                           prometheus.Gauge

	lastLoud   atomic.Int64 // unix nanoseconds of the last 401/403 log
	loudMissed atomic.Int64

	boot *bootstrapper

	gate pipeline.Gate
}

var _ pipeline.Sink = (*Sink)(nil)

// New validates cfg (with defaults applied) and returns a Sink. It reads the
// TLS files and, with aws_sigv4, loads the AWS configuration (no network).
// With bootstrap enabled it makes the first attempt to install the index
// template (for at most 10 seconds) and, when the cluster is not reachable
// yet, keeps trying in the background: New never fails because the cluster
// is down.
func New(name string, cfg Config, opts ...Option) (*Sink, error) {
	if name == "" {
		return nil, errors.New("opensearch: destination name must not be empty")
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tmpl, err := parseIndexTemplate(cfg.Index)
	if err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.metrics == nil {
		o.metrics = NewMetrics(nil)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	s := &Sink{
		name:        name,
		cfg:         cfg,
		gzip:        *cfg.Gzip,
		sem:         make(chan struct{}, cfg.MaxConcurrentRequests),
		log:         o.log.With("destination", name),
		indexed:     o.metrics.Indexed.WithLabelValues(name),
		conflict:    o.metrics.ConflictAsDelivered.WithLabelValues(name),
		retried:     o.metrics.Retried.WithLabelValues(name),
		quarantined: o.metrics.Quarantined.WithLabelValues(name),
		reqBytes:    o.metrics.RequestBytes.WithLabelValues(name),
		splits:      o.metrics.Splits.WithLabelValues(name),
		requests:    o.metrics.Requests.MustCurryWith(prometheus.Labels{"destination": name}),

		dateClamped:  o.metrics.IndexDateClamped.WithLabelValues(name),
		typeOverflow: o.metrics.IndexSourceTypeOverflow.WithLabelValues(name),
	}
	var typesGauge prometheus.Gauge
	if tmpl.hasSource {
		typesGauge = o.metrics.IndexSourceTypes.WithLabelValues(name)
	}
	s.namer = newNamer(cfg, tmpl, s.log, typesGauge)
	rt := o.rt
	if rt == nil {
		tr, err := newTransport(cfg, s.log)
		if err != nil {
			return nil, fmt.Errorf("opensearch %s: %w", name, err)
		}
		s.own, rt = tr, tr
	}
	var sig signer.Signer
	if a := cfg.AWSSigV4; a != nil {
		var awsCfg aws.Config
		if o.awsCfg != nil {
			awsCfg = *o.awsCfg
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			awsCfg, err = awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(a.Region))
			cancel()
			if err != nil {
				return nil, fmt.Errorf("opensearch %s: aws_sigv4: load the AWS configuration: %w", name, err)
			}
		}
		awsCfg.Region = a.Region
		sig, err = awsv2.NewSignerWithService(awsCfg, a.Service)
		if err != nil {
			return nil, fmt.Errorf("opensearch %s: aws_sigv4: %w", name, err)
		}
	}
	discover := false
	var header http.Header
	if len(cfg.Headers) > 0 {
		header = make(http.Header, len(cfg.Headers))
		for k, v := range cfg.Headers {
			header.Set(k, v)
		}
	}
	s.client, err = opensearchgo.NewClient(opensearchgo.Config{
		Addresses: cfg.URLs,
		Username:  cfg.Username,
		Password:  cfg.Password,
		Header:    header,
		Signer:    sig,
		// The queue retries, with backoff and only the failed items.
		DisableRetry:         true,
		RequestTimeout:       cfg.RequestTimeout,
		Transport:            rt,
		DiscoverNodesOnStart: &discover,
	})
	if err != nil {
		if s.own != nil {
			s.own.CloseIdleConnections()
		}
		return nil, fmt.Errorf("opensearch %s: %w", name, err)
	}
	if cfg.Bootstrap.Enabled {
		s.templateReady = o.metrics.TemplateReady.WithLabelValues(name)
		s.boot = newBootstrapper(s, o.bootRetry)
		wait := o.bootWait
		if wait == 0 {
			wait = min(cfg.RequestTimeout, 10*time.Second)
		}
		s.boot.start(wait)
	}
	return s, nil
}

// newTransport builds the HTTP transport: http.DefaultTransport's settings,
// enough idle connections for max_concurrent_requests, and the tls block.
func newTransport(cfg Config, log *slog.Logger) (*http.Transport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cfg.MaxConcurrentRequests + 2
	tr.MaxIdleConns = max(tr.MaxIdleConns, len(cfg.URLs)*tr.MaxIdleConnsPerHost)
	t := cfg.TLS
	if t == nil {
		return tr, nil
	}
	tc, err := tlsconf.NewClient(t.CAFile, t.CertFile, t.KeyFile, t.InsecureSkipVerify, "", log)
	if err != nil {
		return nil, err
	}
	tc.Transport(tr) // the CA bundle as it is at each new connection
	return tr, nil
}

// Name returns the destination name given to New.
func (s *Sink) Name() string { return s.name }

// Write indexes every event of b and accounts for each one (see the package
// documentation for the outcomes): nil when all were delivered, a
// *pipeline.BatchError listing exactly the events that were not, or a plain
// error when all of them failed for one request-level reason. An empty batch
// is a no-op. Write does not retain b or any Event.Raw. After Close it
// returns pipeline.ErrClosed.
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
	e := getEncoder()
	defer putEncoder(e)
	e.encode(s.namer, s.cfg.OpType, b)
	if e.clamped > 0 {
		s.dateClamped.Add(float64(e.clamped))
	}
	if e.overflowed > 0 {
		s.typeOverflow.Add(float64(e.overflowed))
	}
	spans := e.split(s.cfg.BulkBytes, s.cfg.MaxConcurrentRequests)

	var t tally
	switch len(spans) {
	case 0:
	case 1:
		s.sendRange(ctx, e, spans[0].lo, spans[0].hi, &t)
	default:
		parts := make([]tally, len(spans))
		var wg sync.WaitGroup
		for i := 1; i < len(spans); i++ {
			wg.Go(func() { s.sendRange(ctx, e, spans[i].lo, spans[i].hi, &parts[i]) })
		}
		s.sendRange(ctx, e, spans[0].lo, spans[0].hi, &parts[0])
		wg.Wait()
		for i := range parts {
			t.add(parts[i])
		}
	}
	if len(e.skipped) > 0 {
		t.failed = append(t.failed, e.skipped...)
		t.quarantined += len(e.skipped)
	}
	if t.loudErr != nil {
		s.loud(t.loudMsg, t.loudErr)
	}
	s.indexed.Add(float64(t.indexed))
	s.conflict.Add(float64(t.conflict))
	s.retried.Add(float64(t.retried))
	s.quarantined.Add(float64(t.quarantined))
	if len(t.failed) == 0 {
		return nil
	}
	if t.reqFailed == len(b.Events) && sameRequestError(t.failed) {
		return t.reqErr
	}
	slices.SortFunc(t.failed, func(a, b pipeline.ItemError) int { return a.Index - b.Index })
	return &pipeline.BatchError{Items: t.failed}
}

// sameRequestError reports whether all items failed for the same reason:
// the same error, or, from the other requests of a split batch, an error
// with the same status, permanence and message (each request makes its own
// error value).
func sameRequestError(items []pipeline.ItemError) bool {
	first := items[0]
	alike, msg := first.Err, ""
	for i := 1; i < len(items); i++ {
		err := items[i].Err
		if err == first.Err || err == alike {
			continue
		}
		if items[i].Status != first.Status || pipeline.IsPermanent(err) != pipeline.IsPermanent(first.Err) {
			return false
		}
		if msg == "" {
			msg = first.Err.Error()
		}
		if err.Error() != msg {
			return false
		}
		alike = err
	}
	return true
}

// sendRange sends items [lo, hi) as one bulk request and records their
// outcomes in t; a 413 answer sends the two halves again.
func (s *Sink) sendRange(ctx context.Context, e *encoder, lo, hi int, t *tally) {
	res, err := s.post(ctx, e.bodyOf(lo, hi))
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		t.failRange(e, lo, hi, 0, fmt.Errorf("opensearch %s: bulk request: %w", s.name, err))
		return
	}
	status := res.status
	switch {
	case status >= 200 && status < 300:
		readBulkResponse(t, e, lo, hi, res.body(), s.cfg.OpType)
		res.release()
	case status == http.StatusRequestEntityTooLarge:
		rerr := requestError(status, res.body())
		res.release()
		s.splits.Inc()
		if hi-lo == 1 {
			rerr.Item = true
			rerr.Reason = fmt.Sprintf("the event (%d bytes in the bulk body) is larger than the cluster accepts in a request (http.max_content_length): %s", e.offs[hi]-e.offs[lo], rerr.Reason)
			t.failRange(e, lo, hi, status, pipeline.Permanent(rerr))
			return
		}
		mid := lo + (hi-lo)/2
		s.sendRange(ctx, e, lo, mid, t)
		s.sendRange(ctx, e, mid, hi, t)
	default:
		rerr := requestError(status, res.body())
		res.release()
		var err error = rerr
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			s.loud(clusterState(status, []byte(rerr.Type), []byte(rerr.Reason)), rerr)
		}
		if classifyRequest(status) == outPermanent {
			err = pipeline.Permanent(rerr)
		}
		t.failRange(e, lo, hi, status, err)
	}
}

// loud logs msg, a refusal that is the cluster's state (see clusterState),
// at error level, at most every loudEvery.
func (s *Sink) loud(msg string, err error) {
	now := time.Now().UnixNano()
	last := s.lastLoud.Load()
	if now-last < int64(loudEvery) || !s.lastLoud.CompareAndSwap(last, now) {
		s.loudMissed.Add(1)
		return
	}
	s.log.Error(msg, "err", err, "similar_errors_not_logged", s.loudMissed.Swap(0))
}

// response is a bulk answer read into a pooled buffer.
type response struct {
	status int
	buf    *[]byte
}

func (r *response) body() []byte { return *r.buf }

func (r *response) release() {
	if r.buf != nil && cap(*r.buf) <= maxPooledBuf {
		respPool.Put(r.buf)
	}
	r.buf = nil
}

// trackedBody is a request body whose buffer can be taken back: net/http
// may still read a request body after RoundTrip returned (an answer that
// came before the whole request was written), so the pooled buffer under it
// is reused only after detach, which waits for a Read in progress and makes
// later ones fail.
type trackedBody struct {
	mu       sync.Mutex
	r        bytes.Reader
	detached bool
}

var errDetached = errors.New("opensearch: request body read after the request ended")

func (b *trackedBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.detached {
		return 0, errDetached
	}
	return b.r.Read(p)
}

func (b *trackedBody) Close() error { return nil }

func (b *trackedBody) detach() {
	b.mu.Lock()
	b.detached = true
	b.r.Reset(nil)
	b.mu.Unlock()
}

// post sends one bulk body (uncompressed; post compresses it) and reads the
// answer. It holds one of the destination's max_concurrent_requests slots.
func (s *Sink) post(ctx context.Context, raw []byte) (*response, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.sem }()

	payload := raw
	var g *gzipper
	if s.gzip {
		g, payload = compress(raw, s.cfg.GzipLevel)
	}
	var bodies []*trackedBody
	defer func() {
		for _, b := range bodies {
			b.detach()
		}
		putGzipper(g)
	}()

	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	// A node that answers 502, 503 or 504 (cut off from the cluster
	// manager, draining behind a load balancer) stays in the client's
	// rotation (only transport errors mark a node dead), so the request
	// goes at once to the next node, up to three in all: otherwise every
	// other batch would wait for the queue's backoff.
	attempts := min(len(s.cfg.URLs), 3)
	var res *http.Response
	var err error
	for attempt := 1; ; attempt++ {
		body := new(trackedBody) // a body per attempt: net/http may still read the last one
		body.r.Reset(payload)
		bodies = append(bodies, body)
		req, rerr := http.NewRequestWithContext(rctx, http.MethodPost, bulkPath, body)
		if rerr != nil {
			return nil, rerr
		}
		req.ContentLength = int64(len(payload))
		req.Header.Set("Content-Type", "application/x-ndjson")
		if s.gzip {
			req.Header.Set("Content-Encoding", "gzip")
		}
		s.reqBytes.Add(float64(len(payload)))
		res, err = s.client.Stream(req)
		if attempt < attempts && res != nil && rctx.Err() == nil &&
			(res.StatusCode == http.StatusBadGateway || res.StatusCode == http.StatusServiceUnavailable || res.StatusCode == http.StatusGatewayTimeout) {
			_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
			_ = res.Body.Close()
			s.requests.WithLabelValues(strconv.Itoa(res.StatusCode)).Inc()
			continue
		}
		break
	}
	if res == nil {
		s.requests.WithLabelValues("error").Inc()
		if err == nil {
			err = errors.New("no response")
		}
		return nil, err
	}
	out := &response{status: res.StatusCode, buf: respPool.Get().(*[]byte)}
	rerr := readAll(out.buf, res.Body)
	_ = res.Body.Close()
	if rerr == nil {
		rerr = err
	}
	if rerr != nil {
		out.release()
		s.requests.WithLabelValues("error").Inc()
		return nil, fmt.Errorf("reading the answer (status %d): %w", res.StatusCode, rerr)
	}
	s.requests.WithLabelValues(strconv.Itoa(res.StatusCode)).Inc()
	return out, nil
}

// readAll reads r into *buf (reset first), up to maxResponseBytes.
func readAll(buf *[]byte, r io.Reader) error {
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			if len(b) >= maxResponseBytes {
				*buf = b
				return fmt.Errorf("answer larger than %d bytes", maxResponseBytes)
			}
			b = slices.Grow(b, max(64<<10, len(b)))
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			*buf = b
			return nil
		}
		if err != nil {
			*buf = b
			return err
		}
	}
}

// Close waits for the Writes in flight, stops the bootstrap and closes the
// client's connections. It is idempotent; ctx bounds the wait (the closing
// then finishes in the background). After Close, Write returns
// pipeline.ErrClosed.
func (s *Sink) Close(ctx context.Context) error {
	if s.boot != nil {
		s.boot.stop()
	}
	err := s.gate.Close(ctx, func() error {
		if s.boot != nil {
			s.boot.wait()
		}
		_ = s.client.Close()
		if s.own != nil {
			s.own.CloseIdleConnections()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("opensearch %s: close: %w", s.name, err)
	}
	return nil
}
