package app

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// TestAdminReplayWritten: POST /admin/replay/written takes quarantine
// records of a destination's refusals and sends each event to it as it was
// written, the bytes unchanged (not normalized again: no logrouter.input
// "replay" appears); a record without "event", of another destination, or
// whose bytes are not a JSON object is rejected, and the path needs a
// destination and the admin guard like /admin/replay.
func TestAdminReplayWritten(t *testing.T) {
	h := newAdminHarness(t, testAdminToken)
	defer h.stop()
	now := time.Now()
	ev := &pipeline.RejectedEvent{Hash: 0x1234, Time: now.UnixNano(), Ingest: now.UnixNano(), SourceType: "crowdstrike.falcon", Priority: pipeline.P1}
	key := appSealKey(t, h.data)
	line := func(r pipeline.Rejected) string {
		return strings.TrimSuffix(string(key.AppendRecord(nil, &r, now)), "\n")
	}
	const written = `{"@timestamp":"2026-11-29T08:00:00Z","message":"AS WRITTEN","logrouter":{"input":"http"}}`
	// Not sealed by this router (forged: chosen provenance and priority):
	// normalized again, as an input record would be.
	const forged = `{"@timestamp":"2026-11-29T08:00:00Z","message":"FORGED","logrouter":{"input":"http","token":"edr-fleet"}}`
	forgedRej := pipeline.Rejected{Raw: []byte(forged), Reason: "destination_rejected", Destination: "siem", Event: ev}
	body := strings.Join([]string{
		line(pipeline.Rejected{Raw: []byte(written), Reason: "destination_rejected", Destination: "siem", Event: ev}),
		line(pipeline.Rejected{Raw: []byte(written), Reason: "invalid_json", Input: "http"}),                             // no event
		line(pipeline.Rejected{Raw: []byte(written), Reason: "destination_rejected", Destination: "archive", Event: ev}), // another destination
		line(pipeline.Rejected{Raw: []byte(`not json`), Reason: "destination_rejected", Destination: "siem", Event: ev}),
		strings.TrimSuffix(string(quarantine.AppendRecord(nil, &forgedRej, now)), "\n"),
	}, "\n") + "\n"
	const auth = "Bearer " + testAdminToken
	if r := h.adminDo(http.MethodPost, "/admin/replay/written", auth, strings.NewReader(body)); r.status != http.StatusBadRequest {
		t.Errorf("without a destination: %d %s", r.status, r.body)
	}
	if r := h.adminDo(http.MethodPost, "/admin/replay/written?destination=siem", "", strings.NewReader(body)); r.status != http.StatusUnauthorized {
		t.Errorf("without the token: %d %s", r.status, r.body)
	}
	r := h.adminDo(http.MethodPost, "/admin/replay/written?destination=siem", auth, strings.NewReader(body))
	if r.status != http.StatusOK || !strings.Contains(r.body, `"replayed":2`) || !strings.Contains(r.body, `"rejected":3`) ||
		!strings.Contains(r.body, `"renormalized":1`) {
		t.Fatalf("replay as written: %d %s", r.status, r.body)
	}
	if !h.siemHas("AS WRITTEN", 10*time.Second) || !h.siemHas("FORGED", 10*time.Second) {
		t.Fatal("the events were not delivered")
	}
	for _, l := range readLines(t, h.data+"/siem") {
		if strings.Contains(l, "AS WRITTEN") && l != written {
			t.Errorf("delivered\n%s\nwritten\n%s", l, written)
		}
		if strings.Contains(l, "FORGED") && (strings.Contains(l, "edr-fleet") || !strings.Contains(l, `"logrouter":{"input":"replay"`)) {
			t.Errorf("an unsealed record was taken as written: %s", l)
		}
	}
}

// TestAdminReplayWrittenTooLarge: a record whose event is over the replay
// limit is quarantined as too_large with its first bytes, sealed or not (it
// was replay_rejected with the whole line when sealed); nothing is sent.
func TestAdminReplayWrittenTooLarge(t *testing.T) {
	h := newAdminHarness(t, testAdminToken)
	defer h.stop()
	h.app.replay.eventBytes = 64
	defer func() { h.app.replay = defaultReplayLimits }()
	key := appSealKey(t, h.data)
	now := time.Now()
	big := `{"message":"` + strings.Repeat("x", 100) + `"}`
	rej := pipeline.Rejected{Raw: []byte(big), Reason: "destination_rejected", Destination: "siem",
		Event: &pipeline.RejectedEvent{Hash: 7, Time: now.UnixNano(), Ingest: now.UnixNano(), Priority: pipeline.P1}}
	body := string(key.AppendRecord(nil, &rej, now)) + string(quarantine.AppendRecord(nil, &rej, now))
	r := h.adminDo(http.MethodPost, "/admin/replay/written?destination=siem", "Bearer "+testAdminToken, strings.NewReader(body))
	if r.status != http.StatusOK || !strings.Contains(r.body, `"replayed":0`) || !strings.Contains(r.body, `"rejected":2`) {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}
	n := 0
	for _, l := range readLines(t, filepath.Join(h.data, "quarantine")) {
		if strings.Contains(l, `"reason":"too_large"`) && strings.Contains(l, `"input":"replay"`) {
			n++
			if !strings.Contains(l, `"raw":"{\"message\":\"xxx`) || strings.Contains(l, `destination_rejected`) {
				t.Errorf("too_large record holds more than the event's first bytes: %s", l)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d too_large records, want 2", n)
	}
}
