// Package httpin is the HTTP input: Splunk HEC (/services/collector/...),
// Elasticsearch/OpenSearch _bulk and plain NDJSON or JSON arrays (/ingest),
// with gzip or zstd bodies.
//
// A request is answered only after every event it carried was accepted by all
// the destinations it was routed to (the batch's Ack fired), and after every
// record that could not become an event was stored in quarantine. Errors keep
// each protocol's own shape: HEC's {"text","code"}, a bulk response with
// per-item status, or an NDJSON summary.
package httpin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/connlimit"
	"github.com/logrouter/logrouter/internal/jsonscan"
	"github.com/logrouter/logrouter/internal/promreg"
	"github.com/logrouter/logrouter/internal/tlsconf"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/engine"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/route"
)

// Protocol names, used in metrics and event metadata.
const (
	ProtoHEC    = "hec"
	ProtoHECRaw = "hec_raw"
	ProtoHECAck = "hec_ack" // acknowledgement polls (logrouter_http_requests_total only)
	ProtoBulk   = "bulk"
	ProtoNDJSON = "ndjson"
)

// Server is one HTTP input.
type Server struct {
	cfg    Config
	eng    *engine.Engine
	log    *slog.Logger
	sem    chan struct{}
	mem    budget // max_inflight_bytes
	srv    *http.Server
	ln     net.Listener
	grpc   *grpcServer // OTLP/gRPC (grpc_address), nil when off
	tokens []Token
	// tokenDigests are the tokens' SHA-256 digests, in tokens' order:
	// compared in constant time, they reveal neither a token nor its
	// length.
	tokenDigests [][sha256.Size]byte

	refused      refusedRejects // see deliver
	parsers      fastjson.ParserPool
	reqCtr       *prometheus.CounterVec
	conns        *connlimit.Limiter     // max_connections, max_connections_per_ip
	refusedConns *prometheus.CounterVec // logrouter_http_connections_refused_total
	lastWarn     atomic.Int64           // unix ns of the last refused-connection warning
	tokenReqs    []prometheus.Counter   // per configured token, in cfg.Tokens order
	bytes        prometheus.Counter

	mu      sync.Mutex
	started bool
	closed  bool
	done    chan error
}

// New returns a server for cfg; call Start to listen.
func New(cfg Config, eng *engine.Engine, log *slog.Logger) (*Server, error) {
	cfg.SetDefaults()
	if err := cfg.Validate("inputs.http"); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	if cfg.MaxInflightBytes == 0 {
		cfg.MaxInflightBytes = defaultInflightBytes()
	}
	s := &Server{
		cfg:    cfg,
		eng:    eng,
		log:    log.With("input", cfg.Name),
		sem:    make(chan struct{}, cfg.MaxConcurrentRequests),
		mem:    budget{limit: cfg.MaxInflightBytes},
		tokens: cfg.Tokens,
		tokenDigests: func() [][sha256.Size]byte {
			d := make([][sha256.Size]byte, len(cfg.Tokens))
			for i := range cfg.Tokens {
				d[i] = sha256.Sum256([]byte(cfg.Tokens[i].Token))
			}
			return d
		}(),
		reqCtr: eng.Metrics().Requests,
		bytes:  eng.Metrics().InputBytes.WithLabelValues(cfg.Name),
	}
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_http_connections_refused_total",
		Help: "HTTP input connections closed at once, by reason: max_connections (every slot taken), max_connections_per_ip (the source address holds that many)."},
		[]string{"input", "reason"})
	refused, err := promreg.Register(eng.Metrics().Registry, refused)
	if err != nil {
		return nil, err
	}
	hsFail, err := promreg.Register(eng.Metrics().Registry, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_http_tls_handshake_failures_total",
		Help: "HTTP input connections whose TLS handshake failed (a sender that does not trust the certificate, plain HTTP sent to the TLS port, a scanner); logged at debug, summed up in a warning at most once a minute."},
		[]string{"input"}))
	if err != nil {
		return nil, err
	}
	s.conns = connlimit.New(cfg.MaxConnections, cfg.MaxConnectionsPerIP)
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          newServerErrorLog(s.log, hsFail.WithLabelValues(cfg.Name)),
	}
	s.refusedConns = refused
	for _, t := range cfg.Tokens {
		s.tokenReqs = append(s.tokenReqs, eng.Metrics().TokenRequests.WithLabelValues(cfg.Name, t.Name))
	}
	if len(cfg.Tokens) == 0 {
		s.log.Warn("no tokens configured: the HTTP input accepts unauthenticated requests; set inputs.http.tokens")
	}
	for _, t := range cfg.Tokens {
		if t.Token == PublishedDevToken {
			s.log.Warn("the HTTP input accepts the development token published in the README (the embedded configuration's default): anyone can send events; set LOGROUTER_HEC_TOKEN or your own tokens before exposing the port",
				"token_name", t.Name)
		}
	}
	return s, nil
}

