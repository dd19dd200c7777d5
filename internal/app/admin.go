package app

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/jsonscan"
	"github.com/logrouter/logrouter/internal/lines"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/pipeline/ingest/kafkain"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/route"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// The admin listener serves two kinds of endpoints:
//
//   - what only reads: /metrics, /healthz, /readyz and /admin/stats, open to
//     whoever reaches admin.address (Prometheus scrapes the pod IP);
//   - what changes state: POST /admin/replay, which delivers whatever it is
//     sent to any destination (the SIEM, the Object Lock archive). It
//     requires "Authorization: Bearer <admin.token>", or, when no
//     admin.token is configured, a loopback peer (127.0.0.0/8, ::1).
//
// /admin/stats stays open: it serves the ledger, which BuildLedger computes
// from the very counters /metrics exposes (events and bytes per input,
// priority and destination), so guarding it would hide nothing /metrics
// does not already show, and it changes nothing.

// Admin HTTP server limits. ReadTimeout bounds reading one whole request: a
// replay body of ReplayMaxBodyBytes needs ~0.5 MB/s to arrive in time.
// WriteTimeout runs from the end of the headers to the end of the answer,
// so it covers reading the body too, and then the replay's delivery, which
// waits for destinations to accept the events (engine.write_timeout, 30s by
// default, per try).
const (
	adminReadHeaderTimeout = 10 * time.Second
	adminReadTimeout       = 2 * time.Minute
	adminWriteTimeout      = 5 * time.Minute
	adminIdleTimeout       = 2 * time.Minute
	adminMaxHeaderBytes    = 64 << 10
)

// Replay limits: one POST /admin/replay is bounded as one request of the
// HTTP input is (inputs.http max_body_bytes, max_events_per_request,
// max_normalized_bytes, max_event_bytes), with admin-specific values rather
// than the input's: replay must work when the HTTP input is off or tuned
// small, and its requests come from router quarantine replay, which sends
// at most 1000 records and 8 MiB per request (see cmd/router). Past
// ReplayMaxBodyBytes, ReplayMaxRecords or the normalized bytes the request
// is answered 413 naming the limit, and nothing in it is delivered or
// quarantined.
const (
	// ReplayMaxBodyBytes bounds one request body (streamed, never held
	// whole).
	ReplayMaxBodyBytes = 64 << 20
	// ReplayMaxRecords bounds the records (non-blank lines) of one
	// request. Every record costs ~280 bytes of memory however small it
	// is: 10,000 cost ~3 MiB, where 400,000 lines of 8 bytes once took
	// ~500 MiB.
	ReplayMaxRecords = 10_000
	// ReplayMaxEventBytes bounds one record: a longer one is not parsed
	// but quarantined as too_large (its first ReplayMaxEventBytes bytes),
	// and the rest of the request is taken. It is 4 x the HTTP input's
	// default max_event_bytes: records a destination refused are
	// normalized events, which may be larger than what came in.
	ReplayMaxEventBytes = 4 << 20
	// replayMaxNormalizedBytes bounds the normalized events of one
	// request: 8 MiB of records, the most the CLI sends at once, normalize
	// to at most ~50 MiB (text full of control characters grows 6x).
	replayMaxNormalizedBytes = 128 << 20
	// replaySlots is how many replay requests are processed at once; the
	// others wait for a slot up to replayWait, then get 503.
	replaySlots = 2
	replayWait  = 30 * time.Second
)

// replayLimits are the limits handleReplay applies (the constants above;
// tests lower them).
type replayLimits struct {
	bodyBytes       int64
	records         int
	eventBytes      int
	normalizedBytes int
}

var defaultReplayLimits = replayLimits{
	bodyBytes:       ReplayMaxBodyBytes,
	records:         ReplayMaxRecords,
	eventBytes:      ReplayMaxEventBytes,
	normalizedBytes: replayMaxNormalizedBytes,
}

// initAdmin prepares what the admin handlers need: the digest of
// admin.token, the replay limits and slots.
func (a *App) initAdmin() {
	a.adminTokenSet = a.cfg.Admin.Token != ""
	a.adminDigest = sha256.Sum256([]byte(a.cfg.Admin.Token))
	a.replay = defaultReplayLimits
	a.replaySlots = make(chan struct{}, replaySlots)
}

