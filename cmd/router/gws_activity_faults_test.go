package main

// Fault tests from a review of b55c36c ("Google Workspace: route each event
// of a multi-event activity on its own"): each fails on the code as
// reviewed because of the fault its comment describes.

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// gwsActivity is a Reports API login activity of two events whose
// second (a successful sign-in Google flagged is_suspicious) is P1
// (idp-google-workspace-threat: SIEM) and whose first is P2 (archive
// only), as in rules/49-google-workspace-activities_test.yaml. marker is
// its id.uniqueQualifier.
func gwsActivity(marker string) string {
	return `{"kind":"admin#reports#activity","id":{"time":"2026-11-30T10:00:00Z","uniqueQualifier":"` + marker + `","applicationName":"login","customerId":"C03az79cb"},` +
		`"actor":{"callerType":"USER","email":"jdoe@example.com","profileId":"1"},"ownerDomain":"example.com","ipAddress":"203.0.113.66",` +
		`"events":[{"type":"login","name":"login_verification","parameters":[{"name":"login_challenge_method","multiValue":["security_key"]},{"name":"login_challenge_status","value":"passed"}]},` +
		`{"type":"login","name":"login_success","parameters":[{"name":"login_challenge_method","value":"password"},{"name":"is_suspicious","boolValue":true},{"name":"login_type","value":"google_password"}]}]}`
}

// gwsCount counts the event lines under dir that hold s.
func gwsCount(dir, s string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		if strings.Contains(p, ".zst") {
			dec, _ := zstd.NewReader(nil)
			b, _ = dec.DecodeAll(b, nil)
			dec.Close()
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, s) {
				n++
			}
		}
		return nil
	})
	return n
}

