package httpin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/logrouter/logrouter/internal/testutil"
)

// TestHECAckAnswers: /services/collector/ack needs a token with ack: true
// and a channel, answers every id asked about true (ids issued before a
// restart included: each was durable before it was sent), an empty list
// with an empty object, and a body that is not {"acks":[ids]} with 400
// code 6; requests on a channel with such a token get increasing ackIds,
// those without a channel or with another token none (Vector, whose
// default is to use acknowledgement when offered, would hold each request
// until its next poll).
func TestHECAckAnswers(t *testing.T) {
	f := newFixture(t, Config{Tokens: []Token{{Name: "t", Token: "tok", Ack: true}, {Name: "vector", Token: "vec"}}}, nil)
	const auth = "Splunk tok"
	ch := []string{"X-Splunk-Request-Channel", "0aa2b8a1-3f4e-4b5d-9c6e-7f8091a2b3c4"}
	for _, c := range []struct {
		name, token, body string
		hdr               []string
		code              int
		want              string
	}{
		{"no token", "", `{"acks":[0]}`, ch, http.StatusUnauthorized, `"code":2`},
		{"no channel", auth, `{"acks":[0]}`, nil, http.StatusBadRequest, `"code":10`},
		{"token without ack", "Splunk vec", `{"acks":[0]}`, ch, http.StatusBadRequest, `"code":14`},
		{"ids", auth, `{"acks":[0,7,123456789]}`, ch, http.StatusOK, `{"acks":{"0":true,"7":true,"123456789":true}}`},
		{"empty", auth, `{"acks":[]}`, ch, http.StatusOK, `{"acks":{}}`},
		{"channel in the query", auth, `{"acks":[3]}`, nil, http.StatusOK, `{"acks":{"3":true}}`},
		{"not a list", auth, `{"acks":3}`, ch, http.StatusBadRequest, `"code":6`},
		{"negative id", auth, `{"acks":[-1]}`, ch, http.StatusBadRequest, `"code":6`},
		{"not JSON", auth, `acks`, ch, http.StatusBadRequest, `"code":6`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := "/services/collector/ack"
			if c.name == "channel in the query" {
				path += "?channel=0aa2b8a1-3f4e-4b5d-9c6e-7f8091a2b3c4"
			}
			w := f.do("POST", path, c.token, c.body, c.hdr...)
			if w.Code != c.code || !strings.Contains(w.Body.String(), c.want) {
				t.Fatalf("%d %s, want %d with %s", w.Code, w.Body, c.code, c.want)
			}
		})
	}
	ev := `{"event":"x"}`
	a := f.do("POST", "/services/collector/event", auth, ev, ch...).Body.String()
	b := f.do("POST", "/services/collector/raw?channel=c2", auth, "line").Body.String()
	none := f.do("POST", "/services/collector/event", auth, ev)
	rawNone := f.do("POST", "/services/collector/raw", auth, "line")
	vec := f.do("POST", "/services/collector/event", "Splunk vec", ev, ch...).Body.String()
	vecNone := f.do("POST", "/services/collector/event", "Splunk vec", ev)
	if !strings.Contains(a, `"ackId":`) || !strings.Contains(b, `"ackId":`) || a == b {
		t.Errorf("answers on channels %s, %s: want distinct ackIds", a, b)
	}
	// A token with ack needs a channel, as Splunk with useACK: code 10.
	for _, w := range []*httptest.ResponseRecorder{none, rawNone} {
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"code":10`) {
			t.Errorf("an ack token's request without a channel: %d %s, want 400 code 10", w.Code, w.Body)
		}
	}
	if strings.Contains(vec, "ackId") || vecNone.Code != http.StatusOK || strings.Contains(vecNone.Body.String(), "ackId") {
		t.Errorf("a token without ack: %s, without a channel %d %s: want 200 and no ackId (Splunk without acknowledgement)", vec, vecNone.Code, vecNone.Body)
	}
}

// fullSink is a sink whose queue reports itself full (pipeline.FullReporter).
type fullSink struct {
	testutil.RecordSink
	full bool
}

func (s *fullSink) Full() bool { return s.full }

// TestHECHealthQueuesFull: /services/collector/health answers 503 code 18
// ("queues are full", as Splunk does) while a destination's queue refuses
// input for want of room, so that a load balancer checking it sends to
// other replicas; 200 code 17 otherwise.
func TestHECHealthQueuesFull(t *testing.T) {
	s := &fullSink{RecordSink: testutil.RecordSink{SinkName: "all"}}
	f := newFixture(t, Config{}, s)
	if w := f.do("GET", "/services/collector/health", "", ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"code":17`) {
		t.Fatalf("healthy: %d %s", w.Code, w.Body)
	}
	s.full = true
	if w := f.do("GET", "/services/collector/health/1.0", "", ""); w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"code":18`) {
		t.Fatalf("queues full: %d %s", w.Code, w.Body)
	}
}