// PublishedDevToken is the token the embedded configuration accepts unless
// LOGROUTER_HEC_TOKEN is set; it is in the README, so New warns when it is
// accepted.
const PublishedDevToken = "dev-token-change-me"

// Handler returns the request router (for tests and embedding). Every
// served path answers other methods 405 with Allow (from the same table),
// every other path a JSON 404 (handleNotFound).
func (s *Server) Handler() http.Handler {
	hec, raw, bulk := s.limit(ProtoHEC, s.handleHEC), s.limit(ProtoHECRaw, s.handleHECRaw), s.limit(ProtoBulk, s.handleBulk)
	hec, raw = withHECOptions(hec), withHECOptions(raw)
	ack := s.limit(ProtoHECAck, s.handleHECAck)
	routes := []struct {
		methods, path string
		h             http.HandlerFunc
	}{
		{"POST OPTIONS", "/services/collector", hec},
		{"POST OPTIONS", "/services/collector/event", hec},
		{"POST OPTIONS", "/services/collector/event/1.0", hec},
		{"POST OPTIONS", "/services/collector/raw", raw},
		{"POST OPTIONS", "/services/collector/raw/1.0", raw},
		{"POST", "/services/collector/ack", ack},
		{"POST", "/services/collector/ack/1.0", ack},
		{"GET", "/services/collector/health", s.handleHECHealth},
		{"GET", "/services/collector/health/1.0", s.handleHECHealth},
		{"POST PUT", "/_bulk", bulk},
		{"POST PUT", "/{index}/_bulk", bulk},
		{"GET HEAD", "/{$}", s.handleESInfo},
		{"GET", "/_license", s.handleESLicense},
		{"GET HEAD", "/_cluster/health", s.handleESClusterHealth},
		{"GET", "/_xpack", s.handleESXPack},
		{"GET PUT DELETE", "/_ingest/pipeline/{id}", s.handleESIngestPipeline},
		{"GET", "/_nodes/ingest", s.handleESNodesIngest},
		{"POST", "/ingest", s.limit(ProtoNDJSON, s.handleNDJSON)},
		{"POST", "/firehose", firehoseEcho(s.limit(ProtoFirehose, s.handleFirehose))},
		{"POST", "/v1/logs", s.limit(ProtoOTLP, s.handleOTLP)},
	}
	mux := http.NewServeMux()
	for _, r := range routes {
		methods := strings.Fields(r.methods)
		for _, m := range methods {
			mux.HandleFunc(m+" "+r.path, r.h)
		}
		if slices.Contains(methods, "GET") && !slices.Contains(methods, "HEAD") {
			methods = append(methods, "HEAD") // a GET pattern serves HEAD too
		}
		mux.HandleFunc(r.path, methodNotAllowed(strings.Join(methods, ", ")))
	}
	mux.HandleFunc("/", s.handleNotFound)
	return boundWrites(mux, s.cfg.ReadTimeout)
}

// boundWrites gives every answer read_timeout to be written, from its
// first byte: a sender that stops reading its answer (a large _bulk answer,
// pipelined requests) would otherwise hold its handler, its
// max_concurrent_requests slot, its connection and goroutine for ever. The
// time a request takes to be delivered before it is answered is not
// counted (delivery is bounded by the engine's own timeouts), so there is
// no http.Server WriteTimeout.
func boundWrites(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Time{}) // the previous answer's bound is no longer this one's
		h.ServeHTTP(&deadlineWriter{ResponseWriter: w, rc: rc, d: d}, r)
	})
}

// deadlineWriter sets the connection's write deadline at an answer's first
// byte. The deadline stays for the part of the answer net/http flushes
// after the handler returns.
type deadlineWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	d     time.Duration
	armed bool
}

func (w *deadlineWriter) arm() {
	if !w.armed {
		w.armed = true
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.d))
	}
}

func (w *deadlineWriter) WriteHeader(code int) { w.arm(); w.ResponseWriter.WriteHeader(code) }

