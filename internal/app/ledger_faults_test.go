package app

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/pipeline/queue"
	"github.com/logrouter/logrouter/sinks/file"
)

// reviewSink accepts everything (recording each event's bytes) or, while
// down, refuses every Write (retryably).
type reviewSink struct {
	name string
	down atomic.Bool
	mu   sync.Mutex
	raws []int // len(Event.Raw) of every event accepted
}

func (s *reviewSink) Name() string { return s.name }
func (s *reviewSink) Write(_ context.Context, b *pipeline.Batch) error {
	if s.down.Load() {
		return fmt.Errorf("%s is down", s.name)
	}
	s.mu.Lock()
	for _, ev := range b.Events {
		s.raws = append(s.raws, len(ev.Raw))
	}
	s.mu.Unlock()
	return nil
}
func (s *reviewSink) Close(context.Context) error { return nil }
func (s *reviewSink) received() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.raws...)
}

// reviewApp starts a router with an HTTP input whose token "tok" types
// events as sourceType (no rule matches it: P3), the given destinations
// (each using the sink of the same name) and routing.
func reviewApp(t *testing.T, data, sourceType string, dests []config.Destination, r config.Routing, sinks ...*reviewSink) *App {
	t.Helper()
	cfg := &config.Config{
		Log:   config.Log{Level: "error", Format: "text"},
		Admin: config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{HTTP: &httpin.Config{Address: "127.0.0.1:0", Tokens: []httpin.Token{
			{Name: "tok", Token: "toksecret", SourceType: sourceType},
		}}},
		Destinations: dests,
		Routing:      r,
	}
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Queue.Dir = filepath.Join(data, "queue")
	cfg.SetDefaults()
	cfg.Queue.RetryInitial, cfg.Queue.RetryMax = 20*time.Millisecond, 100*time.Millisecond
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var opts []Option
	for _, s := range sinks {
		opts = append(opts, WithSink(s.name, s))
	}
	a := startApp(t, cfg, opts...)
	t.Cleanup(func() {
		for _, s := range sinks {
			s.down.Store(false)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	})
	return a
}

// ingest posts body with the token and returns the status and answer.
func ingest(t *testing.T, a *App, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+a.HTTPAddr()+"/ingest", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer toksecret")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, string(msg)
}

// destRow returns destination d's ledger row.
func destRow(t *testing.T, a *App, d string) DestinationLedger {
	t.Helper()
	l, err := BuildLedger(a.Engine().Metrics().Registry)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range l.Destinations {
		if r.Destination == d {
			return r
		}
	}
	t.Fatalf("no ledger row for %s", d)
	return DestinationLedger{}
}

// queueBytes is logrouter_queue_bytes of destination d.
func queueBytes(t *testing.T, a *App, d string) int64 {
	t.Helper()
	mfs, err := a.Engine().Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "logrouter_queue_bytes" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "destination" && lp.GetValue() == d {
					return int64(m.GetGauge().GetValue())
				}
			}
		}
	}
	t.Fatalf("no logrouter_queue_bytes for %s", d)
	return 0
}

