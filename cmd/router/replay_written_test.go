package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/logrouter/logrouter/internal/app"
	"github.com/logrouter/logrouter/internal/conservation"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// recordingSink refuses every event permanently while refuse is set, and
// otherwise records what it is given, metadata included.
type recordingSink struct {
	mu      sync.Mutex
	refuse  bool
	refused []pipeline.Event // copies, Raw included
	got     []pipeline.Event
}

func (s *recordingSink) Name() string { return "siem" }
func (s *recordingSink) Write(_ context.Context, b *pipeline.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range b.Events {
		ev.Raw = append([]byte(nil), ev.Raw...)
		if s.refuse {
			s.refused = append(s.refused, ev)
		} else {
			s.got = append(s.got, ev)
		}
	}
	if s.refuse {
		return pipeline.Permanentf("400 mapper_parsing_exception")
	}
	return nil
}
func (s *recordingSink) Close(context.Context) error { return nil }

func (s *recordingSink) set(refuse bool) {
	s.mu.Lock()
	s.refuse = refuse
	s.mu.Unlock()
}

// TestReplayAsWritten: a refused event goes back to its destination as it
// was written: the same bytes, hash (so the same OpenSearch _id), time and
// source type, not normalized again. Refused once more, its new record says
// input "replay", and a later run leaves it alone (no loop) unless its
// reason is named.
func TestReplayAsWritten(t *testing.T) {
	siem := &recordingSink{refuse: true}
	a, cfg := startReplayRouter(t, "", app.WithSink("siem", siem))
	admin := "http://" + a.AdminAddr()
	sendDetections(t, a, "written", 20)
	quarantined := func(n float64) func() bool { return siemQuarantined(t, a, n) }
	waitFor(t, quarantined(20))
	siem.mu.Lock()
	written := map[uint64]pipeline.Event{}
	for _, ev := range siem.refused {
		written[ev.Hash] = ev
	}
	siem.mu.Unlock()
	if len(written) != 20 {
		t.Fatalf("%d distinct events written, want 20", len(written))
	}
	replay := func(reason string) string {
		t.Helper()
		var out bytes.Buffer
		if err := replayQuarantine(&out, admin, []string{cfg.Quarantine.Dir}, "", reason, false); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		return out.String()
	}

	// Replayed while the destination still refuses: quarantined again,
	// as a replay's refusal, with what was written.
	replay("")
	waitFor(t, quarantined(40))
	again := 0
	for _, f := range quarantineFileList(t, cfg.Quarantine.Dir) {
		if err := quarantine.ReadFile(f, func(r quarantine.Record) error {
			if r.Input == "replay" && r.Event != nil {
				again++
				if _, ok := written[r.Event.Hash]; !ok {
					t.Errorf("a record refused on replay has hash %016x, never written", r.Event.Hash)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if again != 20 {
		t.Fatalf("%d records of a refusal on replay, want 20", again)
	}

	// No loop: a plain run leaves them.
	siem.set(false)
	if out := replay(""); !strings.Contains(out, "0 records selected, 0 replayed") {
		t.Errorf("a plain run after a refusal on replay:\n%s", out)
	}
	// Named, they go, as written.
	replay("destination_rejected")
	waitFor(t, func() bool { siem.mu.Lock(); defer siem.mu.Unlock(); return len(siem.got) == 20 })
	siem.mu.Lock()
	defer siem.mu.Unlock()
	for _, ev := range siem.got {
		w, ok := written[ev.Hash]
		switch {
		case !ok:
			t.Errorf("replayed event with hash %016x was never written: its hash changed", ev.Hash)
		case !bytes.Equal(ev.Raw, w.Raw):
			t.Errorf("replayed bytes differ from the written ones:\n%s\n%s", ev.Raw, w.Raw)
		case ev.Time != w.Time || ev.SourceType != w.SourceType || ev.Priority != w.Priority:
			t.Errorf("replayed %+v, written %+v", ev, w)
		case !ev.Replayed:
			t.Error("a replayed event is not marked Replayed")
		}
	}
}

func quarantineFileList(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.ndjson")) // a destination's quarantine is dir/<destination>
	if err != nil || len(files) == 0 {
		t.Fatalf("no quarantine files in %s: %v", dir, err)
	}
	return files
}

// TestReplayAnotherRoutersRecords: the records of a refusal are sealed with
// the key of the router that wrote them. Replayed to another router (its
// own key), they are not taken as written: each event is normalized again
// (logrouter.input "replay", so it is never mistaken for the original), and
// the run says so; nothing is lost.
func TestReplayAnotherRoutersRecords(t *testing.T) {
	refusing := &recordingSink{refuse: true}
	a, cfgA := startReplayRouter(t, "", app.WithSink("siem", refusing))
	sendDetections(t, a, "other", 10)
	waitFor(t, siemQuarantined(t, a, 10))

	other := &recordingSink{}
	b, _ := startReplayRouter(t, "", app.WithSink("siem", other))
	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+b.AdminAddr(), []string{filepath.Join(cfgA.Quarantine.Dir, "siem")}, "", "", false); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "10 not sealed by this router, so normalized again") {
		t.Errorf("the run does not say the records were normalized again:\n%s", out.String())
	}
	waitFor(t, func() bool { other.mu.Lock(); defer other.mu.Unlock(); return len(other.got) == 10 })
	other.mu.Lock()
	defer other.mu.Unlock()
	for _, ev := range other.got {
		if ev.Replayed || !bytes.Contains(ev.Raw, []byte(`"logrouter":{"input":"replay"`)) {
			t.Errorf("an event of another router's record was taken as written: %s", ev.Raw)
		}
	}
}

// sendDetections ingests n CrowdStrike detections (P1: the siem) into a.
func sendDetections(t *testing.T, a *app.App, name string, n int) {
	t.Helper()
	sender := conservation.NewSender(name)
	body, ids := sender.Body(n, `"event":{"dataset":"crowdstrike.falcon"},"metadata":{"eventType":"DetectionSummaryEvent"}`)
	res, err := http.Post("http://"+a.HTTPAddr()+"/ingest", "application/x-ndjson", bytes.NewReader(body))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("ingest: %v %v", res, err)
	}
	res.Body.Close()
	sender.Ack(ids)
}

// siemQuarantined reports, for waitFor, whether the ledger counts n events
// of the siem destination quarantined.
func siemQuarantined(t *testing.T, a *app.App, n float64) func() bool {
	return func() bool {
		for _, d := range fetchLedger(t, a.AdminAddr()).Destinations {
			if d.Destination == "siem" {
				return d.Quarantined == n
			}
		}
		return false
	}
}