func (w *deadlineWriter) Write(b []byte) (int, error) { w.arm(); return w.ResponseWriter.Write(b) }

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Start listens on the configured address and serves in the background.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("httpin: already started")
	}
	// Load the certificate before listening: ServeTLS would load it in
	// the background, and a file that does not load would leave a
	// listener that never answers while the router reports itself ready.
	// The pair is loaded again when its files change (a renewal).
	var kp *tlsconf.KeyPair
	if s.cfg.TLSCertFile != "" {
		var err error
		if kp, err = tlsconf.LoadKeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile, s.log); err != nil {
			return fmt.Errorf("inputs.http: load tls_cert_file/tls_key_file: %w", err)
		}
	}
	ln, err := net.Listen("tcp", s.cfg.Address)
	if err != nil {
		return fmt.Errorf("inputs.http: listen on %s: %w (is another process using the port? change inputs.http.address)", s.cfg.Address, err)
	}
	// max_connections and max_connections_per_ip: a connection past them
	// is closed at accept, before a TLS handshake or a request is read.
	ln = s.conns.Listener(ln, func(c net.Conn, reason string) {
		s.refusedConns.WithLabelValues(s.cfg.Name, reason).Inc()
		s.warnRefused(c, reason)
	})
	s.ln = ln
	s.started = true
	s.done = make(chan error, 1)
	if s.cfg.TLSCertFile != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if s.srv.TLSConfig != nil {
			cfg = s.srv.TLSConfig.Clone()
		}
		cfg.GetCertificate = kp.GetCertificate
		s.srv.TLSConfig = cfg
	}
	go func() {
		var err error
		if s.cfg.TLSCertFile != "" {
			err = s.srv.ServeTLS(ln, "", "") // the certificate is in TLSConfig
		} else {
			err = s.srv.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	s.log.Info("HTTP input listening", "address", ln.Addr().String(), "tls", s.cfg.TLSCertFile != "")
	if s.cfg.GRPCAddress != "" {
		if err := s.startGRPC(kp); err != nil {
			_ = s.srv.Close()
			<-s.done
			s.closed = true
			return err
		}
	}
	return nil
}

// Addr returns the listening address (after Start).
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Shutdown stops accepting connections and waits, bounded by ctx, for the
// requests in progress to be answered. It is idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closed || !s.started {
		s.closed = true
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	var gerr chan error
	if s.grpc != nil {
		gerr = make(chan error, 1)
		go func() { gerr <- s.grpc.shutdown(ctx) }()
	}
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; err == nil {
		err = serr
	}
	if gerr != nil {
		if gErr := <-gerr; err == nil {
			err = gErr
		}
	}
	return err
}

// limit bounds concurrent requests and counts them by status code. A slot
// is given back however h ends, a panic (which net/http recovers) included.
// The handler gets the request's share of max_inflight_bytes, given back
// when it returns.
func (s *Server) limit(proto string, h func(w http.ResponseWriter, r *http.Request, c *charge) int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var code int
		select {
		case s.sem <- struct{}{}:
			c := &charge{b: &s.mem, proto: proto}
			defer func() { c.release(); <-s.sem }()
			code = h(w, r, c)
		default:
			msg := fmt.Sprintf("logrouter is busy: %d requests in progress (raise inputs.http.max_concurrent_requests or add replicas)", s.cfg.MaxConcurrentRequests)
			if proto == ProtoOTLP {
				w.Header().Set("Retry-After", "1")
				code = writeOTLPStatus(w, otlpAnswerEncoding(r), http.StatusTooManyRequests, msg)
			} else {
				code = writeBusy(w, proto, msg)
			}
		}
		s.reqCtr.WithLabelValues(s.cfg.Name, proto, strconv.Itoa(code)).Inc()
	}
}

// writeBusy answers that the server is busy and the client should retry
// the request after a second: 503 "Server is busy" for HEC (it has no
// 429), 429 es_rejected_execution_exception (what Elasticsearch answers
// under indexing pressure) otherwise.
func writeBusy(w http.ResponseWriter, proto, msg string) int {
	w.Header().Set("Retry-After", "1")
	switch proto {
	case ProtoHEC, ProtoHECRaw, ProtoHECAck:
		return writeHEC(w, http.StatusServiceUnavailable, hecBusy, msg)
	case ProtoFirehose:
		return writeFirehose(w, http.StatusServiceUnavailable, msg)
	case ProtoNDJSON:
		// /ingest's own error shape, as for its other refusals.
		return writeNDJSONError(w, http.StatusTooManyRequests, msg)
	}
	return writeJSONError(w, http.StatusTooManyRequests, "es_rejected_execution_exception", msg)
}

