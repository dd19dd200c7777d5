package main

// Fault tests from a review of 81b869c ("Activity split and empty renames:
// a review's six faults"): each fails on the code as reviewed because of
// the fault its comment describes.

import (
	"bytes"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// TestSplitSyslogRecordsCannotClaimLogrouter
//
// What is wrong: 81b869c made the syslog input split a JSON payload that
// is a batch envelope ({"records":[...]}) with Worker.AddAll. The syslog
// parser guards the reserved "logrouter" member by looking at the
// payload's top-level keys only (parse.AppendAround: a payload with a
// top-level "logrouter" is taken as text), and the input normalizes with
// EventMeta.KeepOwnLogrouter (so that the parser's own parse_status is
// kept). A record inside the envelope is never looked at by that guard:
// its own "logrouter" member is kept as the event's, merged with the
// parser's. A syslog sender that wraps its payload as
// {"records":[{..., "logrouter":{"token":"admin","index":"other"}}]} claims
// a token and an index, which the same payload sent unwrapped cannot (it
// becomes text). The record's "host"/"timestamp"/"event" also repeat the
// parser's Head/Tail members, which EventMeta.Head's doc forbids ("Their
// top-level keys must not repeat the event's (the syslog parser leaves
// those out)").
//
// Reproduce: a router with a syslog TCP input; send one RFC 5424 frame
// whose payload is a one-record envelope holding a logrouter member; read
// the archived event.
//
// Expected: no logrouter.token / logrouter.index the sender wrote
// (docs/schema.md, logrouter.*: "Only logrouter writes them ... a sender
// cannot claim another token or index; the syslog parser's
// parse_status/payload and a logrouter edge's metadata read back from
// Kafka are kept").
func TestSplitSyslogRecordsCannotClaimLogrouter(t *testing.T) {
	data := t.TempDir()
	a, _, _ := faultsReplayRouter(t, data, 0, func(c *config.Config) {
		c.Inputs.Syslog = &syslog.Config{TCP: &syslog.TCPConfig{Address: "127.0.0.1:0"}}
	})
	_, tcp, _ := a.SyslogAddrs()
	conn, err := net.Dial("tcp", tcp)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, `<134>1 2026-11-30T10:00:00Z gw app - - - {"records":[{"message":"rv22-spoof","logrouter":{"token":"rv22-claimed-token","index":"rv22-claimed-index"}}]}`+"\n")
	conn.Close()
	line, ok := faultsReplayWait(filepath.Join(data, "archive"), "rv22-spoof")
	if !ok {
		t.Fatal("the frame's event was not archived")
	}
	// The syslog input does not split a batch envelope (Worker.AddAll):
	// the record stays inside the event, its logrouter member with it.
	if tok, idx := faultsReplayField(t, line, "logrouter.token"), faultsReplayField(t, line, "logrouter.index"); tok != nil || idx != nil {
		t.Errorf("a syslog record claimed logrouter.token/index: logrouter = %v\n%s",
			faultsReplayField(t, line, "logrouter"), line)
	}
}