// gwsWaitCount waits (bounded) until dir holds want lines with s, and
// returns how many it holds.
func gwsWaitCount(dir, s string, want int, within time.Duration) int {
	deadline := time.Now().Add(within)
	for {
		n := gwsCount(dir, s)
		if n >= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestActivitySyslogInputAgreesWithExplain
//
// What is wrong: b55c36c taught `router explain` (and `router rules
// test`) to split a Google Workspace activity of several events with
// normalize.EachPart, for every event it parses, --format syslog
// included (the syslog input's parser makes the payload's members the
// event's top-level members, so kind and events are there). The syslog
// input itself was not changed: syslog/server.go stream.add (and
// Replayer.Add) call Worker.Add on the parsed payload whole. So the same
// syslog line is two events in `router explain --format syslog` (the
// second P1, "destinations=[archive, siem]") and one event at the input
// (events a list of two, event.action and login fields from events.0: P2,
// archive only): the suspicious sign-in that explain promises to the SIEM
// never reaches it.
//
// Reproduce: a router with a syslog TCP input; send one RFC 5424 frame
// whose payload is the activity; explain the same line with the router's
// own rules (--format syslog).
//
// Expected: the input makes what explain shows (README: `router explain
// ... --format json|syslog` shows "the normalized form of each event with
// the rule and priority it gets"; rules/README.md: an activity "is split
// as the inputs split it"; commit b55c36c: explain and rules test split
// "as the inputs split it").
func TestActivitySyslogInputAgreesWithExplain(t *testing.T) {
	data := t.TempDir()
	a, _, _ := faultsReplayRouter(t, data, 0, func(c *config.Config) {
		c.Inputs.Syslog = &syslog.Config{TCP: &syslog.TCPConfig{Address: "127.0.0.1:0"}}
	})
	line := `<134>1 2026-11-30T10:00:00Z gw gws - - - ` + gwsActivity("rv21-syslog")

	// What explain says of the line (the embedded starter rules, which
	// are the rules directory the router above loads; P1 -> siem).
	out, _ := run(t, line+"\n", "explain", "--format", "syslog")
	explained := strings.Count(out, "line 1 record")
	if explained == 0 && strings.Contains(out, "line 1:") {
		explained = 1
	}
	toSIEM := strings.Count(out, "siem]")

	_, tcp, _ := a.SyslogAddrs()
	conn, err := net.Dial("tcp", tcp)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, line+"\n")
	conn.Close()
	archived := gwsWaitCount(filepath.Join(data, "archive"), "rv21-syslog", explained, 5*time.Second)
	time.Sleep(300 * time.Millisecond)
	inSIEM := gwsCount(filepath.Join(data, "siem"), "rv21-syslog")
	if archived != explained || inSIEM != toSIEM {
		t.Errorf("router explain --format syslog shows %d events (%d to the SIEM); the syslog input made %d (%d in the SIEM)\nexplain:\n%s",
			explained, toSIEM, archived, inSIEM, out)
	}
}

// TestActivityHECReplaySplitsActivity
//
// What is wrong: b55c36c split a Google Workspace activity of several
// events on the HEC event endpoint (request.add: normalize.Parts), but not
// where /admin/replay/hec unwraps a quarantined HEC record "as the event
// endpoint would" (internal/app/admin.go addHEC: only normalize.Records,
// then Worker.Add on the activity whole). addCloudWatch (the Firehose
// CloudWatch replay) has the same omission. An envelope HEC quarantined
// whole (hec_not_processed: the rest of a request after an invalid
// envelope, which the sender never gets accepted) is replayed as ONE event
// classified by events.0: a successful sign-in Google flagged
// is_suspicious in the second event is P2 and never reaches the SIEM,
// although the same envelope sent directly is two events and the second
// goes to the SIEM (the control below).
//
// Reproduce: POST /services/collector/event `{"event":""}` then the
// envelope (400 code 13, the rest quarantined); `router quarantine replay`.
//
// Expected: the replay makes the events the endpoint makes (README:
// "HEC envelopes an input refused are unwrapped as HEC would"; addHEC's
// doc: "each unwrapped as the event endpoint would (its metadata applied,
// a {"records":[...]} event split ...)"; README: an activity of two or more
// events "is split the same way").
func TestActivityHECReplaySplitsActivity(t *testing.T) {
	a, cfg := startReplayRouter(t, "")
	siemDir := filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "siem")
	envelope := func(marker string) string {
		return `{"sourcetype":"gws:reports:login","event":` + gwsActivity(marker) + `}`
	}
	// Control: sent alone, the second event is P1 and reaches the SIEM.
	if code, body := faultsReplayPost(t, a.HTTPAddr(), "/services/collector/event", "", envelope("rv21-hec-direct")); code != 200 {
		t.Fatalf("control: %d %s", code, body)
	}
	if n := gwsWaitCount(siemDir, "rv21-hec-direct", 1, 5*time.Second); n != 1 {
		t.Fatalf("control: %d events of the activity in the SIEM, want 1 (its suspicious sign-in)", n)
	}
	code, body := faultsReplayPost(t, a.HTTPAddr(), "/services/collector/event", "", `{"event":""}`+"\n"+envelope("rv21-hec-replayed"))
	if code != 400 {
		t.Fatalf("want 400 code 13, got %d %s", code, body)
	}
	if _, ok := waitQuarantined(cfg.Quarantine.Dir, 3*time.Second, func(r quarantine.Record) bool {
		return r.Reason == "hec_not_processed" && bytes.Contains(r.Raw, []byte("rv21-hec-replayed"))
	}); !ok {
		t.Fatal("the rest of the request was not quarantined as hec_not_processed")
	}
	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	archDir := filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "archive")
	archived := gwsWaitCount(archDir, "rv21-hec-replayed", 2, 5*time.Second)
	inSIEM := gwsWaitCount(siemDir, "rv21-hec-replayed", 1, time.Second)
	if archived != 2 || inSIEM != 1 {
		t.Errorf("the replayed activity made %d events (%d in the SIEM); the event endpoint makes 2 (1 in the SIEM: the suspicious sign-in)", archived, inSIEM)
	}
}