// busyMsg is the answer to a request refused by max_inflight_bytes.
func (s *Server) busyMsg() string {
	return fmt.Sprintf("logrouter is busy: the requests in progress hold inputs.http.max_inflight_bytes (%d bytes) of bodies and events; retry, send smaller batches, or raise max_inflight_bytes (and the memory limit) or add replicas", s.cfg.MaxInflightBytes)
}

// authenticate returns the matching token, or an error kind.
type authResult int

const (
	authOK authResult = iota
	authMissing
	authMalformed
	authInvalid
	authQueryDisabled
)

func (s *Server) authenticate(r *http.Request, hec bool) (*Token, authResult) {
	if len(s.tokens) == 0 {
		return nil, authOK
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		if q := r.URL.Query().Get("token"); q != "" && hec {
			if !s.cfg.AllowQueryToken {
				return nil, authQueryDisabled
			}
			return s.checkSecret(q)
		}
	}
	return s.authHeader(h)
}

// authHeader returns the token an Authorization header's value names (as
// authenticate reads it; an OTLP/gRPC call's "authorization" metadata).
func (s *Server) authHeader(h string) (*Token, authResult) {
	if len(s.tokens) == 0 {
		return nil, authOK
	}
	var secret string
	switch {
	case h == "":
		return nil, authMissing
	default:
		scheme, rest, ok := strings.Cut(h, " ")
		if !ok {
			return nil, authMalformed
		}
		rest = strings.TrimSpace(rest)
		switch strings.ToLower(scheme) {
		case "splunk", "bearer":
			secret = rest
		case "basic":
			dec, err := base64.StdEncoding.DecodeString(rest)
			if err != nil {
				return nil, authMalformed
			}
			_, pw, ok := strings.Cut(string(dec), ":")
			if !ok {
				return nil, authMalformed
			}
			secret = pw
		case "apikey": // Elasticsearch API key: base64(id:key), the key is the token
			dec, err := base64.StdEncoding.DecodeString(rest)
			if err != nil {
				return nil, authMalformed
			}
			if _, k, ok := strings.Cut(string(dec), ":"); ok {
				secret = k
			} else {
				secret = string(dec)
			}
		default:
			return nil, authMalformed
		}
	}
	return s.checkSecret(secret)
}

// checkSecret returns the token whose secret is secret. Every token's
// digest is compared, in constant time: the time taken tells neither
// which token matched nor any token's length.
func (s *Server) checkSecret(secret string) (*Token, authResult) {
	d := sha256.Sum256([]byte(secret))
	match := -1
	for i := range s.tokenDigests {
		if subtle.ConstantTimeCompare(d[:], s.tokenDigests[i][:]) == 1 && match < 0 {
			match = i
		}
	}
	if match < 0 {
		return nil, authInvalid
	}
	s.tokenReqs[match].Inc()
	return &s.tokens[match], authOK
}

// request is the state of one ingest request.
type request struct {
	s        *Server
	proto    string
	b        *pipeline.Batch
	w        *route.Worker
	p        *fastjson.Parser
	rejected []pipeline.Rejected
	tok      *Token
	em       normalize.EventMeta
	env      *fastjson.Value // the HEC envelope whose event is being added (partRaw), else nil
	whole    *fastjson.Value // the record whose parts are being added (partRaw), else nil
	cw       *CloudWatchMessage
	cwEvent  *fastjson.Value // with cw: the log event whose message is being added (partRaw)
	otlp     otlpEnc         // an OTLP request's encoding, its answers' too
	// rejBytes counts what the request made of records it quarantined
	// beyond their own bytes (an OTLP record's envelope), against
	// max_normalized_bytes with the batch's events.
	rejBytes int64
	over     overLimit // which per-request limit the request passed, if any
	c        *charge   // its share of max_inflight_bytes
	scratch  int64     // buffers the handler holds besides body and batch (firehose records)
	parsed   int64     // what its parser holds: the largest parse cost of a record so far (valueCost)
	// rejST and rejIndex are the defaults a quarantined record keeps for
	// its replay (pipeline.Rejected.DefaultSourceType, DefaultIndex);
	// rejMeta the request's other metadata for its records (the HEC
	// endpoints' query string: pipeline.Rejected.SourceType, DefaultHost,
	// DefaultSource, DefaultTime).
	rejST, rejIndex string
	rejMeta         rejectMeta
}

// overLimit names a per-request limit a request passed.
type overLimit uint8

const (
	notOver overLimit = iota
	overEvents
	overNormalized
	overBudget // max_inflight_bytes, shared by all requests: busy, not too large
)

