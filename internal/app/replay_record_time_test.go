package app

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestReplayRecordTime: ?record_time= (a quarantined Kafka record's
// timestamp, the quarantine line's record_time) stands in for the time of
// a replayed event without one of its own, as on the input's first read,
// and never over an event's own time (unlike ?time=, HEC's).
func TestReplayRecordTime(t *testing.T) {
	h := newAdminHarness(t, "")
	defer h.stop()
	rec := time.Date(2023, 6, 1, 12, 0, 0, 0, time.UTC)
	body := `{"host":{"name":"dc01"},"event":{"dataset":"edr","action":"x"},"message":"RECTIME-NO-OWN"}` + "\n" +
		`{"@timestamp":"2024-01-01T00:00:00Z","host":{"name":"dc01"},"event":{"dataset":"edr","action":"x"},"message":"RECTIME-OWN"}` + "\n"
	r := h.adminDo(http.MethodPost, fmt.Sprintf("/admin/replay?record_time=%d", rec.UnixNano()), "", strings.NewReader(body))
	if r.status != http.StatusOK || !strings.Contains(r.body, `"replayed":2`) {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}
	if !h.siemHas(`"@timestamp":"2023-06-01T12:00:00.000Z"`, 10*time.Second) {
		t.Error("the event without a time of its own did not get the record's time")
	}
	if !h.siemHas(`"@timestamp":"2024-01-01T00:00:00.000Z"`, 10*time.Second) {
		t.Error("the event's own time did not win over the record's")
	}
	if r := h.adminDo(http.MethodPost, "/admin/replay?record_time=soon", "", strings.NewReader(body)); r.status != http.StatusBadRequest {
		t.Errorf("record_time=soon: %d %s, want 400", r.status, r.body)
	}
}