// adminHandler routes the admin listener's endpoints (see the top of this
// file for which are guarded).
func (a *App) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.eng.Metrics().Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", a.handleReady)
	mux.HandleFunc("GET /admin/stats", a.handleStats)
	mux.HandleFunc("POST /admin/replay", a.requireAdmin(func(w http.ResponseWriter, r *http.Request) { a.handleReplay(w, r, false) }))
	mux.HandleFunc("POST /admin/replay/written", a.requireAdmin(func(w http.ResponseWriter, r *http.Request) { a.handleReplay(w, r, true) }))
	mux.HandleFunc("POST /admin/replay/hec", a.requireAdmin(func(w http.ResponseWriter, r *http.Request) { a.handleReplay(w, r, false) }))
	mux.HandleFunc("POST /admin/replay/edge", a.requireAdmin(func(w http.ResponseWriter, r *http.Request) { a.handleReplay(w, r, false) }))
	mux.HandleFunc("POST /admin/replay/cloudwatch", a.requireAdmin(func(w http.ResponseWriter, r *http.Request) { a.handleReplay(w, r, false) }))
	mux.HandleFunc("POST /admin/replay/syslog", a.requireAdmin(func(w http.ResponseWriter, r *http.Request) { a.handleReplay(w, r, false) }))
	mux.HandleFunc("POST /admin/reload", a.requireAdmin(a.handleReload))
	return mux
}

// logAdminAccess logs, once at start, who may use the endpoints that change
// state.
func (a *App) logAdminAccess() {
	if a.adminTokenSet {
		a.log.Info("admin: POST /admin/replay requires admin.token (Authorization: Bearer); /metrics, /healthz, /readyz and /admin/stats are open",
			"admin", a.AdminAddr())
		return
	}
	a.log.Info("admin: no admin.token configured: POST /admin/replay is accepted only from loopback (127.0.0.0/8, ::1); set admin.token to replay from elsewhere. /metrics, /healthz, /readyz and /admin/stats are open",
		"admin", a.AdminAddr())
}

