// Package hecfake is a fake Splunk HTTP Event Collector for tests. It is
// not Splunk: it implements the documented protocol (Splunk docs "Format
// events for HTTP Event Collector", "Troubleshoot HTTP Event Collector" and
// "About HTTP Event Collector Indexer Acknowledgment") closely enough to
// test a sender, with knobs to inject the failures a real deployment shows.
//
// Implemented: token authentication ("Authorization: Splunk <token>"; 401
// code 2 without it, 401 code 3 when malformed, 403 code 4 for an unknown
// token, 403 code 1 for a disabled one); /services/collector/event (and
// /services/collector, /services/collector/event/1.0) with concatenated
// JSON envelopes, optionally gzip-compressed (Content-Encoding: gzip),
// validated one by one as Splunk does: the events before the first invalid
// one are indexed and the answer is 400 with the invalid event's number
// (code 6 invalid data format, 7 incorrect index, 12 event field required,
// 13 event field blank), 400 code 5 for an empty body; 200
// {"text":"Success","code":0}, with "ackId" when acknowledgement is on;
// 503 code 9 when busy (FailNext); request channels
// (X-Splunk-Request-Channel or ?channel=; with acknowledgement on, 400
// code 10 when missing and 400 code 11 when not a UUID); ackIds increasing
// from 0 per channel;
// /services/collector/ack answering {"acks":{"0":true,...}} (an id
// reported true is forgotten, as Splunk does), 400 code 14 when
// acknowledgement is off; /services/collector/health (200 code 17, or 503
// code 18 when set unhealthy).
//
// Not implemented: raw endpoint, query-string tokens, per-token default
// index and sourcetype, channel limits and ack expiry.
package hecfake

import (
	"bytes"
	"compress/gzip"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HEC codes.
const (
	CodeSuccess        = 0
	CodeTokenDisabled  = 1
	CodeTokenRequired  = 2
	CodeInvalidAuth    = 3
	CodeInvalidToken   = 4
	CodeNoData         = 5
	CodeInvalidFormat  = 6
	CodeIncorrectIndex = 7
	CodeServerError    = 8
	CodeBusy           = 9
	CodeNoChannel      = 10
	CodeBadChannel     = 11
	CodeEventRequired  = 12
	CodeEventBlank     = 13
	CodeAckDisabled    = 14
	CodeHealthy        = 17
	CodeUnhealthy      = 18
)

var codeText = map[int]string{
	CodeSuccess: "Success", CodeTokenDisabled: "Token disabled", CodeTokenRequired: "Token is required",
	CodeInvalidAuth: "Invalid authorization", CodeInvalidToken: "Invalid token", CodeNoData: "No data",
	CodeInvalidFormat: "Invalid data format", CodeIncorrectIndex: "Incorrect index", CodeServerError: "Internal server error",
	CodeBusy: "Server is busy", CodeNoChannel: "Data channel is missing", CodeBadChannel: "Invalid data channel",
	CodeEventRequired: "Event field is required", CodeEventBlank: "Event field cannot be blank",
	CodeAckDisabled: "ACK is disabled", CodeHealthy: "HEC is healthy", CodeUnhealthy: "HEC is unhealthy, queues are full",
}

// Config configures a Server.
type Config struct {
	// Tokens are the valid tokens. Default {"test-token"}.
	Tokens []string
	// Ack turns indexer acknowledgement on.
	Ack bool
	// Indexes, when set, are the indexes events may name (code 7 for
	// others); events without an index are always accepted.
	Indexes []string
	// MaxContentLength answers 413 for larger (decompressed) bodies; 0: no
	// limit.
	MaxContentLength int
	// TLS serves HTTPS with httptest's certificate (see Certificate).
	TLS bool
}

// Event is one indexed event.
type Event struct {
	Time       json.Number
	Host       string
	Source     string
	SourceType string
	Index      string
	// Event is the "event" value as sent.
	Event  json.RawMessage
	Fields map[string]any
	// Channel and AckID are those of the request (AckID -1 without ack).
	Channel  string
	AckID    int64
	Received time.Time
	Gzip     bool
	// Auth is the token that was used.
	Auth string
}

// Stats counts what the server saw.
type Stats struct {
	Requests      int // event requests
	Accepted      int // event requests answered 200
	Failed        int // event requests answered otherwise
	Injected      int // failures injected by FailNext
	AckPolls      int
	AcksConfirmed int
	AcksDropped   int // ackIds that will never be confirmed
	GzipRequests  int
	AuthFailures  int
	Health        int
	MaxInFlight   int
	inFlight      int
}

type ackState struct {
	ready   time.Time
	dropped bool
}

type channelState struct {
	next int64
	acks map[int64]*ackState
}

// Server is a running fake. All methods are safe for concurrent use.
type Server struct {
	cfg Config
	srv *httptest.Server

	mu        sync.Mutex
	tokens    map[string]bool // token -> disabled
	events    []Event
	stats     Stats
	failNext  []failure
	delayN    int
	delay     time.Duration
	ackOn     bool
	ackDelay  time.Duration
	dropFrac  float64
	channels  map[string]*channelState
	poison    string
	unhealthy bool
	onRequest func(*http.Request)
}

type failure struct{ status, code int }

// New starts a fake; Close it.
func New(cfg Config) *Server {
	if len(cfg.Tokens) == 0 {
		cfg.Tokens = []string{"test-token"}
	}
	s := &Server{cfg: cfg, tokens: map[string]bool{}, ackOn: cfg.Ack, channels: map[string]*channelState{}}
	for _, t := range cfg.Tokens {
		s.tokens[t] = false
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/services/collector/event", s.handleEvent)
	mux.HandleFunc("/services/collector/event/1.0", s.handleEvent)
	mux.HandleFunc("/services/collector", s.handleEvent)
	mux.HandleFunc("/services/collector/ack", s.handleAck)
	mux.HandleFunc("/services/collector/health", s.handleHealth)
	mux.HandleFunc("/services/collector/health/1.0", s.handleHealth)
	if cfg.TLS {
		s.srv = httptest.NewTLSServer(mux)
	} else {
		s.srv = httptest.NewServer(mux)
	}
	return s
}

// URL is the base URL (http://127.0.0.1:port).
func (s *Server) URL() string { return s.srv.URL }

// Certificate is the TLS server certificate (with Config.TLS).
func (s *Server) Certificate() *x509.Certificate { return s.srv.Certificate() }

// Close stops the server, closing connections.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// CloseClientConnections drops every open connection (a network blip).
func (s *Server) CloseClientConnections() { s.srv.CloseClientConnections() }

// SetTokens replaces the valid tokens (a rotation).
func (s *Server) SetTokens(tokens ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]bool{}
	for _, t := range tokens {
		s.tokens[t] = false
	}
}

// DisableToken marks a token disabled (403 code 1) or enabled again.
func (s *Server) DisableToken(token string, disabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tokens[token]; ok {
		s.tokens[token] = disabled
	}
}

// FailNext makes the next k event requests fail with status and HEC code
// (for example 503, CodeBusy) before reading them: nothing is indexed.
func (s *Server) FailNext(k, status, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < k; i++ {
		s.failNext = append(s.failNext, failure{status, code})
	}
}

// DelayNext makes the next k event requests (not counting those failed by
// FailNext) wait d before they are processed.
func (s *Server) DelayNext(k int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delayN, s.delay = k, d
}

// SetAck turns indexer acknowledgement on or off.
func (s *Server) SetAck(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ackOn = on
}

// SetAckDelay makes acks become true only d after their request.
func (s *Server) SetAckDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ackDelay = d
}

