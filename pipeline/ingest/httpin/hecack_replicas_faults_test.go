package httpin

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestHECAckIDsRepeatAcrossReplicas: hecack.go numbers ackIds with a
// process-wide counter that starts at 0 in every process (`var ackSeq
// atomic.Int64`), and documents it as "unique across channels, which is
// all a client needs". It is not unique across the processes one client
// talks to: the shipped gateway (deploy/kubernetes/gateway.yaml) runs
// `replicas: 3` behind a plain Service (no session affinity), and any
// replica restarts from 0. A client's channel spreads over the replicas,
// so two different batches on the SAME channel get the same ackId (the
// first request each fresh replica answers is ackId 0, so it happens at
// once after every rollout). Clients key pending batches by ackId:
//   - Splunk Connect for Kafka, HecAckPoller.add:
//     `channelEvents.put(resp.getAckId(), batch)`: the second batch
//     silently replaces the first, which is then never acknowledged nor
//     timed out (findAndRemoveTimedoutBatches only sees the map), so its
//     offsets are never committed;
//   - Vector (splunk_hec sink, indexer_acknowledgements_enabled by
//     default), HecAckClient.add: `self.acks.insert(ack_id, ...)` drops the
//     first batch's oneshot sender, and HecService awaits it with
//     `rx.await.unwrap_or(EventStatus::Rejected)`: a batch logrouter durably
//     accepted is finalized as Rejected (end-to-end acknowledgements report
//     a failure to the source).
//
// Splunk sidesteps this with per-indexer channels and sticky sessions;
// logrouter advertises ack as something that just works (docs/shippers.md,
// README) and gives every id true, so the only thing an id must do is
// not repeat.
//
// Reproduce: two fresh logrouter processes (replicas, or one before and
// after a restart) each answer one request on the same channel (this
// test re-runs its own binary twice as those processes).
// Expected: the two answers carry different ackIds (e.g. ids seeded from
// the clock or random per process), since a client cannot tell the
// processes apart.
func TestHECAckIDsRepeatAcrossReplicas(t *testing.T) {
	const channel = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
	if os.Getenv("LOGROUTER_REVIEW_ACK_CHILD") == "1" {
		// One replica: answer one event request on the channel, print it.
		f := newFixture(t, Config{Tokens: []Token{{Name: "t", Token: "tok", Ack: true}}}, nil)
		w := f.do("POST", "/services/collector/event", "Splunk tok", `{"event":"x"}`, "X-Splunk-Request-Channel", channel)
		os.Stdout.WriteString("ANSWER " + w.Body.String() + "\n")
		return
	}
	answer := func() int64 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHECAckIDsRepeatAcrossReplicas$", "-test.count=1")
		cmd.Env = append(os.Environ(), "LOGROUTER_REVIEW_ACK_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("replica: %v\n%s", err, out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if rest, ok := strings.CutPrefix(l, "ANSWER "); ok {
				var a struct {
					AckID *int64 `json:"ackId"`
				}
				if err := json.Unmarshal([]byte(rest), &a); err != nil || a.AckID == nil {
					t.Fatalf("replica answered %s: no ackId", rest)
				}
				return *a.AckID
			}
		}
		t.Fatalf("replica printed no answer:\n%s", out)
		return 0
	}
	a, b := answer(), answer()
	if a == b {
		t.Errorf("two replicas (or one across a restart) answered two different batches on channel %s with the same ackId %d: Kafka Connect's HecAckPoller replaces the first batch (never committed), Vector finalizes it Rejected", channel, a)
	}
}
