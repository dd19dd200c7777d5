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

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

// TestWrittenReplayRequarantineKeepsDestination (review; fixed: the new
// record keeps the event whole, its destination, status and event metadata)
//
// Sequence: the SIEM refused a large normalized event (a 1 MiB input of
// control characters normalizes to ~6 MiB, over ReplayMaxEventBytes; here
// the limit is lowered to 64 bytes). Its sealed record (destination
// "siem", "event" metadata) is replayed with POST
// /admin/replay/written?destination=siem, as `router quarantine replay`
// does.
//
// What happens: the router answers "rejected":1 (the CLI then records the
// line as handled and never sends it again) and writes a new record with
// input "replay", reason too_large, but without "destination" and without
// "event": the record no longer says which destination refused the event.
//
// What should happen: the new record keeps the destination (and what was
// written), so that a later `router quarantine replay --reason too_large`
// (after raising the limit) sends it back to the SIEM only, as written.
//
// Why it matters: the re-quarantined record replays as an input record:
// normalized again and routed by the rules to every destination (archive,
// OpenSearch) instead of the one that refused it; the original line is
// already marked replayed, so the event cannot reach the SIEM through
// replay any more.
func TestWrittenReplayRequarantineKeepsDestination(t *testing.T) {
	h := newAdminHarness(t, testAdminToken)
	defer h.stop()
	h.app.replay.eventBytes = 64
	defer func() { h.app.replay = defaultReplayLimits }()
	key := appSealKey(t, h.data)
	now := time.Now()
	big := `{"message":"` + strings.Repeat("x", 100) + `"}`
	rej := pipeline.Rejected{Raw: []byte(big), Reason: "destination_rejected", Destination: "siem", Status: 413,
		Event: &pipeline.RejectedEvent{Hash: 7, Time: now.UnixNano(), Ingest: now.UnixNano(), Priority: pipeline.P1}}
	body := string(key.AppendRecord(nil, &rej, now))
	r := h.adminDo(http.MethodPost, "/admin/replay/written?destination=siem", "Bearer "+testAdminToken, strings.NewReader(body))
	if r.status != http.StatusOK || !strings.Contains(r.body, `"rejected":1`) {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}
	found := false
	for _, l := range readLines(t, filepath.Join(h.data, "quarantine")) {
		rec, err := quarantine.ParseLine([]byte(l))
		if err != nil || rec.Input != "replay" {
			continue
		}
		found = true
		if rec.Destination != "siem" {
			t.Errorf("re-quarantined record of the SIEM's refusal has destination %q (a later replay routes it to every destination as an input record): %s", rec.Destination, l)
		}
	}
	if !found {
		t.Fatal("no re-quarantined record")
	}
}
