package app

// A fault a review proved; the test failed before the fix.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/queue"
	"github.com/logrouter/logrouter/sinks/file"
)

// TestRefusedRequestDoesNotQuarantineItsBadRecordTwice
//
// What is wrong: an /ingest request with one good and one malformed line,
// sent while its destination refuses (here a destination without a queue
// that is down; a full queue does the same), is answered 503 with
// Retry-After, "resend all". But request.deliver quarantined the malformed
// line before the Emit that failed: it is written to the quarantine and
// counted in logrouter_quarantined_events_total although the request was
// refused, and the sender's resend (as told) quarantines it a second time.
// One bad record ends up twice in the quarantine files and twice in the
// ledger's quarantined column, and `router quarantine replay` (once its
// cause is fixed) delivers it twice.
//
// Expected: README: "/ingest ... 503 + Retry-After means resend all";
// docs/architecture.md (The ledger): "Refused events were never
// acknowledged (the sender was told to retry)"; pipeline/ingest/httpin's
// deliver: "When it fails nothing was accepted". A record of a refused
// request is refused, not quarantined: after the refusal and the resend,
// the malformed line is in the quarantine once and counted quarantined
// once.
func TestRefusedRequestDoesNotQuarantineItsBadRecordTwice(t *testing.T) {
	data := t.TempDir()
	siem := &reviewSink{name: "siem"}
	siem.down.Store(true)
	a := reviewApp(t, data, "app.generic", []config.Destination{
		{Name: "siem", Type: "file", File: &file.Config{Dir: filepath.Join(data, "siem")}, Queue: &queue.Config{Mode: "none"}},
	}, config.Routing{All: []string{"siem"}}, siem)
	const bad = `{"message":"review17d-bad"`
	req := `{"message":"review17d-good"}` + "\n" + bad + "\n"
	code, msg := ingest(t, a, req)
	if code != 503 && code != 429 {
		t.Fatalf("with the destination down: %d %s, want a retryable refusal", code, msg)
	}
	siem.down.Store(false)
	if code, msg := ingest(t, a, req); code != 200 && code != 400 {
		t.Fatalf("resend: %d %s", code, msg)
	}
	if n := len(siem.received()); n != 1 {
		t.Fatalf("destination got %d events, want the good one", n)
	}
	copies := 0
	files, _ := filepath.Glob(filepath.Join(data, "quarantine", "*.ndjson"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		copies += strings.Count(string(b), "review17d-bad")
	}
	quarantined := gatherSum(t, a, "logrouter_quarantined_events_total")
	if copies != 1 || quarantined != 1 {
		t.Errorf("the malformed line of a request refused with %d and then resent is in the quarantine %d times, counted quarantined %v times; want once",
			code, copies, quarantined)
	}
}
