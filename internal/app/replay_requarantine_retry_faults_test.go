package app

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/queue"
	"github.com/logrouter/logrouter/sinks/file"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// TestReplayRefusedChunkRequarantinesOnce (review)
//
// Sequence: `router quarantine replay` sends a chunk of input records to
// POST /admin/replay. One of them is refused again by the router (here:
// too_large, the limit lowered to 64 bytes), the others are good. The
// destination's queue is full (it is down), so the router answers 503:
// nothing of the chunk is recorded as replayed, and the run stops, as
// documented. Once the destination is back, the operator runs the replay
// again and the same chunk is sent again, as documented ("a later run ...
// sends only what was not sent").
//
// What happens: the refused line was written to the quarantine (input
// "replay") on the 503 attempt already, and again on the retry: two
// records of one line. handleReplay quarantines the request's rejected
// lines before it emits, and unlike the HTTP input (refusedRejects) does
// not remember that a refused request's rejects are already stored.
//
// Expected: one record per refused line, however often a chunk the
// router answered 503 is resent. Otherwise every full-queue episode during
// a replay multiplies the re-quarantined records, and a later
// `--reason too_large` replay sends each of them, delivering the event
// several times.
func TestReplayRefusedChunkRequarantinesOnce(t *testing.T) {
	data := t.TempDir()
	siem := &reviewSink{name: "siem"}
	siem.down.Store(true)
	a := reviewApp(t, data, "app.generic", []config.Destination{
		{Name: "siem", Type: "file", File: &file.Config{Dir: filepath.Join(data, "siem")}, Queue: &queue.Config{MaxBytes: 1 << 20}},
	}, config.Routing{All: []string{"siem"}}, siem)
	a.replay.eventBytes = 64

	// Fill the SIEM's queue until the input is refused.
	for _, f := range []struct{ n, pad int }{{100, 1000}, {1, 1000}, {1, 100}, {1, 0}} {
		full := false
		for i := 0; i < 2000 && !full; i++ {
			code, _ := ingest(t, a, body("fill", f.n, f.pad))
			full = code != http.StatusOK
		}
		if !full {
			t.Fatal("queue never filled")
		}
	}

	bad := `{"message":"` + strings.Repeat("y", 100) + `"}` // over the lowered 64-byte limit
	chunk := bad + "\n" + `{"message":"good one"}` + "\n"
	post := func() (int, string) {
		res, err := http.Post("http://"+a.AdminAddr()+"/admin/replay", "application/x-ndjson", strings.NewReader(chunk))
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode, string(msg)
	}
	if code, msg := post(); code == http.StatusOK {
		t.Fatalf("replay into a full queue answered %d %s: cannot test", code, msg)
	}

	// The destination comes back and its queue drains; the chunk is resent.
	siem.down.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for queueBytes(t, a, "siem") > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if code, msg := post(); code != http.StatusOK || !strings.Contains(msg, `"rejected":1`) {
		t.Fatalf("second replay: %d %s", code, msg)
	}

	n := 0
	for _, l := range readLines(t, filepath.Join(data, "quarantine")) {
		rec, err := quarantine.ParseLine([]byte(l))
		if err == nil && rec.Input == "replay" && rec.Reason == "too_large" && len(rec.Raw) > 0 && strings.HasPrefix(bad, string(rec.Raw)) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the line the router refused is in the quarantine %d times after the chunk was answered 503 and resent; want 1", n)
	}
}