func (s *Server) newRequest(r *http.Request, proto string, tok *Token, bodyLen int, c *charge) *request {
	return s.newRequestFrom(peerIP(r.RemoteAddr), proto, tok, bodyLen, c)
}

// newRequestFrom is newRequest for a request from the address peer (an
// OTLP/gRPC call's).
func (s *Server) newRequestFrom(peer, proto string, tok *Token, bodyLen int, c *charge) *request {
	q := &request{s: s, proto: proto, tok: tok, c: c}
	q.b = pipeline.NewBatch()
	q.b.Meta = pipeline.Meta{
		Input:      s.cfg.Name,
		Protocol:   proto,
		Peer:       peer,
		IngestTime: time.Now().UnixNano(),
	}
	if tok != nil {
		q.b.Meta.Token = tok.Name
	}
	q.rejST = s.cfg.SourceType
	if tok != nil && tok.SourceType != "" {
		q.rejST = tok.SourceType
	}
	// Normalized output is about the input size plus metadata per event.
	q.b.Grow(bodyLen + bodyLen/4 + 4096)
	q.w = s.eng.Worker()
	q.p = s.parsers.Get()
	return q
}

// defaultSourceType is the token's, else the input's configured source type.
func (q *request) defaultSourceType() []byte {
	if q.tok != nil && q.tok.SourceType != "" {
		return []byte(q.tok.SourceType)
	}
	if q.s.cfg.SourceType != "" {
		return []byte(q.s.cfg.SourceType)
	}
	return nil
}

// parse parses one record of the body with q's parser, refusing nesting
// deeper than jsonscan.MaxDepth before the parser sees it (see there).
func (q *request) parse(raw []byte) (*fastjson.Value, error) {
	if jsonscan.TooDeep(raw, jsonscan.MaxDepth) {
		return nil, errTooDeep
	}
	if err := q.noteParse(raw); err != nil {
		return nil, err
	}
	if len(raw) > jsonscan.CostScanBytes && q.full(q.records()) {
		// What the parse would hold does not fit max_inflight_bytes with
		// the other requests': refused (busy) before it is allocated, not
		// after. full marked the request; it is answered as refused.
		return nil, errOverBudget
	}
	return q.p.ParseBytes(raw)
}

// errOverBudget: a record's parse would pass max_inflight_bytes; the
// request is refused whole (busy), so the reason never reaches the
// quarantine.
var errOverBudget = errors.New("max_inflight_bytes reached")

// noteParse refuses raw when it is too dense in values to parse
// (valueCost), else counts what parsing it makes q's parser hold: full
// charges it to max_inflight_bytes before the next record.
func (q *request) noteParse(raw []byte) error {
	c, err := valueCost(raw)
	q.parsed = max(q.parsed, c)
	return err
}

// errTooDeep refuses a record nested deeper than jsonscan.MaxDepth.
var errTooDeep = jsonscan.ErrTooDeep

// errTooManyValues refuses a record too dense in values (valueCost).
var errTooManyValues = jsonscan.ErrTooManyValues

// parseReason is the quarantine reason of a record parse refused with err.
func parseReason(err error) string {
	switch err {
	case errTooDeep:
		return "too_deep"
	case errTooManyValues:
		return "too_many_values"
	}
	return "invalid_json"
}

// valueCost returns about what parsing raw holds of the heap, or
// errTooManyValues (see jsonscan.ParseCost).
func valueCost(raw []byte) (int64, error) { return jsonscan.ParseCost(raw) }

// putParser pools q's parser again unless a large parse grew it.
func (q *request) putParser() {
	if q.parsed <= jsonscan.KeepParserBytes {
		q.s.parsers.Put(q.p)
	}
}

// maxDetail bounds the text kept with a refused record (an error message
// quoting input must not grow a record's quarantine or an answer).
const maxDetail = 1024

func detail(err error) string {
	d := err.Error()
	if len(d) > maxDetail {
		d = d[:maxDetail] + "..."
	}
	return d
}

// rejectMeta is what a request's query string gave all its records.
type rejectMeta struct {
	sourceType, host, source string
	time                     int64
}

func (q *request) reject(raw []byte, reason string, err error) {
	q.rejected = append(q.rejected, pipeline.Rejected{
		Raw: raw, Reason: reason, Detail: detail(err),
		Input: q.b.Meta.Input, Protocol: q.proto, Peer: q.b.Meta.Peer,
		Time:              q.b.Meta.IngestTime,
		DefaultSourceType: q.rejST, DefaultIndex: q.rejIndex,
		SourceType: q.rejMeta.sourceType, DefaultHost: q.rejMeta.host, DefaultSource: q.rejMeta.source,
		DefaultTime: q.rejMeta.time,
	})
}