// TestActivityHECRefusedActivityEventReplays
//
// What is wrong: when the HEC event endpoint splits an activity
// (b55c36c) and refuses one of its events (here too_many_fields under a
// low normalize.max_fields, later raised), request.add quarantines that
// event "alone (as its own JSON)": the bare activity holding only it, not
// an HEC envelope, yet with the request's protocol "hec". `router
// quarantine replay` sends every input record of protocol hec to POST
// /admin/replay/hec (admin_cmds.go: g.hec = d == "input" && r.Protocol ==
// "hec"), where addHEC reads the record as an envelope: it has no "event"
// member, so it is quarantined again ("the envelope's \"event\" is
// missing") and counted as replayed; the event is never delivered. (A
// batch envelope's record refused on HEC already took this path; the
// commit sends every activity event refused on HEC down it too.) The
// envelope's metadata (its sourcetype, host, time) is lost with it.
//
// Reproduce: router 1 (max_fields 20) takes an HEC envelope whose activity
// holds a small event and a wide one: the small one is delivered, the wide
// one quarantined; router 2 on the same data (default max_fields):
// `router quarantine replay`.
//
// Expected: the refused event is delivered by the replay once the cause is
// fixed (README: "re-send quarantined records once the cause is fixed",
// "Each record is normalized, routed and, if refused, quarantined on its
// own"; docs/configuration.md#quarantine: a replay applies what the
// record would have had "so the record maps and routes as it would
// have").
func TestActivityHECRefusedActivityEventReplays(t *testing.T) {
	data := t.TempDir()
	var wide strings.Builder
	wide.WriteString(`{"type":"login","name":"login_success","parameters":[{"name":"is_suspicious","boolValue":true}],"detail":{"p":0`)
	for i := range 40 {
		fmt.Fprintf(&wide, `,"p%d":"v%d"`, i, i)
	}
	wide.WriteString(`}}`)
	activity := `{"kind":"admin#reports#activity","id":{"time":"2026-11-30T10:00:00Z","uniqueQualifier":"rv21-refused","applicationName":"login"},` +
		`"actor":{"email":"jdoe@example.com","profileId":"1"},"ipAddress":"203.0.113.66","events":[{"type":"login","name":"login_verification"},` + wide.String() + `]}`
	envelope := `{"sourcetype":"gws:reports:login","host":"gws-collector","event":` + activity + `}`

	a1, cfg, stop1 := faultsReplayRouter(t, data, 20, nil)
	if code, body := faultsReplayPost(t, a1.HTTPAddr(), "/services/collector/event", "", envelope); code != 400 && code != 200 {
		t.Fatalf("hec: %d %s", code, body)
	}
	rec, ok := waitQuarantined(cfg.Quarantine.Dir, 3*time.Second, func(r quarantine.Record) bool {
		return bytes.Contains(r.Raw, []byte("rv21-refused"))
	})
	if !ok {
		t.Fatal("no event of the activity was quarantined (max_fields 20 should refuse the wide one)")
	}
	if bytes.Contains(rec.Raw, []byte("login_verification")) {
		t.Fatalf("the small event was quarantined too (%s): the test's max_fields is wrong for this profile", rec.Reason)
	}
	t.Logf("quarantined: protocol %q reason %q raw %.120s...", rec.Protocol, rec.Reason, rec.Raw)
	stop1()

	a2, cfg2, _ := faultsReplayRouter(t, data, 0, nil)
	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a2.AdminAddr(), []string{cfg2.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	if n := gwsWaitCount(filepath.Join(data, "siem"), "rv21-refused", 1, 5*time.Second); n != 1 {
		again, _ := waitQuarantined(cfg2.Quarantine.Dir, time.Second, func(r quarantine.Record) bool {
			return r.Input == "replay" && bytes.Contains(r.Raw, []byte("rv21-refused"))
		})
		t.Errorf("the refused suspicious sign-in was not delivered by the replay (%d in the SIEM; replay said %q; quarantined again: %s: %s)",
			n, strings.TrimSpace(out.String()), again.Reason, again.Detail)
	}
}
