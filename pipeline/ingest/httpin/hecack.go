package httpin

import (
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/valyala/fastjson"
)

// HEC indexer acknowledgement, as far as a receiver that answers 200 only
// once every event is durable needs it.
//
// Splunk's HEC, with acknowledgement on, answers each request sent on a
// channel (X-Splunk-Request-Channel, or ?channel=) with an ackId, and a
// client polls POST /services/collector/ack with {"acks":[ids]} until each
// is true, resending a batch not acknowledged in time. Clients that need
// it (Splunk Connect for Kafka; Vector with indexer_acknowledgements, its
// default) file a batch under its ackId: without one they wait for an
// acknowledgement that never comes, resend, and never commit their
// offsets. logrouter's 200 already means what an acknowledgement means
// (durably accepted by every destination or its queue), so every ackId it
// issues is acknowledged by the time it is sent, and /ack answers true
// for every id asked about, those issued before a restart included (each
// was durable before it was sent). Only tokens with ack: true (Splunk's
// useACK) get ackIds: Vector uses acknowledgement whenever it is offered
// and then holds each request until its next poll (every 10 s by
// default), which its adaptive concurrency reads as a slow destination.
// Requests without a channel get no ackId.

// hecChannel is the request's HEC channel, or "".
func hecChannel(r *http.Request) string {
	if c := r.Header.Get("X-Splunk-Request-Channel"); c != "" {
		return c
	}
	return r.URL.Query().Get("channel")
}

// ackSeq numbers the ackIds this process issues. It starts at a random
// point below 2^52 (exact in a float64: JavaScript clients parse ids as
// numbers), so that replicas behind one Service, or this process after a
// restart, do not hand a client's channel an id it still waits on under
// another batch (Splunk Connect for Kafka and Vector file batches by
// ackId: a repeat replaces the first, which is then never acknowledged).
// Unique across channels, which is all a client needs.
var ackSeq = func() *atomic.Int64 {
	var n atomic.Int64
	n.Store(rand.Int64N(1 << 52))
	return &n
}()

// writeHECSuccess answers a HEC request whose events were all taken:
// Success, with an ackId when it came on a channel with a token that has
// ack: true.
func writeHECSuccess(w http.ResponseWriter, r *http.Request, tok *Token) int {
	if tok == nil || !tok.Ack || hecChannel(r) == "" {
		return writeHEC(w, http.StatusOK, hecSuccess, "")
	}
	buf := append(make([]byte, 0, 64), `{"text":"Success","code":0,"ackId":`...)
	buf = strconv.AppendInt(buf, ackSeq.Add(1), 10)
	buf = append(buf, '}')
	return writeRaw(w, http.StatusOK, buf)
}

// maxAckBody bounds an /ack request body (a client polls at most a few
// thousand ids at once).
const maxAckBody = 1 << 20

// handleHECAck serves POST /services/collector/ack: {"acks":[0,1,...]} on
// a channel is answered {"acks":{"0":true,"1":true,...}} (see above).
func (s *Server) handleHECAck(w http.ResponseWriter, r *http.Request) {
	tok, _, ok := s.hecAuth(w, r)
	if !ok {
		return
	}
	if tok == nil || !tok.Ack {
		writeHEC(w, http.StatusBadRequest, hecAckDisabled, "ACK is disabled: set ack: true on this token (inputs.http.tokens) for HEC indexer acknowledgement")
		return
	}
	if hecChannel(r) == "" {
		writeHEC(w, http.StatusBadRequest, hecChannelMissing, "")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAckBody+1))
	if err != nil || len(body) > maxAckBody {
		writeHEC(w, http.StatusBadRequest, hecInvalidFormat, "the body is not {\"acks\":[ids]} of at most 1 MiB")
		return
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(body)
	var acks *fastjson.Value
	if err == nil {
		acks = v.Get("acks")
	}
	if acks == nil || acks.Type() != fastjson.TypeArray {
		writeHEC(w, http.StatusBadRequest, hecInvalidFormat, "the body is not {\"acks\":[ids]}")
		return
	}
	ids, _ := acks.Array()
	buf := append(make([]byte, 0, 16+len(ids)*12), `{"acks":{`...)
	for i, id := range ids {
		n, err := id.Int64()
		if err != nil || n < 0 {
			writeHEC(w, http.StatusBadRequest, hecInvalidFormat, "an ack id is not a non-negative integer")
			return
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '"')
		buf = strconv.AppendInt(buf, n, 10)
		buf = append(buf, `":true`...)
	}
	buf = append(buf, "}}"...)
	writeRaw(w, http.StatusOK, buf)
}

// withHECOptions answers OPTIONS on a HEC endpoint 200 without a token, as
// Splunk does (Docker's splunk logging driver probes the event endpoint
// so before it lets a container start), and passes other methods to h.
func withHECOptions(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", "POST, OPTIONS")
			w.WriteHeader(http.StatusOK)
			return
		}
		h(w, r)
	}
}