// oversized quarantines raw, and reports true, when it is longer than
// max_event_bytes: such a record is never parsed (see Config.MaxEventBytes).
// The quarantine keeps its first max_event_bytes bytes.
func (q *request) oversized(raw []byte) bool {
	max := q.s.cfg.MaxEventBytes
	if len(raw) <= max {
		return false
	}
	q.reject(raw[:max], "too_large", fmt.Errorf("record of %d bytes exceeds inputs.http.max_event_bytes (%d); these are its first bytes: split it at the source or raise max_event_bytes", len(raw), max))
	return true
}

// add normalizes one record into the batch, or each event of a record
// that holds several (normalize.Parts: a batch envelope, Azure's
// {"records":[...]} or CloudTrail's {"Records":[...]}, a Graph or Google
// Reports API page; a Google Workspace activity's events) with the same metadata; failures are quarantined, a
// split event's alone (as its own JSON). It reports false when it
// quarantined a record (the last of q.rejected). A record whose events
// would pass max_events_per_request takes none and marks the request over
// it (full reports it).
func (q *request) add(raw []byte, obj *fastjson.Value, text []byte) bool {
	if obj != nil {
		if parts, activity := normalize.Parts(obj); parts != nil {
			if q.records()+normalize.Count(parts, activity) > q.s.cfg.MaxEventsPerRequest {
				// Its events count against max_events_per_request as
				// lines would: the request is refused whole (full).
				q.over = overEvents
				return true
			}
			q.whole = obj
			defer func() { q.whole = nil }()
			return q.w.AddParts(q.b, obj, parts, activity, &q.em, func(part *fastjson.Value, err error) {
				q.reject(q.partRaw(part), normalize.Reason(err), err)
				if q.cw != nil {
					q.rejected[len(q.rejected)-1].Protocol = ProtoCloudWatch
				}
			})
		}
	}
	return q.addOne(raw, obj, text)
}

// partRaw is the quarantine record of part, one event of a record that
// holds several (normalize.Parts): its own JSON; on HEC's event endpoint
// the envelope holding only it (q.env, EnvelopeWith), so that a replay
// unwraps it as HEC would, with the envelope's sourcetype, host and time;
// from a CloudWatch Logs message, that message with only its log event
// (q.cw, q.cwEvent) and it as the log event's message (ProtoCloudWatch),
// so that a replay keeps the log group, stream, account and time; a
// batch envelope's record refused on a request with a time of its own
// (HEC raw's ?time=), in a batch envelope of its own, so that the replay,
// which applies that time again, takes it as the record's default time
// (route.Worker.AddRecords) as the request did, not over the record's own.
func (q *request) partRaw(part *fastjson.Value) []byte {
	switch {
	case q.env != nil:
		return EnvelopeWith(q.env, part)
	case q.cw != nil:
		return q.cw.RecordWith(q.cwEvent, part.MarshalTo(nil))
	case q.rejMeta.time != 0 && part != q.whole:
		return inRecords(part).MarshalTo(nil)
	}
	return part.MarshalTo(nil)
}

// inRecords returns {"records":[part]}, a batch envelope of one record.
func inRecords(part *fastjson.Value) *fastjson.Value {
	var a fastjson.Arena
	arr := a.NewArray()
	arr.SetArrayItem(0, part)
	o := a.NewObject()
	o.Set("records", arr)
	return o
}

// EnvelopeWith returns the HEC envelope env (its metadata: sourcetype,
// host, time...) with part of its event instead of the event: the
// activity part is (its event, holding one of its events), or a record of
// the batch envelope its event is, in a batch envelope of its own, so
// that the envelope's time stays that record's default time (as
// route.Worker.AddRecords takes it) when it is replayed. env is as it was
// when it returns.
func EnvelopeWith(env, part *fastjson.Value) []byte {
	ev := env.Get("event")
	if part != ev {
		part = inRecords(part)
	}
	env.Set("event", part)
	raw := env.MarshalTo(nil)
	env.Set("event", ev)
	return raw
}

// addOne normalizes one record into the batch as one event, never split
// (a _bulk item answers for exactly one); failures are quarantined.
func (q *request) addOne(raw []byte, obj *fastjson.Value, text []byte) bool {
	if err := q.w.Add(q.b, obj, text, &q.em); err != nil {
		q.reject(raw, normalize.Reason(err), err)
		return false
	}
	return true
}

