package app

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEdgeReplayCannotChooseProvenance (review)
//
// docs/configuration.md#admin: POST /admin/replay delivers what it is sent
// "normalized and marked logrouter.input: replay", and the seal on
// /admin/replay/written exists "so the token alone cannot put an event in a
// destination with chosen provenance (logrouter.*), _id or priority".
//
// Sequence: a router with no Kafka input at all (so no logrouter edge can
// ever have written a record to its quarantine) is sent, with the admin
// token, one line on POST /admin/replay/edge whose own "logrouter" member
// claims it came in on the HTTP input with the "edr" token from
// 10.9.9.9.
//
// What happens: addEdge normalizes it with KeepOwnLogrouter and
// Normalized, so logrouter.input, protocol, peer and token are the line's
// own: the archive (and SIEM) receive an event that looks like an EDR
// sender's, with nothing saying it was replayed. Unlike /admin/replay/syslog
// (409 without a syslog input), the path is served by any router.
//
// Expected: the admin token cannot choose an event's logrouter.* provenance
// (refuse the path on a router without an edge Kafka input, or mark the
// event replay as every other replay path does).
func TestEdgeReplayCannotChooseProvenance(t *testing.T) {
	h := newAdminHarness(t, testAdminToken)
	defer h.stop()
	line := `{"@timestamp":"2026-01-01T00:00:00Z","message":"edge-forged all clear","host":{"name":"dc01"},` +
		`"event":{"dataset":"edr"},"logrouter":{"input":"http","protocol":"hec","peer":"10.9.9.9","token":"edr"}}`
	r := h.adminDo(http.MethodPost, "/admin/replay/edge", "Bearer "+testAdminToken, strings.NewReader(line+"\n"))
	if r.status != http.StatusOK {
		// Refused on a router that has no edge input: what is expected.
		return
	}
	var got string
	for deadline := time.Now().Add(5 * time.Second); got == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, l := range readLines(t, filepath.Join(h.data, "siem")) {
			if strings.Contains(l, "edge-forged") {
				got = l
			}
		}
	}
	if got == "" {
		t.Fatalf("answered %d %s but nothing reached the SIEM", r.status, r.body)
	}
	var ev struct {
		Logrouter map[string]any `json:"logrouter"`
	}
	if err := json.Unmarshal([]byte(got), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Logrouter["input"] != "replay" {
		t.Errorf("an event posted with the admin token to /admin/replay/edge (router without any Kafka input) was delivered with the provenance it claimed, not marked replay: logrouter=%v", ev.Logrouter)
	}
}