// DropAcks never confirms a deterministic fraction (0..1) of the ackIds
// handed out from now on (chosen by a hash of channel and id); their
// events are indexed all the same.
func (s *Server) DropAcks(fraction float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropFrac = fraction
}

// Poison makes every event whose "event" JSON contains marker invalid
// (code 6, as if its JSON were malformed).
func (s *Server) Poison(marker string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.poison = marker
}

// SetHealthy sets what /services/collector/health answers.
func (s *Server) SetHealthy(ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unhealthy = !ok
}

// OnRequest calls fn with every request before it is handled (to inspect
// headers).
func (s *Server) OnRequest(fn func(*http.Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRequest = fn
}

// Events returns a copy of the indexed events, in the order indexed.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func writeAnswer(w http.ResponseWriter, status, code int, extra string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"text":%q,"code":%d%s}`, codeText[code], code, extra)
}

// auth checks the Authorization header; it answers and returns false when
// it fails.
func (s *Server) auth(w http.ResponseWriter, r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	s.mu.Lock()
	defer s.mu.Unlock()
	fail := func(status, code int) (string, bool) {
		s.stats.AuthFailures++
		writeAnswer(w, status, code, "")
		return "", false
	}
	if h == "" {
		return fail(http.StatusUnauthorized, CodeTokenRequired)
	}
	tok, ok := strings.CutPrefix(h, "Splunk ")
	if !ok || tok == "" || strings.ContainsAny(tok, " \t") {
		return fail(http.StatusUnauthorized, CodeInvalidAuth)
	}
	disabled, known := s.tokens[tok]
	switch {
	case !known:
		return fail(http.StatusForbidden, CodeInvalidToken)
	case disabled:
		return fail(http.StatusForbidden, CodeTokenDisabled)
	}
	return tok, true
}