// full reports whether the request may take no further record: records
// (what it holds: events and rejected records, or bulk items) reached
// max_events_per_request, its events passed max_normalized_bytes, or what
// it holds (body and events) could not be taken from max_inflight_bytes.
// It notes which in q.over. Handlers call it before each record and, with
// 0, after the last; once it held, they answer refuse and deliver nothing.
// Checking between records bounds memory by the limits plus one record.
func (q *request) full(records int) bool {
	switch {
	case q.over != notOver:
	case records >= q.s.cfg.MaxEventsPerRequest:
		q.over = overEvents
	case int64(len(q.b.Arena()))+q.rejBytes > q.s.cfg.MaxNormalizedBytes:
		q.over = overNormalized
	case !q.c.to(q.c.body + q.scratch + q.parsed + int64(cap(q.b.Arena())) + int64(cap(q.b.Events))*eventBytes + int64(cap(q.rejected))*rejectedBytes):
		q.over = overBudget
	default:
		return false
	}
	return true
}

// eventBytes is the memory of one pipeline.Event in a batch.
const eventBytes = int64(unsafe.Sizeof(pipeline.Event{}))

// rejectedBytes is the memory of one quarantined record's entry, its
// detail included (a request of many tiny records that are all refused
// holds little else).
const rejectedBytes = int64(unsafe.Sizeof(pipeline.Rejected{})) + 64

// records is how many records the request holds.
func (q *request) records() int { return len(q.b.Events) + len(q.rejected) }

// refuse releases the request, which passed a limit (see full), without
// delivering or quarantining anything, and answers it in its protocol:
// busy (retry) past max_inflight_bytes, else 413 naming the limit and
// what to change.
func (q *request) refuse(w http.ResponseWriter) int {
	q.abort()
	var msg string
	switch q.over {
	case overBudget:
		if q.proto == ProtoOTLP {
			w.Header().Set("Retry-After", "1")
			return writeOTLPStatus(w, q.otlp, http.StatusTooManyRequests, q.s.busyMsg())
		}
		return writeBusy(w, q.proto, q.s.busyMsg())
	case overEvents:
		msg = fmt.Sprintf("request carries more than %d records: send smaller batches or raise inputs.http.max_events_per_request", q.s.cfg.MaxEventsPerRequest)
	default:
		msg = fmt.Sprintf("request's events exceed %d bytes once normalized: send smaller batches or raise inputs.http.max_normalized_bytes", q.s.cfg.MaxNormalizedBytes)
	}
	switch q.proto {
	case ProtoHEC, ProtoHECRaw:
		return writeHEC(w, http.StatusRequestEntityTooLarge, hecInvalidFormat, msg)
	case ProtoBulk:
		return writeJSONError(w, http.StatusRequestEntityTooLarge, "illegal_argument_exception", msg)
	case ProtoFirehose:
		return writeFirehose(w, http.StatusRequestEntityTooLarge, msg+" (or lower the stream's buffer size)")
	case ProtoOTLP:
		return writeOTLPStatus(w, q.otlp, http.StatusRequestEntityTooLarge, msg+" (the exporter's sending_queue batch size)")
	}
	return writeNDJSONError(w, http.StatusRequestEntityTooLarge, msg)
}

// quarantineError is a failed quarantine write; nothing of the request was
// delivered.
type quarantineError struct{ err error }

func (e quarantineError) Error() string { return e.err.Error() }
func (e quarantineError) Unwrap() error { return e.err }

// deliver releases the parser and worker, stores rejected records, emits the
// batch and waits for its Ack. It returns the delivery error, if any; the
// batch is released. When it fails nothing was accepted: the rejected records
// are stored first (a quarantineError, and no Emit, when they could not be)
// and a batch is delivered whole or not at all. Records a refused request
// stored are not stored again when the sender resends it (refusedRejects).
func (q *request) deliver(ctx context.Context) (accepted int, err error) {
	q.putParser()
	q.s.eng.PutWorker(q.w)
	q.p, q.w = nil, nil
	defer func() {
		q.b.Release()
		q.b = nil
	}()
	if recs := q.s.refused.stored(q.rejected); len(recs) > 0 {
		if qerr := q.s.eng.Quarantine(ctx, recs); qerr != nil {
			// Nothing of the request is taken: the sender resends it all.
			q.s.eng.Refuse(q.b.Meta.Input, len(q.b.Events)+len(q.rejected))
			return 0, quarantineError{qerr}
		}
	}
	accepted = len(q.b.Events)
	if accepted == 0 {
		return 0, nil
	}
	done := make(chan error, 1)
	q.b.Ack = pipeline.NewAck(func(err error) { done <- err })
	_ = q.s.eng.Emit(ctx, q.b) // the Ack reports any error
	if err := <-done; err != nil {
		// Its rejected records are in the quarantine: the resend's are
		// not stored again (refusedRejects).
		if len(q.rejected) > 0 {
			q.s.refused.remember(q.rejected)
		}
		return 0, err
	}
	return accepted, nil
}

