package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/app"
	"github.com/logrouter/logrouter/internal/conservation"
)

// TestKill9NeverLosesAnAcknowledgedEvent kills the router with SIGKILL while
// it ingests under load, several times, restarts it, and checks that every
// event it answered 200 for reaches every destination it was routed to
// (duplicates allowed) and that the final process's ledger balances.
func TestKill9NeverLosesAnAcknowledgedEvent(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, `
log: {level: info, format: json}
admin: {address: "127.0.0.1:0"}
inputs:
  http: {address: "127.0.0.1:0"}
rules: {dir: RULES}
destinations:
  - {name: archive, type: archive_dir, archive_dir: {dir: DATA/archive}}
  - {name: siem, type: file, file: {dir: DATA/siem}}
  - {name: opensearch, type: file, file: {dir: DATA/opensearch}}
routing: {P1: [siem], P2: [opensearch], all: [archive]}
quarantine: {dir: DATA/quarantine}
queue: {dir: DATA/queue, fsync: always, segment_bytes: 1048576}
shutdown_timeout: 20s
`)
	// P1 via the EDR rule, P2 via the Okta rule: each event goes to two destinations.
	p1 := `"event":{"dataset":"crowdstrike.falcon"},"metadata":{"eventType":"DetectionSummaryEvent"}`
	p2 := `"event":{"dataset":"okta.system"}`
	sender := conservation.NewSender(fmt.Sprintf("kill9-%d", time.Now().UnixNano()))
	rounds := 3
	for round := 0; round <= rounds; round++ {
		p := startRouter(t, cfgPath)
		if round == rounds {
			waitDrained(t, p.admin)
			ledger := fetchLedger(t, p.admin)
			for _, d := range ledger.Destinations {
				if !d.Balanced || d.Queued != 0 {
					t.Errorf("final ledger for %s: %+v", d.Destination, d)
				}
			}
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			if err, tail := p.wait(t, 40*time.Second); err != nil { // past shutdown_timeout 20s
				t.Fatalf("final stop: %v %v", err, tail)
			}
			break
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				extra := p1
				if w%2 == 1 {
					extra = p2
				}
				for ctx.Err() == nil {
					body, ids := sender.Body(50, extra)
					req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+p.http+"/ingest", bytes.NewReader(body))
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						return // killed
					}
					res.Body.Close()
					if res.StatusCode == 200 {
						sender.Ack(ids)
					}
				}
			}(w)
		}
		time.Sleep(time.Duration(300+rand.IntN(500)) * time.Millisecond)
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_, _ = p.wait(t, 10*time.Second)
		cancel()
		wg.Wait()
	}
	acked := sender.Acked()
	if len(acked) < 100 {
		t.Fatalf("only %d events acknowledged: the load did not run", len(acked))
	}
	var ackP1, ackP2 []uint64
	for _, id := range acked {
		// workers 0 and 2 sent P1, 1 and 3 sent P2, in blocks of 50; recover
		// the priority from the SIEM/OpenSearch contents instead of guessing.
		_ = id
	}
	siem, err := conservation.Count(filepath.Join(dir, "siem"), sender.Run)
	if err != nil {
		t.Fatal(err)
	}
	os, err := conservation.Count(filepath.Join(dir, "opensearch"), sender.Run)
	if err != nil {
		t.Fatal(err)
	}
	arch, err := conservation.Count(filepath.Join(dir, "archive"), sender.Run)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range acked {
		switch {
		case siem[id] > 0 && os[id] > 0:
			t.Errorf("event %d reached both SIEM and OpenSearch", id)
		case siem[id] > 0:
			ackP1 = append(ackP1, id)
		case os[id] > 0:
			ackP2 = append(ackP2, id)
		default:
			t.Errorf("acknowledged event %d reached neither SIEM nor OpenSearch", id)
		}
	}
	r := conservation.Check(acked, arch)
	t.Logf("%d rounds of kill -9: sent %d, archive: %s; siem %d, opensearch %d acknowledged events", rounds, sender.Sent(), r, len(ackP1), len(ackP2))
	if len(r.Missing) > 0 {
		t.Fatalf("%d acknowledged events missing from the archive, e.g. %v", len(r.Missing), r.Missing[:min(5, len(r.Missing))])
	}
}

func fetchLedger(t *testing.T, admin string) *app.Ledger {
	t.Helper()
	res, err := http.Get("http://" + admin + "/admin/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var l app.Ledger
	if err := json.NewDecoder(res.Body).Decode(&l); err != nil {
		t.Fatal(err)
	}
	return &l
}

func waitDrained(t *testing.T, admin string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		l := fetchLedger(t, admin)
		queued := 0.0
		for _, d := range l.Destinations {
			queued += d.Queued
		}
		if queued == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("queues did not drain after restart")
}
