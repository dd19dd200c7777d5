package harness

// Review of what the harness measures: the window of MB/s and TB/day.

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestTBPerDayIgnoresDrain: MB/s, events/s and TB/day divide the
// acknowledged bytes by the load window only (run.go:378-388,
// load := loadEnd.Sub(t0)), while the work the router owes for them may
// still be queued: it is done in the drain, which CPU s/GB includes
// (cpu1 is read after the drain) but the rates do not. TB/day is then a
// daily capacity extrapolated from an acceptance rate the pipeline did not
// sustain to its destinations. The effect is largest exactly where work
// is deferred: scenario e (a destination down) and c (socket buffers and
// a 366 MB OpenSearch backlog in performance.md's table). A 9 s scenario
// e run here printed 78.5 MB/s, 6.78 TB/day with "drain s 3.8" (OpenSearch
// p50 4981 ms, 439 MB queued): over load + drain it moved 55 MB/s, 4.8
// TB/day; performance.md's table shows e (69.8 MB/s, 6.0 TB/day) faster
// than a (65.6, 5.7), as if a destination outage sped the router up, and
// its Targets row calls the load-window figure "sustained end to end".
// bench/README.md does define MB/s "per second of load", so the code
// matches that definition; the derived TB/day and the docs' "sustained"
// do not.
//
// Here the load takes ~0.3 s and the drain (the router still delivering
// what it acknowledged) 0.6 s; TB/day is reported as if the drain took no
// time.
//
// Fix: compute TB/day (and report a "sustained MB/s") over load + drain,
// or fail/flag a run whose drain exceeds a few percent of the load; put
// the drain column in performance.md's tables.
//
// Fixed: sustained MB/s (load + drain) is reported, and TB/day is of it.
func TestTBPerDayIgnoresDrain(t *testing.T) {
	arch := NewDest("archive", "R", "P1", "P2", "P3")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if seq, _, ok := arch.scanEvent(sc.Bytes()); ok {
				arch.record(seq, 0, 1, 0)
			}
		}
	}))
	defer srv.Close()
	g := newGen(1, 0, "R", false)
	s := &systemRun{name: "logrouter", proc: reviewProc(t), dests: []*Dest{arch}}
	s.load = loadConfig{protos: []Protocol{ProtoNDJSON}, concurrency: 1, batch: 20, rate: 400e3,
		duration: 300 * time.Millisecond, retryFor: time.Second, httpURL: srv.URL, token: "t"}
	s.drain = func(context.Context, uint64) error { time.Sleep(600 * time.Millisecond); return nil }
	rr, err := drive(context.Background(), &Options{Duration: 300 * time.Millisecond, Log: io.Discard}, "R", g, s)
	if err != nil {
		t.Fatal(err)
	}
	sustained := float64(rr.BytesAcked) / 1e6 / (rr.LoadSeconds + rr.DrainSeconds) * 86400 / 1e6
	if rr.TBPerDay > sustained*1.05 {
		t.Errorf("load %.2f s + drain %.2f s: TB/day %.6f, but what the router moved over load + drain is %.6f TB/day (%.1fx less)",
			rr.LoadSeconds, rr.DrainSeconds, rr.TBPerDay, sustained, rr.TBPerDay/sustained)
	}
}
