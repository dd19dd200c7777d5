package httpin

// Review faults of the HEC receiver against real shippers, kept as tests once fixed (SOC migration from
// Splunk HEC): indexer acknowledgement, as Splunk's own HEC client in
// Splunk Connect for Kafka uses it.

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestHECIndexerAckNeverConfirmed: Splunk Connect for Kafka
// (splunk/kafka-connect-splunk, Splunk's own HEC client; its
// `splunk.hec.ack.enabled` is defined with default true in
// SplunkSinkConnectorConfig of several releases, and its docs say to keep
// it matching the token's useACK, so a token with acks keeps it on) sends every batch with
// `X-Splunk-Request-Channel: <uuid>` (hecclient/Indexer.java) and commits
// the Kafka offsets of a batch only once the indexer acknowledged it:
// HecAckPoller.add reads `ackId` from the 200 answer (PostResponse.java:
// absent means -1) and files the batch under it; every
// `splunk.hec.ack.poll.interval` it POSTs `{"acks":[ids]}` to
// /services/collector/ack on the same channel (createAckPollHttpRequest),
// treats any status but 200/201 as "failed to poll ack", and a batch not
// acknowledged within `splunk.hec.event.timeout` is failed
// (findAndRemoveTimedoutBatches -> onEventFailure) and sent again. Splunk
// with useACK answers every event POST `{"text":"Success","code":0,
// "ackId":N}` (ids counting from 0 per channel) and the ack poll
// `{"acks":{"N":true}}` once the batch is indexed.
//
// logrouter answers the POST `{"text":"Success","code":0}` (no ackId) and
// /services/collector/ack with 404, although its 200 already means the
// events are fsynced in every destination's queue (docs/shippers.md says
// only that Vector falls back to "delivered" without an ackId, which is
// true of Vector alone). So for this connector no batch is ever
// acknowledged: every batch without an id is filed under -1, each
// overwriting the one before, the surviving one times out and is resent
// (and accepted again: duplicates in every destination), and the
// connector's offsets never advance, so a restart or rebalance re-reads
// and resends everything since the cut-over.
//
// Expected: an event request that names a channel (header or ?channel=),
// with a token that has acknowledgement on (ack: true, Splunk's useACK,
// which a Splunk token for this connector has), is answered with an ackId, and POST /services/collector/ack on that
// channel answers {"acks":{"<id>":true}} for the ids it issued (true at
// once is correct: the 200 was only sent after the events were durable).
func TestHECIndexerAckNeverConfirmed(t *testing.T) {
	const token = "Splunk 9e8d7c6b-5a49-3827-1605-f4e3d2c1b0a9"
	const channel = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b" // HecChannel's random UUID
	f := newFixture(t, Config{Tokens: []Token{{Name: "kafka-connect", Token: "9e8d7c6b-5a49-3827-1605-f4e3d2c1b0a9", Ack: true}}}, nil)

	w := f.do("POST", "/services/collector/event", token,
		`{"time":1764331200.123,"host":"kafka-connect-1","sourcetype":"kafka:topic","event":{"user":"alice","action":"login_failed"}}`,
		"X-Splunk-Request-Channel", channel, "Content-Type", "application/json")
	if w.Code != http.StatusOK {
		t.Fatalf("event POST: %d %s", w.Code, w.Body)
	}
	var posted struct {
		Code  int    `json:"code"`
		AckID *int64 `json:"ackId"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &posted); err != nil {
		t.Fatalf("event answer %s: %v", w.Body, err)
	}
	if posted.AckID == nil {
		t.Errorf("event POST on channel %s answered %s: no ackId, so kafka-connect-splunk files the batch under -1 and waits for an acknowledgement that never comes", channel, w.Body)
	}
	id := int64(-1) // what the connector polls when the answer had none
	if posted.AckID != nil {
		id = *posted.AckID
	}

	// The connector's poll, as createAckPollHttpRequest builds it.
	body, _ := json.Marshal(map[string][]int64{"acks": {id}})
	w = f.do("POST", "/services/collector/ack", token, string(body),
		"X-Splunk-Request-Channel", channel, "Content-Type", "application/json; profile=urn:splunk:event:1.0; charset=utf-8")
	if w.Code != http.StatusOK && w.Code != http.StatusCreated {
		t.Fatalf("ack poll %s = %d %s; the connector logs \"failed to poll ack\", resends the batch after splunk.hec.event.timeout and never commits its offsets", body, w.Code, w.Body)
	}
	var acks struct {
		Acks map[string]bool `json:"acks"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &acks); err != nil {
		t.Fatalf("ack answer %s: %v", w.Body, err)
	}
	if posted.AckID != nil && !acks.Acks[jsonInt(id)] {
		t.Errorf("ack poll for id %d = %s, want it acknowledged (the events were accepted durably)", id, w.Body)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
