package httpin

import (
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/logrouter/logrouter/internal/jsonscan"
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

// ackAnswerPerID bounds the answer's bytes per polled id (`"<id>":true,`,
// an id of up to 19 digits).
const ackAnswerPerID = 27

// handleHECAck serves POST /services/collector/ack: {"acks":[0,1,...]} on
// a channel is answered {"acks":{"0":true,"1":true,...}} (see above). It
// runs under the request limits like the event endpoints (a poll takes a
// max_concurrent_requests slot, and its body and answer are charged to
// max_inflight_bytes), and walks the ids without parsing the body whole:
// a 1 MiB poll of half a million ids took ~240 MiB outside every limit.
func (s *Server) handleHECAck(w http.ResponseWriter, r *http.Request, c *charge) int {
	tok, code, ok := s.hecAuth(w, r)
	if !ok {
		return code
	}
	if tok == nil || !tok.Ack {
		return writeHEC(w, http.StatusBadRequest, hecAckDisabled, "ACK is disabled: set ack: true on this token (inputs.http.tokens) for HEC indexer acknowledgement")
	}
	if hecChannel(r) == "" {
		return writeHEC(w, http.StatusBadRequest, hecChannelMissing, "")
	}
	if r.ContentLength > maxAckBody {
		return writeHEC(w, http.StatusBadRequest, hecInvalidFormat, "the body is not {\"acks\":[ids]} of at most 1 MiB")
	}
	if !c.to(min(max(r.ContentLength, 4<<10), maxAckBody)) {
		return writeBusy(w, ProtoHECAck, s.busyMsg())
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAckBody+1))
	if err != nil || len(body) > maxAckBody {
		return writeHEC(w, http.StatusBadRequest, hecInvalidFormat, "the body is not {\"acks\":[ids]} of at most 1 MiB")
	}
	var acks []byte
	err = jsonscan.Members(body, func(k, v []byte) error {
		if isKey(k, "acks") {
			acks = v
		}
		return nil
	})
	if err != nil || len(acks) == 0 || acks[0] != '[' {
		return writeHEC(w, http.StatusBadRequest, hecInvalidFormat, "the body is not {\"acks\":[ids]}")
	}
	n := jsonscan.Values(acks) // an upper bound on the ids
	if !c.to(int64(len(body)) + int64(16+n*ackAnswerPerID)) {
		return writeBusy(w, ProtoHECAck, s.busyMsg())
	}
	buf := append(make([]byte, 0, 16+n*ackAnswerPerID), `{"acks":{`...)
	i := 0
	err = jsonscan.Elements(acks, func(el []byte) error {
		id, err := strconv.ParseInt(string(el), 10, 64)
		if err != nil || id < 0 {
			return errBadAckID
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		i++
		buf = append(buf, '"')
		buf = strconv.AppendInt(buf, id, 10)
		buf = append(buf, `":true`...)
		return nil
	})
	if err != nil {
		return writeHEC(w, http.StatusBadRequest, hecInvalidFormat, "an ack id is not a non-negative integer")
	}
	buf = append(buf, "}}"...)
	return writeRaw(w, http.StatusOK, buf)
}

var errBadAckID = errors.New("an ack id is not a non-negative integer")

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