// abort releases resources without delivering.
func (q *request) abort() {
	if q.p != nil {
		q.putParser()
		q.s.eng.PutWorker(q.w)
		q.p, q.w = nil, nil
	}
	if q.b != nil {
		q.b.Release()
		q.b = nil
	}
}

// readBody reads and decodes the request body; on error it returns the HTTP
// status and message to answer with: 413 past max_body_bytes, 415 for an
// unknown encoding, 400 for data that cannot be decoded (final), and 503
// with Retry-After (set on w) when the connection failed before the whole
// body arrived, which says nothing about the data.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, c *charge) (*[]byte, int, string) {
	bp, err := readBody(r.Body, r.Header.Get("Content-Encoding"), s.cfg.MaxBodyBytes, r.ContentLength, c)
	var ee errEncoding
	var re errRead
	var ne net.Error
	switch {
	case err == nil:
		s.bytes.Add(float64(len(*bp)))
		return bp, 0, ""
	case errors.Is(err, errBusy):
		// As writeBusy answers: HEC has no 429.
		w.Header().Set("Retry-After", "1")
		if c.proto == ProtoHEC || c.proto == ProtoHECRaw {
			return nil, http.StatusServiceUnavailable, s.busyMsg()
		}
		return nil, http.StatusTooManyRequests, s.busyMsg()
	case errors.Is(err, errTooLarge):
		return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes after decompression: send smaller batches or raise inputs.http.max_body_bytes", s.cfg.MaxBodyBytes)
	case errors.As(err, &ee):
		return nil, http.StatusUnsupportedMediaType, err.Error()
	case errors.As(err, &re):
		w.Header().Set("Retry-After", "1")
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, http.StatusServiceUnavailable, fmt.Sprintf("the request body did not arrive within inputs.http.read_timeout (%s), nothing was accepted: retry; for slow links send smaller batches or raise read_timeout", s.cfg.ReadTimeout)
		}
		return nil, http.StatusServiceUnavailable, "the connection failed before the whole request body arrived, nothing was accepted: retry (" + err.Error() + ")"
	default:
		return nil, http.StatusBadRequest, err.Error()
	}
}

func peerIP(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// deliveryStatus maps a failed delivery to the status that makes senders
// retry: 429 when a destination's queue is full (backpressure: slow down),
// 503 otherwise. HEC has no 429 in its protocol; callers answer 503 code 9
// ("Server is busy") there. The message names what to change.
func deliveryStatus(err error) (int, string) {
	switch {
	case errors.Is(err, engine.ErrShuttingDown):
		return http.StatusServiceUnavailable, "logrouter is shutting down; retry against another replica"
	case errors.Is(err, pipeline.ErrOverloaded):
		return http.StatusTooManyRequests, err.Error()
	case errors.As(err, new(quarantineError)):
		return http.StatusServiceUnavailable, "records that cannot become events could not be stored in quarantine, so nothing in this request was accepted; retry: " + err.Error()
	}
	return http.StatusServiceUnavailable, "events were not accepted by every destination, retry: " + err.Error()
}

// warnRefused logs a refused connection, at most once a minute (peers choose
// how often they are refused; the metric counts each).
func (s *Server) warnRefused(c net.Conn, reason string) {
	now := time.Now().UnixNano()
	last := s.lastWarn.Load()
	if now-last < int64(time.Minute) || !s.lastWarn.CompareAndSwap(last, now) {
		return
	}
	hint := "every inputs.http.max_connections slot is taken: raise it, add replicas, or find the peers holding them"
	if reason == connlimit.ReasonPerIP {
		hint = "this address holds inputs.http.max_connections_per_ip connections: raise it if the address is a load balancer or NAT gateway many senders share"
	}
	s.log.Warn("HTTP connection refused (further refusals are only counted for a minute: logrouter_http_connections_refused_total)",
		"peer", c.RemoteAddr().String(), "reason", reason, "hint", hint)
}