var uuidRE = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// channel returns the request channel; with acknowledgement on, it answers
// and returns false when the channel is missing (code 10) or not a UUID
// (code 11).
func (s *Server) channel(w http.ResponseWriter, r *http.Request, ackOn bool) (string, bool) {
	ch := r.Header.Get("X-Splunk-Request-Channel")
	if ch == "" {
		ch = r.URL.Query().Get("channel")
	}
	switch {
	case ch == "" && ackOn:
		writeAnswer(w, http.StatusBadRequest, CodeNoChannel, "")
		return "", false
	case ch != "" && ackOn && !uuidRE.MatchString(ch):
		writeAnswer(w, http.StatusBadRequest, CodeBadChannel, "")
		return "", false
	}
	return ch, true
}

func (s *Server) hook(r *http.Request) {
	s.mu.Lock()
	fn := s.onRequest
	s.mu.Unlock()
	if fn != nil {
		fn(r)
	}
}

func (s *Server) handleEvent(w http.ResponseWriter, r *http.Request) {
	s.hook(r)
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	s.stats.Requests++
	s.stats.inFlight++
	s.stats.MaxInFlight = max(s.stats.MaxInFlight, s.stats.inFlight)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.stats.inFlight--
		s.mu.Unlock()
	}()
	status := s.serveEvent(w, r)
	s.mu.Lock()
	if status == http.StatusOK {
		s.stats.Accepted++
	} else {
		s.stats.Failed++
	}
	s.mu.Unlock()
}

func (s *Server) serveEvent(w http.ResponseWriter, r *http.Request) int {
	tok, ok := s.auth(w, r)
	if !ok {
		return http.StatusUnauthorized
	}
	s.mu.Lock()
	ackOn := s.ackOn
	var inject *failure
	if len(s.failNext) > 0 {
		f := s.failNext[0]
		s.failNext = s.failNext[1:]
		inject = &f
		s.stats.Injected++
	}
	var delay time.Duration
	if inject == nil && s.delayN > 0 { // failures first, then slowness
		s.delayN--
		delay = s.delay
	}
	s.mu.Unlock()
	if inject != nil {
		writeAnswer(w, inject.status, inject.code, "")
		return inject.status
	}
	ch, ok := s.channel(w, r, ackOn)
	if !ok {
		return http.StatusBadRequest
	}
	body, gz, err := readBody(r)
	if err != nil {
		writeAnswer(w, http.StatusBadRequest, CodeInvalidFormat, "")
		return http.StatusBadRequest
	}
	if delay > 0 { // after reading, so that a client that gives up is noticed
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return http.StatusServiceUnavailable
		}
	}
	if s.cfg.MaxContentLength > 0 && len(body) > s.cfg.MaxContentLength {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_, _ = io.WriteString(w, `{"text":"Content too large","code":27}`)
		return http.StatusRequestEntityTooLarge
	}
	if len(bytes.TrimSpace(body)) == 0 {
		writeAnswer(w, http.StatusBadRequest, CodeNoData, "")
		return http.StatusBadRequest
	}
	now := time.Now()
	var accepted []Event
	failCode, failNum := -1, 0
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	s.mu.Lock()
	poison := s.poison
	s.mu.Unlock()
	for n := 0; ; n++ {
		var env map[string]json.RawMessage
		if err := dec.Decode(&env); err == io.EOF {
			break
		} else if err != nil || env == nil {
			failCode, failNum = CodeInvalidFormat, n
			break
		}
		ev, code := s.validate(env, poison)
		if code >= 0 {
			failCode, failNum = code, n
			break
		}
		ev.Channel, ev.Received, ev.Gzip, ev.Auth, ev.AckID = ch, now, gz, tok, -1
		accepted = append(accepted, ev)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if gz {
		s.stats.GzipRequests++
	}
	ackID := int64(-1)
	if failCode < 0 && ackOn {
		cs := s.channels[ch]
		if cs == nil {
			cs = &channelState{acks: map[int64]*ackState{}}
			s.channels[ch] = cs
		}
		ackID = cs.next
		cs.next++
		st := &ackState{ready: now.Add(s.ackDelay)}
		if s.dropFrac > 0 && dropped(ch, ackID, s.dropFrac) {
			st.dropped = true
			s.stats.AcksDropped++
		}
		cs.acks[ackID] = st
	}
	for i := range accepted {
		accepted[i].AckID = ackID
	}
	s.events = append(s.events, accepted...) // events before an invalid one are indexed
	if failCode >= 0 {
		writeAnswer(w, http.StatusBadRequest, failCode, `,"invalid-event-number":`+strconv.Itoa(failNum))
		return http.StatusBadRequest
	}
	extra := ""
	if ackID >= 0 {
		extra = `,"ackId":` + strconv.FormatInt(ackID, 10)
	}
	writeAnswer(w, http.StatusOK, CodeSuccess, extra)
	return http.StatusOK
}