// body returns n NDJSON events "<tag> <i> <pad>".
func body(tag string, n, pad int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"message":"%s %d %s"}`+"\n", tag, i, strings.Repeat("x", pad))
	}
	return b.String()
}

// TestAdmitRefusesWholeBatchNearFull: pipeline.Admitter and
// docs/architecture.md ("Admission") promise that a full queue refuses the
// whole batch before any lane writes, "so a retry does not duplicate it in
// the destinations that would have accepted it". Queue.Admit estimates a
// batch's size as len(Raw)+32 per event, but Write needs the encoded record
// (Raw plus its length, two varint times, the 8-byte hash and the source
// type: 28 bytes + len(SourceType) + ...). When the free room of a queue is
// between the two, Admit lets the batch through, Write then refuses it
// (429) after the other destinations took it, and every retry of the
// sender adds another copy there. With a destination down and its queue
// stopped in that window this repeats for the whole outage.
//
// Expected: a batch answered with an error was accepted by no destination
// (the archive's row does not move), or it is accepted everywhere.
func TestAdmitRefusesWholeBatchNearFull(t *testing.T) {
	data := t.TempDir()
	const st = "cloud.aws.cloudtrail.management" // a realistic source type, 31 bytes
	archive, siem := &reviewSink{name: "archive"}, &reviewSink{name: "siem"}
	siem.down.Store(true)
	a := reviewApp(t, data, st, []config.Destination{
		{Name: "archive", Type: "file", File: &file.Config{Dir: filepath.Join(data, "archive")}},
		{Name: "siem", Type: "file", File: &file.Config{Dir: filepath.Join(data, "siem")}, Queue: &queue.Config{MaxBytes: 1 << 20}},
	}, config.Routing{All: []string{"archive", "siem"}}, archive, siem)
	const maxBytes = 1 << 20
	const n = 300
	probe := body("probe", n, 100)

	// Measure a probe batch: its encoded size in the SIEM's queue (act)
	// and what Admit estimates for it (est: len(Raw)+32 per event, Raw as
	// the archive receives it).
	if code, msg := ingest(t, a, probe); code != 200 {
		t.Fatalf("first probe: %d %s", code, msg)
	}
	act := queueBytes(t, a, "siem")
	deadline := time.Now().Add(20 * time.Second)
	for len(archive.received()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("archive got %d of %d events", len(archive.received()), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var est int64
	for _, l := range archive.received() {
		est += int64(l) + 32
	}
	if act-est < 2000 {
		t.Fatalf("encoded %d vs estimated %d bytes: no window to test", act, est)
	}
	// Fill the SIEM's queue (it is down) until its free room lies in the
	// middle of [est, act): Admit's estimate fits, the batch itself does not.
	target := (est + act) / 2
	for _, f := range []struct{ n, pad int }{{50, 1000}, {5, 1000}, {1, 100}} {
		for {
			room := maxBytes - queueBytes(t, a, "siem")
			before := queueBytes(t, a, "siem")
			// One filler event costs less than pad+400 bytes (the
			// metadata normalization adds is ~250).
			if room-target < int64(f.n*(f.pad+400)) {
				break
			}
			if code, msg := ingest(t, a, body("fill", f.n, f.pad)); code != 200 {
				t.Fatalf("filler refused: %d %s", code, msg)
			}
			if queueBytes(t, a, "siem") == before {
				t.Fatal("filler did not reach the SIEM's queue")
			}
		}
	}
	room := maxBytes - queueBytes(t, a, "siem")
	if room < est || room >= act {
		t.Fatalf("free room %d not within [%d, %d)", room, est, act)
	}
	before := destRow(t, a, "archive").Accepted

	code, msg := ingest(t, a, probe)
	after := destRow(t, a, "archive").Accepted
	if code != 200 && after != before {
		t.Errorf("the batch was answered %d (%s) but the archive accepted %v of its events anyway: "+
			"the sender's retry duplicates them there (Admit estimated %d bytes, the SIEM's queue needed %d, %d were free)",
			code, msg, after-before, est, act, room)
	}
}

// TestDropP3QueueOverMaxBytes: with on_full: drop_p3 a full queue
// drops incoming P3 events (counted) and refuses only P1/P2
// (docs/configuration.md). An empty queue takes a batch larger than
// max_bytes (Queue.reserve), which leaves it over max_bytes; from then on
// Queue.Admit refuses even a batch of P3 events only (need 0, but
// pending+0 > max_bytes), so senders get 429 for events the policy says
// to drop, although Queue.Write would drop and count them.
//
// Expected: the P3 batch is answered 200 and its events are counted in
// the destination's dropped bucket.
func TestDropP3QueueOverMaxBytes(t *testing.T) {
	data := t.TempDir()
	siem := &reviewSink{name: "siem"}
	siem.down.Store(true)
	a := reviewApp(t, data, "app.generic", []config.Destination{
		{Name: "siem", Type: "file", File: &file.Config{Dir: filepath.Join(data, "siem")},
			Queue: &queue.Config{MaxBytes: 1 << 20, OnFull: "drop_p3"}},
	}, config.Routing{All: []string{"siem"}}, siem)
	// One large batch into the empty queue: accepted whole, over max_bytes.
	if code, msg := ingest(t, a, body("big", 1100, 1000)); code != 200 {
		t.Fatalf("big batch: %d %s", code, msg)
	}
	if qb := queueBytes(t, a, "siem"); qb <= 1<<20 {
		t.Fatalf("queue holds %d bytes, want more than max_bytes for this test", qb)
	}
	code, msg := ingest(t, a, body("p3", 2, 10))
	if code != 200 {
		t.Errorf("a batch of P3 events was answered %d (%s); on_full: drop_p3 drops P3 events instead of refusing them", code, msg)
	}
	if row := destRow(t, a, "siem"); code == 200 && row.Dropped != 2 {
		t.Errorf("dropped %v, want 2: %+v", row.Dropped, row)
	}
}
