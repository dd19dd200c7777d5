package app

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
)

// handleReady answers /readyz: 503 while starting or stopping; 200 "ready",
// or 200 with status "degraded" and the problems when a queue found damaged
// data at start (the router works; an operator should look).
func (a *App) handleReady(w http.ResponseWriter, r *http.Request) {
	if !a.ready.Load() {
		http.Error(w, "not ready: starting or shutting down", http.StatusServiceUnavailable)
		return
	}
	if a.kin != nil {
		if ok, why := a.kin.Ready(); !ok {
			http.Error(w, "not ready: "+why, http.StatusServiceUnavailable)
			return
		}
	}
	var problems []string
	for _, q := range a.queues {
		problems = append(problems, q.Degraded()...)
	}
	if len(problems) == 0 {
		_, _ = w.Write([]byte("ready\n"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "degraded", "problems": problems})
}

// handleStats serves the ledger as JSON (router stats prints it).
func (a *App) handleStats(w http.ResponseWriter, r *http.Request) {
	l, err := BuildLedger(a.eng.Metrics().Registry)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(l)
}

// handleReplay re-sends quarantined records: the body is NDJSON, one record's
// raw bytes per line. With ?destination=NAME the records (normalized events a
// destination refused) go to that destination only; without it they go
// through the whole pipeline like /ingest. The answer comes after the
// records are accepted, as for ingest.
func (a *App) handleReplay(w http.ResponseWriter, r *http.Request) {
	dest := r.URL.Query().Get("destination")
	if dest != "" {
		known := false
		for _, d := range a.eng.Router().Table.Destinations {
			known = known || d == dest
		}
		if !known {
			http.Error(w, fmt.Sprintf("unknown destination %q", dest), http.StatusBadRequest)
			return
		}
	}
	b := pipeline.NewBatch()
	defer b.Release()
	b.Meta = pipeline.Meta{Input: "replay", Protocol: "replay", Peer: peer(r.RemoteAddr), IngestTime: time.Now().UnixNano()}
	wk := a.eng.Worker()
	var p fastjson.Parser
	sc := bufio.NewScanner(http.MaxBytesReader(w, r.Body, 256<<20))
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var rejected []pipeline.Rejected
	line := 0
	for sc.Scan() {
		line++
		raw := sc.Bytes()
		if len(raw) == 0 {
			continue
		}
		var err error
		if v, perr := p.ParseBytes(raw); perr == nil && v.Type() == fastjson.TypeObject {
			err = wk.Add(b, v, nil, nil)
		} else {
			err = wk.Add(b, nil, raw, nil)
		}
		if err != nil {
			rejected = append(rejected, pipeline.Rejected{Raw: append([]byte(nil), raw...), Reason: "replay_rejected",
				Detail: err.Error(), Input: "replay", Protocol: "replay", Time: b.Meta.IngestTime})
		}
	}
	a.eng.PutWorker(wk)
	if err := sc.Err(); err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := a.eng.Quarantine(r.Context(), rejected); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	n := len(b.Events)
	if n > 0 {
		done := make(chan error, 1)
		b.Ack = pipeline.NewAck(func(err error) { done <- err })
		if dest != "" {
			_ = a.eng.EmitTo(r.Context(), b, dest)
		} else {
			_ = a.eng.Emit(r.Context(), b)
		}
		if err := <-done; err != nil {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "not accepted, retry: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]int{"replayed": n, "rejected": len(rejected)})
}

func peer(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i]
		}
	}
	return addr
}