func dropped(ch string, id int64, frac float64) bool {
	h := fnv.New64a()
	_, _ = io.WriteString(h, ch)
	_, _ = io.WriteString(h, strconv.FormatInt(id, 10))
	return float64(h.Sum64()%10000) < frac*10000
}

func readBody(r *http.Request) ([]byte, bool, error) {
	var rd io.Reader = r.Body
	gz := false
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, true, err
		}
		defer zr.Close()
		rd, gz = zr, true
	default:
		return nil, false, fmt.Errorf("unsupported Content-Encoding %q", enc)
	}
	b, err := io.ReadAll(rd)
	return b, gz, err
}

// validate checks one envelope as Splunk does; code is -1 when valid.
func (s *Server) validate(env map[string]json.RawMessage, poison string) (Event, int) {
	var ev Event
	raw, ok := env["event"]
	if !ok {
		return ev, CodeEventRequired
	}
	if t := bytes.TrimSpace(raw); bytes.Equal(t, []byte("null")) || bytes.Equal(t, []byte(`""`)) {
		return ev, CodeEventBlank
	}
	if poison != "" && bytes.Contains(raw, []byte(poison)) {
		return ev, CodeInvalidFormat
	}
	ev.Event = append(json.RawMessage(nil), raw...)
	for _, f := range []struct {
		key string
		dst *string
	}{{"host", &ev.Host}, {"source", &ev.Source}, {"sourcetype", &ev.SourceType}, {"index", &ev.Index}} {
		if v, ok := env[f.key]; ok {
			if err := json.Unmarshal(v, f.dst); err != nil {
				return ev, CodeInvalidFormat
			}
		}
	}
	if v, ok := env["time"]; ok {
		var n json.Number
		if err := json.Unmarshal(v, &n); err != nil {
			var str string
			if json.Unmarshal(v, &str) != nil {
				return ev, CodeInvalidFormat
			}
			n = json.Number(str)
		}
		if _, err := strconv.ParseFloat(string(n), 64); err != nil {
			return ev, CodeInvalidFormat
		}
		ev.Time = n
	}
	if v, ok := env["fields"]; ok {
		if err := json.Unmarshal(v, &ev.Fields); err != nil {
			return ev, CodeInvalidFormat
		}
		for _, fv := range ev.Fields {
			if _, nested := fv.(map[string]any); nested { // indexed fields are flat
				return ev, CodeInvalidFormat
			}
		}
	}
	if len(s.cfg.Indexes) > 0 && ev.Index != "" {
		found := false
		for _, ix := range s.cfg.Indexes {
			found = found || ix == ev.Index
		}
		if !found {
			return ev, CodeIncorrectIndex
		}
	}
	return ev, -1
}

func (s *Server) handleAck(w http.ResponseWriter, r *http.Request) {
	s.hook(r)
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if _, ok := s.auth(w, r); !ok {
		return
	}
	s.mu.Lock()
	ackOn := s.ackOn
	s.stats.AckPolls++
	s.mu.Unlock()
	if !ackOn {
		writeAnswer(w, http.StatusBadRequest, CodeAckDisabled, "")
		return
	}
	ch, ok := s.channel(w, r, true)
	if !ok {
		return
	}
	var req struct {
		Acks []int64 `json:"acks"`
	}
	body, _, err := readBody(r)
	if err != nil || json.Unmarshal(body, &req) != nil {
		writeAnswer(w, http.StatusBadRequest, CodeInvalidFormat, "")
		return
	}
	now := time.Now()
	out := make(map[string]bool, len(req.Acks))
	s.mu.Lock()
	cs := s.channels[ch]
	for _, id := range req.Acks {
		ok := false
		if cs != nil {
			if st := cs.acks[id]; st != nil && !st.dropped && !now.Before(st.ready) {
				ok = true
				delete(cs.acks, id) // reported once, then forgotten
				s.stats.AcksConfirmed++
			}
		}
		out[strconv.FormatInt(id, 10)] = ok
	}
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"acks": out})
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(b)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	s.hook(r)
	s.mu.Lock()
	s.stats.Health++
	bad := s.unhealthy
	s.mu.Unlock()
	if bad {
		writeAnswer(w, http.StatusServiceUnavailable, CodeUnhealthy, "")
		return
	}
	writeAnswer(w, http.StatusOK, CodeHealthy, "")
}

// ErrNoField is returned by Event.Field when the event lacks the field.
var ErrNoField = errors.New("hecfake: no such field")

// Field returns a top-level string or number field of the event's JSON as
// text (for tests that tag events with an id).
func (e *Event) Field(name string) (string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(e.Event, &m); err != nil {
		return "", err
	}
	v, ok := m[name]
	if !ok {
		return "", ErrNoField
	}
	var str string
	if json.Unmarshal(v, &str) == nil {
		return str, nil
	}
	return string(v), nil
}