// TestSplitHECRecordReplayKeepsItsOwnTime
//
// What is wrong: on the HEC event endpoint a batch envelope's records are
// added with the envelope's "time" as their default time only
// (Worker.AddRecords: em.DefaultTime = m.Time, em.Time = 0, "an
// envelope's time ... is each record's only when it has none of its
// own"). 81b869c quarantines a refused record inside its HEC envelope
// (request.partRaw: the envelope with the record as its "event"), and the
// HEC replay unwraps that envelope as a plain event: the record is no
// longer in a batch envelope, so HECMeta's Time (EventMeta.Time: "It wins
// over the event's own timestamp fields") overrides the record's own time.
// The replayed event gets the envelope's @timestamp (here 2023-11-14),
// not its own (2026-11-30T11:00:00Z) which it would have had live; its
// content hash differs too. /admin/replay/hec's addHEC rewrites a part it
// refuses again the same way.
//
// Reproduce: router 1 (normalize.max_fields 20) takes one HEC envelope
// {"time":1700000000,"event":{"records":[small, wide]}}, both records with
// their own "time": the small one is delivered, the wide one quarantined;
// router 2 on the same data (default max_fields): router quarantine
// replay.
//
// Expected: the replayed record's @timestamp is its own, as the live input
// gives the records it takes (README: re-send quarantined records "once the
// cause is fixed"; docs/configuration.md#quarantine: a replay applies what
// the record would have had "so the record maps and routes as it would
// have"; 81b869c: quarantined in its envelope "so a replay unwraps it as
// HEC does").
func TestSplitHECRecordReplayKeepsItsOwnTime(t *testing.T) {
	data := t.TempDir()
	var wide strings.Builder
	wide.WriteString(`{"time":"2026-11-30T11:00:00Z","marker":"rv22-wide","detail":{"p":0`)
	for i := range 40 {
		fmt.Fprintf(&wide, `,"p%d":"v%d"`, i, i)
	}
	wide.WriteString(`}}`)
	envelope := `{"time":1700000000,"sourcetype":"azure:records","event":{"records":[{"time":"2026-11-30T10:00:00Z","marker":"rv22-small"},` + wide.String() + `]}}`

	a1, cfg, stop1 := faultsReplayRouter(t, data, 20, nil)
	if code, body := faultsReplayPost(t, a1.HTTPAddr(), "/services/collector/event", "", envelope); code != 200 && code != 400 {
		t.Fatalf("hec: %d %s", code, body)
	}
	small, ok := faultsReplayWait(filepath.Join(data, "archive"), "rv22-small")
	if !ok {
		t.Fatal("the small record was not archived")
	}
	if ts := faultsReplayField(t, small, "@timestamp"); ts != "2026-11-30T10:00:00.000Z" {
		t.Fatalf("control: the live record's @timestamp is %v, want its own 2026-11-30T10:00:00.000Z", ts)
	}
	rec, ok := waitQuarantined(cfg.Quarantine.Dir, 3*time.Second, func(r quarantine.Record) bool {
		return bytes.Contains(r.Raw, []byte("rv22-wide"))
	})
	if !ok {
		t.Fatal("the wide record was not quarantined (max_fields 20)")
	}
	t.Logf("quarantined: protocol %q reason %q raw %.140s...", rec.Protocol, rec.Reason, rec.Raw)
	stop1()

	a2, cfg2, _ := faultsReplayRouter(t, data, 0, nil)
	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a2.AdminAddr(), []string{cfg2.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	line, ok := faultsReplayWait(filepath.Join(data, "archive"), "rv22-wide")
	if !ok {
		t.Fatalf("the replayed record was not archived (replay said %q)", strings.TrimSpace(out.String()))
	}
	if ts := faultsReplayField(t, line, "@timestamp"); ts != "2026-11-30T11:00:00.000Z" {
		t.Errorf("the replayed record's @timestamp is %v, want its own 2026-11-30T11:00:00.000Z (the live input keeps a record's own time; the envelope's time is only its default)", ts)
	}
}

// TestSplitSyslogReplayOfSplitFrameAnswersPerRecord
//
// What is wrong: 81b869c made the syslog replay (syslog.Replayer.Add, used
// by POST /admin/replay/syslog) split a frame's payload that holds several
// events (Worker.AddAll), as the live input now does. The endpoint still
// answers {"replayed": len(b.Events), "rejected": len(rejected)}
// (internal/app/admin.go), i.e. it counts events, where every other
// endpoint that splits (/admin/replay/hec, /admin/replay/cloudwatch)
// counts lines (hecLines). `router quarantine replay` requires
// replayed+rejected to equal the records (non-blank lines) it sent
// (postReplay: "the router answered for 2 records, 1 were sent ...
// nothing of this chunk is recorded as replayed") and fails, although the
// router already emitted the frame's events: the run reports an error, its
// progress is not saved, and each rerun delivers the events again.
//
// Reproduce: router 1 (syslog TCP input, normalize.max_fields 20) takes one
// frame whose payload is a Google Workspace activity of two events, the
// second wider than max_fields: the frame is quarantined whole (all or
// none). Router 2 on the same data (default max_fields): router
// quarantine replay.
//
// Expected: the replay succeeds and the frame's two events are delivered
// once (README: "re-send quarantined records once the cause is fixed"; the
// router's answer is per record, as postReplay's doc says:
// {"replayed":n,"rejected":m} "with n+m the records (non-blank lines)
// sent").
func TestSplitSyslogReplayOfSplitFrameAnswersPerRecord(t *testing.T) {
	data := t.TempDir()
	withSyslog := func(c *config.Config) {
		c.Inputs.Syslog = &syslog.Config{TCP: &syslog.TCPConfig{Address: "127.0.0.1:0"}}
	}
	var wide strings.Builder
	wide.WriteString(`{"type":"login","name":"login_success","detail":{"p":0`)
	for i := range 40 {
		fmt.Fprintf(&wide, `,"p%d":"v%d"`, i, i)
	}
	wide.WriteString(`}}`)
	activity := `{"kind":"admin#reports#activity","id":{"time":"2026-11-30T10:00:00Z","uniqueQualifier":"rv22-sysreplay","applicationName":"login"},` +
		`"actor":{"email":"jdoe@example.com"},"events":[{"type":"login","name":"login_verification"},` + wide.String() + `]}`

	a1, cfg, stop1 := faultsReplayRouter(t, data, 20, withSyslog)
	_, tcp, _ := a1.SyslogAddrs()
	conn, err := net.Dial("tcp", tcp)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, `<134>1 2026-11-30T10:00:00Z gw gws - - - `+activity+"\n")
	conn.Close()
	rec, ok := waitQuarantined(cfg.Quarantine.Dir, 3*time.Second, func(r quarantine.Record) bool {
		return bytes.Contains(r.Raw, []byte("rv22-sysreplay"))
	})
	if !ok {
		t.Fatal("the frame was not quarantined (max_fields 20 should refuse its wide event)")
	}
	t.Logf("quarantined: protocol %q reason %q", rec.Protocol, rec.Reason)
	stop1()

	a2, cfg2, _ := faultsReplayRouter(t, data, 0, withSyslog)
	var out bytes.Buffer
	err = replayQuarantine(&out, "http://"+a2.AdminAddr(), []string{cfg2.Quarantine.Dir}, "", "", false)
	archived := gwsWaitCount(filepath.Join(data, "archive"), "rv22-sysreplay", 2, 5*time.Second)
	if err != nil {
		t.Errorf("router quarantine replay failed (%d events of the frame archived meanwhile): %v\n%s", archived, err, out.String())
	} else if archived != 2 {
		t.Errorf("%d events of the replayed frame archived, want its 2", archived)
	}
}
