package harness

// Review of what the harness measures: events the router took (or should
// have taken) but that never count as expected.

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/valyala/fastjson"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/protobuf/encoding/protowire"
)

// reviewDrive drives a short load of proto at a stand-in router (h) and
// returns the report; arch is the only destination (every priority).
func reviewDrive(t *testing.T, proto Protocol, arch *Dest, h http.Handler) *RunReport {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	g := newGen(1, 0, "R", false)
	s := &systemRun{name: "logrouter", proc: reviewProc(t), dests: []*Dest{arch}}
	s.load = loadConfig{protos: []Protocol{proto}, concurrency: 1, batch: 20, rate: 400e3,
		duration: 300 * time.Millisecond, retryFor: 200 * time.Millisecond, httpURL: srv.URL, token: "t"}
	s.drain = func(context.Context, uint64) error { return nil }
	rr, err := drive(context.Background(), &Options{Duration: 300 * time.Millisecond, Log: io.Discard}, "R", g, s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

// TestOTLPPartialSuccessHidesLoss: the router answers an OTLP/HTTP
// request whose records it took except k quarantined ones with 200 and an
// ExportLogsServiceResponse carrying partial_success{rejected_log_records:
// k} (pipeline/ingest/httpin/otlp.go:1781-1801, writeOTLPResponse): the
// other records ARE acknowledged, queued and owed to the destinations.
// The harness classifies any non-empty OTLP answer as outReject
// (load.go:310-314): the whole batch is "rejected", none of its events is
// marked acknowledged, so none is expected anywhere. A router that
// quarantines one valid record of a request and then loses the 499 others
// it acknowledged shows "lost 0" and OK; and drive (run.go:400,
// rr.OK = drainErr == nil && verifyErr == nil && rr.EventsAcked > 0, then
// only Lost/Invalid) never fails a run for rejected events, although every
// event the harness generates is valid, so any rejection is itself a
// router fault.
//
// Here the stand-in router answers every other request with partial
// success (1 of 20 records quarantined) and delivers nothing of those
// requests; the run reports lost 0 and OK.
//
// Fix: on partial_success mark the batch's events acknowledged (the
// router owes all but rejected_log_records of them; the quarantined ones
// then show as lost, which for this well-formed load is right), or at the
// least fail the run (OK=false) when rejected > 0 or abandoned > 0.
//
// Fixed: partial_success counts the request acknowledged (the quarantined
// records show as lost) and fails the run; so do rejected, misrouted and
// foreign events.
func TestOTLPPartialSuccessHidesLoss(t *testing.T) {
	arch := NewDest("archive", "R", "P1", "P2", "P3")
	var n atomic.Int64
	partial := protowire.AppendTag(nil, 1, protowire.BytesType)
	var ps []byte
	ps = protowire.AppendTag(ps, 1, protowire.VarintType)
	ps = protowire.AppendVarint(ps, 1)
	partial = protowire.AppendBytes(partial, ps)
	rr := reviewDrive(t, ProtoOTLP, arch, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		if n.Add(1)%2 == 0 {
			// Took 19 of 20 records (one quarantined), then lost them.
			_, _ = w.Write(partial)
			return
		}
		lrs := req.Logs().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		for i := range lrs.Len() {
			if v, ok := lrs.At(i).Body().Map().Get("bench_seq"); ok {
				arch.record(uint64(v.Int()), 0, 1, 0)
			}
		}
	}))
	if rr.EventsAcked == 0 {
		t.Fatalf("premise: nothing acknowledged")
	}
	if rr.OK || rr.Lost == 0 {
		t.Errorf("half the requests were answered with partial success (the router took their records) and delivered nowhere, yet the run is OK %v with lost %d (notes %v)",
			rr.OK, rr.Lost, rr.Notes)
	}
}

// TestRefusedValidLoadPassesRun: the harness's load is all valid
// events, yet a router that answers 400 to half of the requests (a
// regression in the HEC/NDJSON parser, a body limit below the harness's
// batches) passes: the refused events are counted under "rejected" on the
// line below the table, never expected, and rr.OK (run.go:400 and 436) looks
// only at lost and invalid; lrbench exits 0. Likewise "abandoned" (still
// refused with 429/503 when retryFor ran out). MB/s and events/s simply
// read lower, with nothing in the table saying half the load was refused.
//
// Fix: rr.OK = false when Rejected > 0 or Abandoned > 0 (with a note), or
// print them as columns next to lost.
func TestRefusedValidLoadPassesRun(t *testing.T) {
	arch := NewDest("archive", "R", "P1", "P2", "P3")
	var n atomic.Int64
	rr := reviewDrive(t, ProtoNDJSON, arch, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if n.Add(1)%2 == 0 {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if seq, _, ok := arch.scanEvent(sc.Bytes()); ok {
				arch.record(seq, 0, 1, 0)
			}
		}
	}))
	if rr.Rejected == 0 {
		t.Fatalf("premise: nothing rejected")
	}
	if rr.OK {
		t.Errorf("the router refused %d of %d valid events (400), yet the run is OK (lost %d): lrbench exits 0",
			rr.Rejected, rr.EventsSent, rr.Lost)
	}
}

// TestMisroutedAndForeignPassRun: drive fails a run only on lost and
// invalid (run.go:400 and 436). A router that sends every P2 and P3
// event to the SIEM as well (a routing regression that multiplies a SIEM
// licence bill), or that emits events of no run of this harness (an
// event split that drops the bench fields, stray internal events), passes:
// "misrouted" and "foreign" are printed (foreign inside the "invalid"
// column, report.go:184, as Invalid+Foreign) but OK stays true and lrbench
// exits 0, so a table that shows "invalid 3" is reported OK.
//
// Here the stand-in router delivers every event to a P1-only destination
// plus one foreign event; the run is OK.
//
// Fix: rr.OK = false when any destination has Misrouted > 0 or Foreign > 0
// (the harness owns every run id it sees; each receiver is per run).
func TestMisroutedAndForeignPassRun(t *testing.T) {
	siem := NewDest("siem", "R", "P1")
	var once atomic.Bool
	rr := reviewDrive(t, ProtoNDJSON, siem, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if seq, _, ok := siem.scanEvent(sc.Bytes()); ok {
				siem.record(seq, 0, 1, 0) // P1, P2 and P3 alike
			}
		}
		if !once.Swap(true) {
			siem.eventBytes(new(fastjson.Parser), []byte(`{"bench_run":"other","bench_seq":1,"bench_sent_ns":1}`), 0)
		}
	}))
	var d DestReport
	for _, x := range rr.Dests {
		if x.Name == "siem" {
			d = x
		}
	}
	if d.Misrouted == 0 || d.Foreign == 0 {
		t.Fatalf("premise: misrouted %d foreign %d", d.Misrouted, d.Foreign)
	}
	if rr.OK {
		t.Errorf("the SIEM received %d events not routed to it and %d of no run of this harness, yet the run is OK (lost %d)",
			d.Misrouted, d.Foreign, rr.Lost)
	}
}
