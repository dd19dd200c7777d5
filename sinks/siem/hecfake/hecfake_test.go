package hecfake

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
)

func TestMain(m *testing.M) { testutil.VerifyTestMain(m) }

const ch = "0aeeac95-ac74-4aa9-b30d-6c4c0ac581ba"

type answer struct {
	Text    string          `json:"text"`
	Code    int             `json:"code"`
	Invalid *int            `json:"invalid-event-number"`
	AckID   *int64          `json:"ackId"`
	Acks    map[string]bool `json:"acks"`
}

func post(t *testing.T, s *Server, path, auth, channel string, body []byte, gz bool) (int, answer) {
	t.Helper()
	if gz {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write(body)
		_ = w.Close()
		body = b.Bytes()
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL()+path, bytes.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if channel != "" {
		req.Header.Set("X-Splunk-Request-Channel", channel)
	}
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a answer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("answer %q: %v", b, err)
	}
	return resp.StatusCode, a
}

func closeIdle(t *testing.T) {
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
}

func TestAuthAndCodes(t *testing.T) {
	closeIdle(t)
	s := New(Config{Tokens: []string{"tok"}})
	defer s.Close()
	ev := []byte(`{"event":{"a":1}}`)
	for _, c := range []struct {
		auth         string
		status, code int
	}{
		{"", 401, CodeTokenRequired},
		{"Bearer tok", 401, CodeInvalidAuth},
		{"Splunk nope", 403, CodeInvalidToken},
		{"Splunk tok", 200, CodeSuccess},
	} {
		st, a := post(t, s, "/services/collector/event", c.auth, "", ev, false)
		if st != c.status || a.Code != c.code {
			t.Errorf("auth %q: %d %+v, want %d code %d", c.auth, st, a, c.status, c.code)
		}
	}
	s.DisableToken("tok", true)
	if st, a := post(t, s, "/services/collector/event", "Splunk tok", "", ev, false); st != 403 || a.Code != CodeTokenDisabled {
		t.Errorf("disabled token: %d %+v", st, a)
	}
	s.DisableToken("tok", false)

	body := []byte(`{"event":"a","time":"1795824000.5"} {"event":{"b":2},"fields":{"f":"x"}}` + "\n" + `{"time":1,"host":"h"}{"event":"c"}`)
	st, a := post(t, s, "/services/collector", "Splunk tok", "", body, true)
	if st != 400 || a.Code != CodeEventRequired || a.Invalid == nil || *a.Invalid != 2 {
		t.Errorf("missing event: %d %+v", st, a)
	}
	if st, a := post(t, s, "/services/collector/event", "Splunk tok", "", []byte(`{"event":""}`), false); st != 400 || a.Code != CodeEventBlank || *a.Invalid != 0 {
		t.Errorf("blank event: %d %+v", st, a)
	}
	if st, a := post(t, s, "/services/collector/event", "Splunk tok", "", []byte(`{"event":1}{"event":`), false); st != 400 || a.Code != CodeInvalidFormat || *a.Invalid != 1 {
		t.Errorf("bad JSON: %d %+v", st, a)
	}
	if st, a := post(t, s, "/services/collector/event", "Splunk tok", "", []byte(` `), false); st != 400 || a.Code != CodeNoData {
		t.Errorf("no data: %d %+v", st, a)
	}
	evs := s.Events()
	// 1 (auth ok) + 2 (before the missing event) + 1 (before the bad JSON)
	if len(evs) != 4 || !evs[1].Gzip || evs[1].Time != "1795824000.5" || evs[2].Fields["f"] != "x" {
		t.Errorf("indexed %+v", evs)
	}

	s2 := New(Config{Indexes: []string{"main"}})
	defer s2.Close()
	if st, a := post(t, s2, "/services/collector/event", "Splunk test-token", "", []byte(`{"event":1,"index":"main"}{"event":2,"index":"sec"}`), false); st != 400 || a.Code != CodeIncorrectIndex || *a.Invalid != 1 {
		t.Errorf("incorrect index: %d %+v", st, a)
	}
	s2.FailNext(2, 503, CodeBusy)
	for i := 0; i < 2; i++ {
		if st, a := post(t, s2, "/services/collector/event", "Splunk test-token", "", ev, false); st != 503 || a.Code != CodeBusy {
			t.Errorf("busy: %d %+v", st, a)
		}
	}
	s2.DelayNext(1, 100*time.Millisecond)
	start := time.Now()
	if st, _ := post(t, s2, "/services/collector/event", "Splunk test-token", "", ev, false); st != 200 || time.Since(start) < 100*time.Millisecond {
		t.Errorf("delay: %d after %s", st, time.Since(start))
	}
	resp, err := http.Get(s2.URL() + "/services/collector/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s2.SetHealthy(false)
	resp2, _ := http.Get(s2.URL() + "/services/collector/health")
	resp2.Body.Close()
	if resp.StatusCode != 200 || resp2.StatusCode != 503 {
		t.Errorf("health %d then %d", resp.StatusCode, resp2.StatusCode)
	}
}

func TestAcks(t *testing.T) {
	closeIdle(t)
	s := New(Config{Ack: true})
	defer s.Close()
	ev := []byte(`{"event":"x"}`)
	if st, a := post(t, s, "/services/collector/event", "Splunk test-token", "", ev, false); st != 400 || a.Code != CodeNoChannel {
		t.Errorf("no channel: %d %+v", st, a)
	}
	if st, a := post(t, s, "/services/collector/event", "Splunk test-token", "not-a-uuid", ev, false); st != 400 || a.Code != CodeBadChannel {
		t.Errorf("bad channel: %d %+v", st, a)
	}
	for want := int64(0); want < 3; want++ {
		st, a := post(t, s, "/services/collector/event", "Splunk test-token", ch, ev, false)
		if st != 200 || a.AckID == nil || *a.AckID != want {
			t.Fatalf("ackId: %d %+v, want %d", st, a, want)
		}
	}
	// another channel counts from 0
	if _, a := post(t, s, "/services/collector/event?channel="+strings.ToUpper(ch[:8])+ch[8:], "Splunk test-token", "", ev, false); a.AckID == nil || *a.AckID != 0 {
		t.Errorf("second channel: %+v", a)
	}
	_, a := post(t, s, "/services/collector/ack?channel="+ch, "Splunk test-token", "", []byte(`{"acks":[0,2,7]}`), false)
	if len(a.Acks) != 3 || !a.Acks["0"] || !a.Acks["2"] || a.Acks["7"] {
		t.Errorf("acks %+v", a.Acks)
	}
	_, a = post(t, s, "/services/collector/ack", "Splunk test-token", ch, []byte(`{"acks":[0,1]}`), false)
	if a.Acks["0"] || !a.Acks["1"] {
		t.Errorf("an ack reported true must be forgotten: %+v", a.Acks)
	}

	s.SetAckDelay(150 * time.Millisecond)
	s.DropAcks(1)
	_, a = post(t, s, "/services/collector/event", "Splunk test-token", ch, ev, false)
	id := *a.AckID
	time.Sleep(200 * time.Millisecond)
	_, a = post(t, s, "/services/collector/ack", "Splunk test-token", ch, []byte(`{"acks":[`+jsonInt(id)+`]}`), false)
	if a.Acks[jsonInt(id)] {
		t.Errorf("a dropped ack was confirmed")
	}
	s.DropAcks(0)
	sent := time.Now() // before the server stamps the request
	_, a = post(t, s, "/services/collector/event", "Splunk test-token", ch, ev, false)
	id = *a.AckID
	_, a = post(t, s, "/services/collector/ack", "Splunk test-token", ch, []byte(`{"acks":[`+jsonInt(id)+`]}`), false)
	// Only conclusive if the poll was answered within the delay: on a
	// loaded machine the two requests can take longer than 150ms, and then
	// the ack is rightly true.
	if a.Acks[jsonInt(id)] && time.Since(sent) < 150*time.Millisecond {
		t.Errorf("a delayed ack was confirmed at once")
	}
	time.Sleep(200 * time.Millisecond)
	_, a = post(t, s, "/services/collector/ack", "Splunk test-token", ch, []byte(`{"acks":[`+jsonInt(id)+`]}`), false)
	if !a.Acks[jsonInt(id)] {
		t.Errorf("a delayed ack never confirmed")
	}
	s.SetAck(false)
	if st, a := post(t, s, "/services/collector/ack", "Splunk test-token", ch, []byte(`{"acks":[0]}`), false); st != 400 || a.Code != CodeAckDisabled {
		t.Errorf("ack disabled: %d %+v", st, a)
	}
}

func jsonInt(i int64) string { b, _ := json.Marshal(i); return string(b) }
