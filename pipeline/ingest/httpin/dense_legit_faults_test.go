package httpin

import (
	"fmt"
	"strings"
	"testing"

	"github.com/logrouter/logrouter/internal/jsonscan"
)

// TestOsquerySnapshotNotDense: osquery logs a scheduled query run in
// snapshot mode as ONE JSON record holding every row ({"snapshot":[...],
// "action":"snapshot",...}), every column written as a string (numerics
// off, the default). A listening_ports snapshot of a Kubernetes node with
// an Istio mesh (110 pods, each with its app port and the sidecar's five
// listeners: 15000, 15001, 15006, 15021, 15090) is ~100 KB of rows like
// {"address":"10.244.3.17","family":"2","fd":"12","net_namespace":...}:
// a value every ~15 bytes. A real log, not a decompression bomb: its parse
// costs ~3 MiB, charged to max_inflight_bytes anyway. 46bb6b6 quarantines
// it as too_many_values (over 64 KiB, a value every 16 bytes or less) on
// every endpoint, and again on every replay (the thresholds are
// constants), so it never reaches a destination.
func TestOsquerySnapshotNotDense(t *testing.T) {
	var rows []string
	for pod := range 110 {
		ns := 4026532000 + pod*7
		for j, port := range []int{8080, 15000, 15001, 15006, 15021, 15090} {
			addr := fmt.Sprintf("10.244.3.%d", 2+pod)
			if port == 15000 {
				addr = "127.0.0.1"
			}
			rows = append(rows, fmt.Sprintf(`{"address":"%s","family":"2","fd":"%d","net_namespace":"%d","path":"","pid":"%d","port":"%d","protocol":"6","socket":"%d"}`,
				addr, 3+j, ns, 20000+pod*37+j, port, 3800000+pod*101+j))
		}
	}
	rec := `{"name":"pack_incident-response_listening_ports","hostIdentifier":"k8s-node-07.prod.example.com","calendarTime":"Mon Mar  2 10:15:00 2026 UTC","unixTime":1772446500,"epoch":0,"counter":0,"numerics":false,"decorations":{"host_uuid":"4C4C4544-0052-3010-8044-B4C04F4E3332","username":"root"},"snapshot":[` +
		strings.Join(rows, ",") + `],"action":"snapshot"}`
	t.Logf("osquery snapshot: %d rows, %d bytes, %d values: a value every %.1f bytes", len(rows), len(rec), jsonscan.Values([]byte(rec)), float64(len(rec))/float64(jsonscan.Values([]byte(rec))))

	f := newFixture(t, Config{}, nil)
	w := f.do("POST", "/ingest", "", rec+"\n", "Content-Type", "application/x-ndjson")
	var reasons []string
	for _, r := range f.q.Records() {
		reasons = append(reasons, r.Reason)
	}
	if w.Code != 200 || len(f.rec.Events()) != 1 {
		t.Errorf("an osquery listening_ports snapshot of %d rows (%d bytes): answered %d %.200s; delivered %d events, quarantined %v; want it delivered",
			len(rows), len(rec), w.Code, w.Body, len(f.rec.Events()), reasons)
	}
}