// requireAdmin serves h only to a request allowed to change state: with
// admin.token configured, one that carries it as "Authorization: Bearer
// <token>", whatever its peer; without, one from a loopback peer. Others
// get 401 (no or wrong token) or 403 (not loopback), with what to do.
func (a *App) requireAdmin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		what := r.Method + " " + r.URL.Path
		// A browser's request from another site (a page the operator has
		// open on the router's host) is never an admin's: the CLI and curl
		// send no Origin or Sec-Fetch-Site.
		if err := crossOrigin.Check(r); err != nil {
			http.Error(w, what+" changes state and was sent by a web page of another origin (a cross-site browser request): refused; use the router CLI or curl", http.StatusForbidden)
			return
		}
		if !a.adminTokenSet {
			if !loopbackPeer(r.RemoteAddr) {
				http.Error(w, fmt.Sprintf("%s changes state: with no admin.token configured it is accepted only from loopback (127.0.0.0/8, ::1), and this request came from %s; "+
					"run the command on the router's host (or in its pod), or set admin.token on the router and send it as \"Authorization: Bearer <token>\" (router quarantine replay: --token or LOGROUTER_ADMIN_TOKEN)",
					what, peer(r.RemoteAddr)), http.StatusForbidden)
				return
			}
			// DNS rebinding: a page of evil.example whose name now
			// resolves to 127.0.0.1 reaches the loopback peer too, with
			// its own name as Host.
			if !loopbackHost(r.Host) {
				http.Error(w, fmt.Sprintf("%s changes state: with no admin.token configured it is accepted from loopback addressed as localhost, 127.0.0.1 or [::1], not as %q (a DNS rebinding page reaches loopback under its own name); set admin.token to use other names", what, r.Host), http.StatusForbidden)
				return
			}
			h(w, r)
			return
		}
		tok, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="logrouter admin"`)
			http.Error(w, what+" requires the admin token: send \"Authorization: Bearer <admin.token>\" (router quarantine replay: --token or LOGROUTER_ADMIN_TOKEN)", http.StatusUnauthorized)
			return
		}
		// Digests have one length whatever the token's: comparing them in
		// constant time reveals neither the token nor its length.
		d := sha256.Sum256([]byte(tok))
		if subtle.ConstantTimeCompare(d[:], a.adminDigest[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="logrouter admin", error="invalid_token"`)
			http.Error(w, what+": the token sent is not the router's admin.token: check --token or LOGROUTER_ADMIN_TOKEN", http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

// crossOrigin refuses non-safe cross-origin browser requests (CSRF).
var crossOrigin = http.NewCrossOriginProtection()

// loopbackHost reports whether host (a request's Host: name or address,
// with or without a port) names the loopback: localhost, a 127/8 address
// or ::1.
func loopbackHost(host string) bool {
	if host == "" {
		return true // HTTP/1.0 without Host: no browser sends that
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	// The machine's own name (Debian maps it to 127.0.1.1): a rebinding
	// page cannot send it, its Host is its own name.
	if name, err := os.Hostname(); err == nil && strings.EqualFold(host, name) {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header value (the scheme in any case); ok is false for any other.
func bearerToken(header string) (tok string, ok bool) {
	scheme, tok, found := strings.Cut(strings.TrimSpace(header), " ")
	tok = strings.TrimSpace(tok)
	if !found || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}

// loopbackPeer reports whether remote (a RemoteAddr, host:port) is in
// 127.0.0.0/8 or ::1, IPv4-mapped IPv6 included. A reverse proxy on the same
// host makes every request loopback: set admin.token behind one.
func loopbackPeer(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// handleReady answers /readyz: 503 while starting or stopping; 200 "ready",
// or 200 with status "degraded" and the problems when a queue found damaged
// data at start (the router works; an operator should look).
//
// With ?kafka=ignore the Kafka input's assignment is left out: the probe of
// a pod whose HTTP and syslog inputs a Service fronts must not fail because
// the pod has no partition (a Kafka outage, more replicas than partitions).
func (a *App) handleReady(w http.ResponseWriter, r *http.Request) {
	if !a.ready.Load() {
		http.Error(w, "not ready: starting or shutting down", http.StatusServiceUnavailable)
		return
	}
	if a.kin != nil && r.URL.Query().Get("kafka") != "ignore" {
		if ok, why := a.kin.Ready(); !ok {
			http.Error(w, "not ready: "+why, http.StatusServiceUnavailable)
			return
		}
	}
	var problems []string
	for _, q := range a.queues {
		problems = append(problems, q.Degraded()...)
	}
	if len(problems) == 0 {
		_, _ = w.Write([]byte("ready\n"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "degraded", "problems": problems})
}

// handleStats serves the ledger as JSON (router stats prints it). It is open
// like /metrics (see the top of this file).
func (a *App) handleStats(w http.ResponseWriter, r *http.Request) {
	l, err := BuildLedger(a.eng.Metrics().Registry)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(l)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// handleReplay re-sends quarantined records: the body is NDJSON, one record's
// raw bytes per line. With ?destination=NAME the records (normalized events a
// destination refused) go to that destination only; without it they go
// through the whole pipeline like /ingest. The answer comes after the
// records are accepted, as for ingest.
//
// One request is bounded (replayLimits): past the body size, the record
// count or the normalized bytes it is answered 413 naming the limit, and
// nothing in it is delivered or quarantined; a record longer than
// ReplayMaxEventBytes is quarantined as too_large, not parsed. Requests
// wait for one of replaySlots.
//
// POST /admin/replay/written?destination=NAME (written) takes quarantine
// records themselves, one per line, of events that destination refused,
// each with the "event" a refusal records: the event is sent to it again as
// it was written (its bytes, hash, time, source type and priority), not
// normalized again, so it keeps its OpenSearch _id and index; it is marked
// Replayed, so that a second refusal is recorded with input "replay". Only
// a record this router sealed (quarantine.SealKey: its seal verifies) is
// taken as written; the raw bytes of any other record of that destination
// with "event" (forged, edited, sealed under another router's key, or
// written before seals) are normalized again and classified, as
// /admin/replay does, and counted in the answer's "renormalized", so that
// the admin token alone cannot deliver bytes with chosen provenance, _id
// or priority. A record without "event", of another destination, or sealed
// but whose bytes are not a JSON object is rejected (quarantined as
// replay_rejected). A router that predates this path answers 404, so an
// old router never takes such lines for events.
func (a *App) handleReplay(w http.ResponseWriter, r *http.Request, written bool) {
	dest := r.URL.Query().Get("destination")
	// /admin/replay/hec: the records are HEC event envelopes an input
	// refused (hec_not_processed...): each is unwrapped as the event
	// endpoint would, its sourcetype, time, host and fields applied. Its
	// own path, so that a router without it answers 404 rather than take
	// the envelopes for events.
	hec := r.URL.Path == "/admin/replay/hec"
	// /admin/replay/syslog: frames the syslog input refused, parsed as
	// the input parses them (header, payload, app_source_types).
	// /admin/replay/edge: events a logrouter edge wrote to Kafka, which a
	// gateway refused: read as the gateway reads them (their logrouter.*
	// kept, no source profile applied again).
	edge := r.URL.Path == "/admin/replay/edge"
	// /admin/replay/cloudwatch: CloudWatch Logs log events the Firehose
	// input refused, each in its subscription message: made events of as
	// that input makes them (the log group, stream, account and time).
	cw := r.URL.Path == "/admin/replay/cloudwatch"
	if edge && a.kin == nil {
		// Only a gateway reads edges' events (its Kafka input): on any
		// other router the path would let the admin token deliver events
		// with the logrouter.* they claim.
		http.Error(w, "this router has no Kafka input to read logrouter edges' events with: replay them to the gateway that refused them", http.StatusConflict)
		return
	}
	var sys *syslog.Replayer
	if r.URL.Path == "/admin/replay/syslog" {
		if a.sl == nil {
			http.Error(w, "this router has no syslog input to parse the records with: replay them to one that has", http.StatusConflict)
			return
		}
		sys = a.sl.NewReplayer()
		if snd := r.URL.Query().Get("sender"); snd != "" {
			// The device that sent the frames: only in their content
			// hash (dedup), never written as provenance.
			ip, err := netip.ParseAddr(snd)
			if err != nil {
				http.Error(w, fmt.Sprintf("sender %q is not an IP address (the quarantine record's peer)", snd), http.StatusBadRequest)
				return
			}
			sys.SetSender(ip.String())
		}
	}
	// The input's defaults the records had (a token's source type and
	// index), given by the client from the quarantine records: applied
	// as the input applied them.
	var defs replayDefaults
	qv := r.URL.Query()
	defs.sourceType = []byte(qv.Get("source_type"))
	defs.index = []byte(qv.Get("index"))
	// What the request gave its records besides (pipeline.Rejected): the
	// HEC endpoints' ?sourcetype=&host=&source=&time=.
	defs.meta = httpin.RequestMeta{SourceType: []byte(qv.Get("sourcetype")), Host: []byte(qv.Get("host")), Source: []byte(qv.Get("source"))}
	if len(defs.sourceType) > 256 || len(defs.index) > 256 || len(defs.meta.SourceType) > 256 || len(defs.meta.Host) > 1024 || len(defs.meta.Source) > 1024 {
		http.Error(w, "source_type, sourcetype and index are at most 256 bytes, host and source 1024", http.StatusBadRequest)
		return
	}
	if v := qv.Get("time"); v != "" {
		t, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			http.Error(w, "time must be unix nanoseconds", http.StatusBadRequest)
			return
		}
		defs.meta.Time = t
	}
	// ?record_time= (unix ns): the time the input gave the records to
	// stand in for an event without its own (a Kafka record's timestamp).
	if v := qv.Get("record_time"); v != "" {
		t, err := strconv.ParseInt(v, 10, 64)
		if err != nil || t <= 0 {
			http.Error(w, "record_time must be unix nanoseconds", http.StatusBadRequest)
			return
		}
		defs.recordTime = t
	}
	if written && dest == "" {
		http.Error(w, "replay/written needs ?destination=NAME: the destination that refused the records", http.StatusBadRequest)
		return
	}
	if dest != "" {
		known := false
		for _, d := range a.eng.Router().Table.Destinations {
			known = known || d == dest
		}
		if !known {
			http.Error(w, fmt.Sprintf("unknown destination %q", dest), http.StatusBadRequest)
			return
		}
	}
	wait := time.NewTimer(replayWait)
	defer wait.Stop()
	select {
	case a.replaySlots <- struct{}{}:
		defer func() { <-a.replaySlots }()
	case <-wait.C:
		w.Header().Set("Retry-After", "5")
		http.Error(w, fmt.Sprintf("%d replays are in progress: retry later", replaySlots), http.StatusServiceUnavailable)
		return
	case <-r.Context().Done():
		return
	}
	lim := a.replay
	body := http.MaxBytesReader(w, r.Body, lim.bodyBytes)
	b := pipeline.NewBatch()
	defer b.Release()
	b.Meta = pipeline.Meta{Input: "replay", Protocol: "replay", Peer: peer(r.RemoteAddr), IngestTime: time.Now().UnixNano()}
	// ?ingest_time= (unix ns): when the input received the records (their
	// quarantine time), so that an event without a time of its own keeps
	// the @timestamp, index date and archive partition it would have had.
	// Never in the future; ignored for records replayed as written (they
	// carry their own).
	if v := r.URL.Query().Get("ingest_time"); v != "" && !written {
		t, err := strconv.ParseInt(v, 10, 64)
		if err != nil || t <= 0 || t > b.Meta.IngestTime {
			http.Error(w, "ingest_time must be unix nanoseconds, not in the future", http.StatusBadRequest)
			return
		}
		b.Meta.IngestTime = t
	}
	wk := a.eng.Worker()
	var p fastjson.Parser
	var rejected []pipeline.Rejected
	proto := "replay"
	switch {
	case hec:
		proto = "hec" // refused again, it replays as an envelope again
	case sys != nil:
		proto = "syslog-replay" // and as a syslog frame
	case edge:
		proto = kafkain.ProtoEdge // and as an edge's event
	case cw:
		proto = httpin.ProtoCloudWatch // and as a log event in its message
	}
	reject := func(raw []byte, reason, detail string) {
		rejected = append(rejected, pipeline.Rejected{Raw: append([]byte(nil), raw...), Reason: reason,
			Detail: detail, Input: "replay", Protocol: proto, Peer: b.Meta.Peer, Time: b.Meta.IngestTime,
			// Refused again, it keeps them for the next replay.
			DefaultSourceType: string(defs.sourceType), DefaultIndex: string(defs.index),
			SourceType: string(defs.meta.SourceType), DefaultHost: string(defs.meta.Host), DefaultSource: string(defs.meta.Source),
			DefaultTime: defs.meta.Time, RecordTime: defs.recordTime})
	}
	counted := &countingReader{r: body}
	// Received bytes, as every input counts its own (the ledger's
	// reduction figures compare them with normalized bytes).
	defer func() { a.eng.Metrics().InputBytes.WithLabelValues("replay").Add(float64(counted.n)) }()
	br := bufio.NewReaderSize(counted, 64<<10)
	var buf []byte
	var tooLarge string
	var rerr error
	renormalized := 0
	var hecScratch [64]byte
	var lines [2]int              // records (lines) replayed, refused (see below)
	var logEvents fastjson.Parser // a CloudWatch log event's message
	lineMax := lim.eventBytes
	if written {
		// A record line holds the event escaped, and its metadata.
		lineMax = 2*lim.eventBytes + 64<<10
	}
	for {
		var raw []byte
		var size int
		raw, size, rerr = readLine(br, buf, lineMax)
		buf = raw[:0]
		if rerr != nil && rerr != io.EOF {
			break // a line cut by the error is not taken
		}
		if size == 0 {
			if rerr != nil {
				break
			}
			continue
		}
		if len(b.Events)+len(rejected) >= lim.records {
			tooLarge = fmt.Sprintf("replay request carries more than %d records: send at most %d per request", lim.records, lim.records)
			break
		}
		// Answered per record (line), as the client counts them: a line
		// that gave an event (or several: a split envelope or activity) is
		// replayed, one that gave none but was quarantined again refused.
		ev0, rj0 := len(b.Events), len(rejected)
		switch {
		case size > lineMax:
			reject(raw[:lineMax], "too_large", fmt.Sprintf("record of %d bytes exceeds the replay limit of %d bytes; it was not parsed and these are its first bytes (the whole record is in the quarantine file it was replayed from)",
				size, lineMax))
		case written:
			rec, sealed, err := a.writtenRecord(raw, dest)
			switch {
			case err != nil:
				reject(raw, "replay_rejected", err.Error())
			case len(rec.Raw) > lim.eventBytes:
				// Kept whole, with its destination and what was written
				// (not sealed: a replay of it is normalized again), so
				// that it stays a refusal of that destination: as an
				// input record a replay would route it by the rules to
				// every destination, and the line it came from counts as
				// replayed.
				reject(rec.Raw, "too_large", fmt.Sprintf("event of %d bytes exceeds the replay limit of %d bytes", len(rec.Raw), lim.eventBytes))
				last := &rejected[len(rejected)-1]
				last.Destination, last.Status, last.Event = rec.Destination, rec.Status, rec.Event
			case sealed:
				if err := addWritten(b, rec); err != nil {
					reject(raw, "replay_rejected", err.Error())
				}
			default:
				if err := addRaw(wk, b, &p, rec.Raw, nil, nil); err != nil {
					reject(rec.Raw, "replay_rejected", err.Error())
				} else {
					renormalized++
				}
			}
		case hec:
			addHEC(wk, b, &p, raw, hecScratch[:], &defs, reject)
		case cw:
			addCloudWatch(wk, b, &p, &logEvents, raw, &defs, reject)
		case sys != nil:
			if err := sys.Add(wk, b, raw); err != nil {
				reject(raw, "replay_rejected", err.Error())
			}
		case edge:
			if err := addEdge(wk, b, &p, raw); err != nil {
				reject(raw, "replay_rejected", err.Error())
			}
		default:
			if err := addRaw(wk, b, &p, raw, &defs, reject); err != nil {
				reject(raw, "replay_rejected", err.Error())
			}
		}
		switch {
		case len(b.Events) > ev0:
			lines[0]++
		case len(rejected) > rj0:
			lines[1]++
		}
		if len(b.Arena()) > lim.normalizedBytes {
			tooLarge = fmt.Sprintf("replay request's events exceed %d bytes once normalized: send fewer records per request", lim.normalizedBytes)
			break
		}
		if rerr != nil {
			break
		}
	}
	a.eng.PutWorker(wk)
	var mbe *http.MaxBytesError
	switch {
	case tooLarge != "":
		// Read the rest (bounded by the body limit) so that the client,
		// still sending, gets the answer rather than a reset.
		_, _ = io.Copy(io.Discard, body)
		http.Error(w, tooLarge, http.StatusRequestEntityTooLarge)
		return
	case errors.As(rerr, &mbe):
		http.Error(w, fmt.Sprintf("replay request body exceeds %d bytes: send fewer records per request", lim.bodyBytes), http.StatusRequestEntityTooLarge)
		return
	case rerr != nil && rerr != io.EOF:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "the request body did not arrive whole, nothing was replayed: retry ("+rerr.Error()+")", http.StatusServiceUnavailable)
		return
	}
	// The events first: a request refused for want of room (503) is sent
	// again whole, and its refused lines must then be quarantined once,
	// not once per attempt. (Should the quarantine fail after the events
	// were taken, the client's resend duplicates them, which the dedup
	// key absorbs, rather than losing the refusals.)
	n := len(b.Events)
	if n > 0 {
		done := make(chan error, 1)
		b.Ack = pipeline.NewAck(func(err error) { done <- err })
		if dest != "" {
			_ = a.eng.EmitTo(r.Context(), b, dest)
		} else {
			_ = a.eng.Emit(r.Context(), b)
		}
		if err := <-done; err != nil {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "not accepted, retry: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	if err := a.eng.Quarantine(r.Context(), rejected); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if !written {
		_ = json.NewEncoder(w).Encode(map[string]int{"replayed": lines[0], "rejected": lines[1]})
		return
	}
	if renormalized > 0 {
		a.log.Warn("replay as written: records not sealed by this router were normalized again (their _id, priority and logrouter.* may differ from what was first written)",
			"destination", dest, "renormalized", renormalized, "peer", b.Meta.Peer)
	}
	_ = json.NewEncoder(w).Encode(map[string]int{"replayed": n, "rejected": len(rejected), "renormalized": renormalized})
}

// addRaw normalizes and classifies one replayed record's bytes into b: a
// JSON object as such, anything else as a text message. With split (an
// input's record), an object that holds several events (normalize.Parts)
// is split as the inputs split it, a part refused again passed to split
// with its own JSON; without (an event a destination refused), never.
func addRaw(wk *route.Worker, b *pipeline.Batch, p *fastjson.Parser, raw []byte, defs *replayDefaults, split func(raw []byte, reason, detail string)) error {
	var em *normalize.EventMeta
	if defs != nil && (len(defs.sourceType) > 0 || len(defs.index) > 0 || defs.meta.Any() || defs.recordTime != 0) {
		// As the input gave them (the HEC raw endpoint's and Firehose's
		// index: logrouter.index; the raw endpoint's query string; a
		// Kafka record's timestamp).
		em = &normalize.EventMeta{DefaultSourceType: defs.sourceType, Index: defs.index, DefaultTime: defs.recordTime}
		defs.meta.Fill(em)
	}
	if jsonscan.TooDeep(raw, jsonscan.MaxDepth) {
		return wk.Add(b, nil, raw, em) // as text: too deep to parse cheaply
	}
	if v, err := p.ParseBytes(raw); err == nil && v.Type() == fastjson.TypeObject {
		if parts, activity := normalize.Parts(v); parts != nil && split != nil {
			if em == nil {
				em = &normalize.EventMeta{}
			}
			wk.AddParts(b, v, parts, activity, em, func(part *fastjson.Value, err error) {
				split(part.MarshalTo(nil), "replay_rejected", err.Error())
			})
			return nil
		}
		return wk.Add(b, v, nil, em)
	}
	return wk.Add(b, nil, raw, em)
}

// addEdge adds an edge's event as a gateway's Kafka input does: its own
// logrouter member kept, normalized as an edge's output (no source profile
// again).
func addEdge(wk *route.Worker, b *pipeline.Batch, p *fastjson.Parser, raw []byte) error {
	if jsonscan.TooDeep(raw, jsonscan.MaxDepth) {
		return jsonscan.ErrTooDeep
	}
	v, err := p.ParseBytes(raw)
	if err != nil {
		return fmt.Errorf("not an edge's event: %w", err)
	}
	if v.Type() != fastjson.TypeObject {
		return errors.New("not an edge's event: not a JSON object")
	}
	return wk.Add(b, v, nil, &normalize.EventMeta{KeepOwnLogrouter: true, Normalized: true})
}

// replayDefaults are an input's defaults for the records of a replay
// request (pipeline.Rejected.DefaultSourceType and DefaultIndex), and the
// metadata their request gave them (SourceType, DefaultHost,
// DefaultSource, DefaultTime).
type replayDefaults struct {
	sourceType, index []byte
	meta              httpin.RequestMeta
	recordTime        int64 // pipeline.Rejected.RecordTime
}

// addHEC adds the events of a quarantined HEC record: the envelopes in
// it (one, several concatenated, or the rest of a JSON array: what HEC
// quarantines after a bad event), each unwrapped as the event endpoint
// would (its metadata applied, a {"records":[...]} event split, a null
// or blank event refused); anything else is refused whole.
func addHEC(wk *route.Worker, b *pipeline.Batch, p *fastjson.Parser, raw, scratch []byte, defs *replayDefaults, reject func(raw []byte, reason, detail string)) {
	err := httpin.HECEnvelopes(raw, func(env []byte) error {
		if jsonscan.TooDeep(env, jsonscan.MaxDepth) {
			reject(env, "too_deep", jsonscan.ErrTooDeep.Error())
			return nil
		}
		v, err := p.ParseBytes(env)
		if err != nil {
			reject(env, "replay_rejected", "not an HEC envelope: "+err.Error())
			return nil
		}
		ev, _, err := httpin.HECEvent(v)
		if err != nil {
			reject(env, "replay_rejected", err.Error()+" (HEC refuses it: code 12 or 13)")
			return nil
		}
		em := httpin.HECMeta(v, scratch)
		// The token's defaults and the request's query string, as the
		// event endpoint applies them.
		em.DefaultSourceType = defs.sourceType
		if len(em.Index) == 0 {
			em.Index = defs.index
		}
		defs.meta.Fill(&em)
		obj, text := httpin.HECEventBody(ev)
		if obj != nil {
			if parts, activity := normalize.Parts(obj); parts != nil {
				// As HEC splits a batch envelope or a Google Workspace
				// activity; a part refused again is quarantined in the
				// envelope, holding only it, for the next replay.
				wk.AddParts(b, obj, parts, activity, &em, func(part *fastjson.Value, err error) {
					reject(httpin.EnvelopeWith(v, part), "replay_rejected", err.Error())
				})
				return nil
			}
		}
		if err := wk.Add(b, obj, text, &em); err != nil {
			reject(env, "replay_rejected", err.Error())
		}
		return nil
	})
	if err != nil {
		reject(raw, "replay_rejected", "not HEC event envelopes: "+err.Error())
	}
}

// addCloudWatch makes events of the log events of raw, a CloudWatch Logs
// subscription message (a log event the Firehose input refused, in its
// message: httpin.ProtoCloudWatch), as that input does: the log group as
// logrouter.source, the stream, account and log event id as labels, the log event's
// time, and the stream's source type and index from defs. A log event
// refused again is quarantined in its message again.
func addCloudWatch(wk *route.Worker, b *pipeline.Batch, p, msgs *fastjson.Parser, raw []byte, defs *replayDefaults, reject func(raw []byte, reason, detail string)) {
	if jsonscan.TooDeep(raw, jsonscan.MaxDepth) {
		reject(raw, "too_deep", jsonscan.ErrTooDeep.Error())
		return
	}
	v, err := p.ParseBytes(raw)
	if err != nil {
		reject(raw, "replay_rejected", "not a CloudWatch Logs message: "+err.Error())
		return
	}
	var a fastjson.Arena
	m, ok := httpin.ParseCloudWatch(v, &a)
	if !ok || m.Control || len(m.Events) == 0 {
		reject(raw, "replay_rejected", "not a CloudWatch Logs message with log events (messageType DATA_MESSAGE, logEvents)")
		return
	}
	for _, le := range m.Events {
		msg, ts, ok := httpin.LogEvent(le)
		if !ok {
			reject(m.Record(le), "replay_rejected", `CloudWatch log event without a "message" string`)
			continue
		}
		em := normalize.EventMeta{DefaultSourceType: defs.sourceType, Index: defs.index}
		defs.meta.Fill(&em)
		m.Meta(&em, le)
		obj, err := httpin.LogEventBody(msgs, msg, ts, &em)
		if err != nil {
			reason := "too_deep"
			if errors.Is(err, jsonscan.ErrTooManyValues) {
				reason = "too_many_values"
			}
			reject(m.Record(le), reason, err.Error())
			continue
		}
		if obj != nil {
			if parts, activity := normalize.Parts(obj); parts != nil {
				// As the input splits a batch envelope or a Google
				// Workspace activity; a part refused again is quarantined
				// as the log event's message, in its subscription message.
				wk.AddParts(b, obj, parts, activity, &em, func(part *fastjson.Value, err error) {
					reject(m.RecordWith(le, part.MarshalTo(nil)), "replay_rejected", err.Error())
				})
				continue
			}
			err = wk.Add(b, obj, nil, &em)
		} else {
			err = wk.Add(b, nil, msg, &em)
		}
		if err != nil {
			reject(m.Record(le), "replay_rejected", err.Error())
		}
	}
}

// writtenRecord parses a line of POST /admin/replay/written: a quarantine
// record of a refusal by dest, with "event". sealed reports whether this
// router sealed it.
func (a *App) writtenRecord(line []byte, dest string) (rec quarantine.Record, sealed bool, err error) {
	rec, err = quarantine.ParseLine(line)
	switch {
	case err != nil:
		return rec, false, fmt.Errorf("not a quarantine record: %w", err)
	case rec.Event == nil:
		return rec, false, errors.New(`the record has no "event" (input records, and records of releases before it, replay through POST /admin/replay)`)
	case rec.Destination != dest:
		return rec, false, fmt.Errorf("the record was refused by destination %q, not %q", rec.Destination, dest)
	}
	return rec, a.sealKey.Verify(rec), nil
}

// readLine reads the next line of br into buf (reusing its memory) and
// returns it without its "\n" or "\r\n", and its length n. Of a line longer
// than max only the first max+2 bytes are kept (n is still its whole
// length), so a long line costs no more memory than max. err is io.EOF after
// the last line (which may lack its "\n"), or the read error; n is 0 for a
// blank line and at the end.
func readLine(br *bufio.Reader, buf []byte, max int) (line []byte, n int, err error) {
	line, n, err = lines.Read(br, buf, max+2)
	if n <= max+2 {
		line = lines.TrimEOL(line)
		n = len(line)
	}
	return line, n, err
}

func peer(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i]
		}
	}
	return addr
}

// addWritten commits the event of a sealed quarantine record as it was
// written (see handleReplay), marked Replayed. The caller checked its size.
func addWritten(b *pipeline.Batch, rec quarantine.Record) error {
	ev := rec.Event
	if len(rec.Raw) == 0 || rec.Raw[0] != '{' || fastjson.ValidateBytes(rec.Raw) != nil {
		return errors.New("the record's raw bytes are not a JSON object, as a written event is")
	}
	// The written ingest time too: the OpenSearch index date is checked
	// against it (an event dated from its ingest stays in that day's
	// index), as is an archive partition by ingest time. Latency metrics
	// leave replayed events out.
	ingest := ev.Ingest
	if ingest == 0 {
		ingest = b.Meta.IngestTime
	}
	key := ev.Key // its dedup key as written (the Kafka message key)
	if key == 0 {
		key = ev.Hash
	}
	b.Commit(append(b.Arena(), rec.Raw...), pipeline.Event{Time: ev.Time, Ingest: ingest, Hash: ev.Hash, Key: key,
		SourceType: ev.SourceType, Priority: ev.Priority, Rule: -1, Replayed: true})
	return nil
}
