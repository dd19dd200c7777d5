package main

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

// Review of "quarantine replay: HEC envelopes are unwrapped as HEC would":
// each test fails against the code as it was reviewed, because of the fault
// its comment describes.

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// TestReplayHECNotProcessedOfABatch
//
// The fault: the HEC handler quarantines what follows an invalid event as
// ONE record (reason hec_not_processed, raw = the whole rest of the request
// body: httpin.handleHEC, q.reject(rest, ...)). Replay now posts records of
// protocol hec with ?protocol=hec, and addHEC (internal/app/admin.go)
// unwraps a line only when the whole line parses as ONE JSON object; any
// other line goes to addRaw, which makes it a plain-text "message". The
// rest of a request is one envelope only by chance:
//
//   - Splunk's documented batch format is envelopes concatenated with no
//     separator (Splunk docs, "Format events for HTTP Event Collector",
//     "Event data": {"event":"Pony 1 ..."}{"event":"Pony 2 ..."}), which
//     the HEC endpoint accepts (nextEnvelope) and the rest of which is one
//     line holding several envelopes;
//   - a JSON array body (also accepted: "Splunk also takes the envelopes
//     as one JSON array") leaves the array's rest, `,{...}]`, which is no
//     JSON value at all, even for a single envelope.
//
// Who is affected: any HEC sender (OpenTelemetry's splunk_hec exporter,
// Fluent Bit, Vector batch envelopes) whose request had one bad event.
// What they lose: the EDR detections behind it come back from `router
// quarantine replay` as one "unknown" text event, P3, archive only: the
// very loss the commit says it fixed (the SIEM never gets them), and
// replay reports them replayed, so the records are never sent again.
func TestReplayHECNotProcessedOfABatch(t *testing.T) {
	cases := []struct {
		name string
		body func(ids ...string) string
		ids  []string
	}{
		{"concatenated envelopes (Splunk's batch format)", func(ids ...string) string {
			return `{"event":""}` + reviewFalconHEC(ids[0]) + reviewFalconHEC(ids[1])
		}, []string{"ldt:concat:1", "ldt:concat:2"}},
		{"json array body", func(ids ...string) string {
			return `[{"event":""},` + reviewFalconHEC(ids[0]) + `]`
		}, []string{"ldt:array:1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, cfg := startReplayRouter(t, "")
			siemDir := filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "siem")
			res, err := http.Post("http://"+a.HTTPAddr()+"/services/collector/event", "application/json",
				strings.NewReader(c.body(c.ids...)))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 400 || !strings.Contains(string(b), `"code":13`) {
				t.Fatalf("want 400 code 13 (blank event first), got %d %s", res.StatusCode, b)
			}
			waitIn := func(dir, s string) (string, bool) {
				for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
					if l, ok := reviewDirHas(dir, s); ok {
						return l, true
					}
				}
				return "", false
			}
			for _, id := range c.ids {
				if _, ok := waitIn(cfg.Quarantine.Dir, id); !ok {
					t.Fatalf("%s was not quarantined", id)
				}
			}
			var out bytes.Buffer
			if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "", "", false); err != nil {
				t.Fatalf("replay: %v\n%s", err, out.String())
			}
			// Every replayed event reaches the archive: once the last one is
			// there, the SIEM has had as long.
			if _, ok := waitIn(filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "archive"), `"input":"replay"`); !ok {
				t.Fatalf("nothing replayed reached the archive (replay said: %s)", strings.TrimSpace(out.String()))
			}
			for _, id := range c.ids {
				line, ok := reviewDirHas(siemDir, id)
				for deadline := time.Now().Add(time.Second); !ok && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
					line, ok = reviewDirHas(siemDir, id)
				}
				if !ok {
					arch, _ := reviewDirHas(filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "archive"), id)
					t.Errorf("replayed detection %s never reached the SIEM (replay said: %s)\narchive has: %.300s",
						id, strings.TrimSpace(out.String()), arch)
				} else if !strings.Contains(line, `"dataset":"crowdstrike.falcon"`) {
					t.Errorf("replayed detection %s in the SIEM without its source type: %.300s", id, line)
				}
			}
		})
	}
}

// TestReplayHECAgainstARouterWithoutProtocolHEC
//
// The fault: replay marks HEC records with a query parameter,
// POST /admin/replay?protocol=hec, on the path every router serves. A
// router from before this change (the CLI upgraded first, a rolling
// upgrade, a second cluster not yet updated) ignores the parameter: it
// normalizes each envelope as a plain event (the bug the commit fixes:
// "unknown", P3, never at the SIEM), answers 200 {"replayed":n}, and the
// CLI journals the records as replayed, so a later run against an
// upgraded router never sends them again. The written path guards
// against exactly this (a path of its own, which an old router answers
// 404: TestReplayWrittenAgainstAnOldRouter, "an old router never takes
// such lines for events"); the HEC group has no such guard.
//
// Who is affected: an operator replaying HEC quarantine with a newer CLI.
// What they lose: the quarantined detections, demoted for good, silently.
func TestReplayHECAgainstARouterWithoutProtocolHEC(t *testing.T) {
	var mu sync.Mutex
	var got []string
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/admin/replay" { // a router before ac856bf: no other query parameter than destination
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.URL.String())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"replayed":` + strconv.Itoa(replayRecords(b)) + `,"rejected":0}` + "\n"))
	}))
	defer old.Close()

	dir := t.TempDir()
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	rec := pipeline.Rejected{Raw: []byte(reviewFalconHEC("ldt:old:1")), Reason: "hec_not_processed", Input: "http", Protocol: "hec"}
	path := filepath.Join(dir, "quarantine-20261101T10.ndjson")
	if err := os.WriteFile(path, quarantine.AppendRecord(nil, &rec, at), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := replayQuarantine(&out, old.URL, []string{dir}, "", "", false)
	mu.Lock()
	sent := append([]string(nil), got...)
	mu.Unlock()
	if err == nil && len(sent) > 0 {
		t.Errorf("a router that cannot unwrap HEC envelopes took the HEC record (requests %v) and replay recorded it as replayed "+
			"(%s): the detection was normalized as an envelope-holding event, and no later run sends it again", sent, strings.TrimSpace(out.String()))
	}
}

// TestReplayHECBatchEnvelopeIsSplit
//
// The fault: addHEC hands the envelope's event to the worker whole
// (wk.Add(b, ev, nil, &em)), but the HEC endpoint splits an event that is
// a batch envelope into its records (httpin request.add ->
// normalize.Records; README: "Batch envelopes are split into their records
// on HEC, /ingest and the Kafka input", an object whose only member is
// "records" or "Records": a CloudTrail log file, Azure diagnostic
// records), each record with the envelope's time as its default only. So
// replay does not unwrap "as HEC would", as the commit and the README now
// say: a CloudTrail log file quarantined behind a bad event comes back as
// ONE event holding a "Records" array, with no eventName, user or source
// address of its own: not aws.cloudtrail, not P2, out of OpenSearch.
//
// Who is affected: HEC senders forwarding CloudTrail files or Azure
// diagnostic batches (S3/Event Hubs relays to HEC). What they lose: every
// record of the batch as a searchable event (ConsoleLogin, AssumeRole...):
// one opaque blob in the archive instead.
//
// Event shape: AWS CloudTrail User Guide, "CloudTrail log file examples"
// (a log file is {"Records":[...]}; ConsoleLogin / GetCallerIdentity records).
func TestReplayHECBatchEnvelopeIsSplit(t *testing.T) {
	a, cfg := startReplayRouter(t, "")
	archive := filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "archive")
	rec := func(id, name, source string) string {
		return `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/jdoe",` +
			`"accountId":"111122223333","userName":"jdoe"},"eventTime":"2026-11-28T10:00:00Z","eventSource":"` + source + `",` +
			`"eventName":"` + name + `","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15.0",` +
			`"requestParameters":null,"responseElements":null,"eventID":"` + id + `","readOnly":true,"eventType":"AwsApiCall",` +
			`"managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`
	}
	env := `{"time":1795860000,"sourcetype":"aws.cloudtrail","event":{"Records":[` +
		rec("ct-review-0001", "GetCallerIdentity", "sts.amazonaws.com") + `,` +
		rec("ct-review-0002", "ListBuckets", "s3.amazonaws.com") + `]}}`
	res, err := http.Post("http://"+a.HTTPAddr()+"/services/collector/event", "application/json",
		strings.NewReader(`{"event":""}`+"\n"+env))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 400 || !strings.Contains(string(b), `"code":13`) {
		t.Fatalf("want 400 code 13, got %d %s", res.StatusCode, b)
	}
	wait := func(dir, s string) (string, bool) {
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if l, ok := reviewDirHas(dir, s); ok {
				return l, true
			}
		}
		return "", false
	}
	if _, ok := wait(cfg.Quarantine.Dir, "ct-review-0002"); !ok {
		t.Fatal("the batch was not quarantined")
	}
	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	if _, ok := wait(archive, `"input":"replay"`); !ok {
		t.Fatalf("nothing replayed reached the archive (replay said: %s)", strings.TrimSpace(out.String()))
	}
	time.Sleep(50 * time.Millisecond)
	for _, c := range []struct{ id, other string }{{"ct-review-0001", "ct-review-0002"}, {"ct-review-0002", "ct-review-0001"}} {
		line, _ := reviewDirHas(archive, c.id)
		if !strings.Contains(line, `"dataset":"aws.cloudtrail"`) || strings.Contains(line, c.other) || !strings.Contains(line, `"input":"replay"`) {
			t.Errorf("record %s of the replayed CloudTrail batch is not an aws.cloudtrail event of its own: %.400s", c.id, line)
		}
	}
}

// TestReplayHECNullEventIsNotAnEvent
//
// The fault: the HEC endpoint refuses an envelope whose "event" is null
// (code 13 "Event field cannot be blank", quarantined as hec_blank_event,
// as Splunk does), but addHEC, which is to unwrap "as HEC would", sends a
// null event down its default branch: ev.MarshalTo gives the text "null",
// which becomes an event {"message":"null"}. `router quarantine replay`
// (no --reason: every record) so turns each such refusal into a junk
// "unknown" event in the archive (Object Lock: never removed), and the
// record is journaled as replayed. An empty-string event, refused by the
// same HEC check, is refused again by replay (replay_rejected): null
// should be too.
//
// Who is affected: anyone replaying an HEC quarantine that holds blank
// events (a forwarder sending "event":null for empty lines). What they
// lose: the archive's integrity (events no source sent), and the record,
// marked replayed, is never looked at again.
func TestReplayHECNullEventIsNotAnEvent(t *testing.T) {
	a, cfg := startReplayRouter(t, "")
	archive := filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "archive")
	res, err := http.Post("http://"+a.HTTPAddr()+"/services/collector/event", "application/json",
		strings.NewReader(`{"host":"review-null-host","sourcetype":"review.null","event":null}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 400 || !strings.Contains(string(b), `"code":13`) {
		t.Fatalf("HEC: want 400 code 13 for a null event, got %d %s", res.StatusCode, b)
	}
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, ok := reviewDirHas(cfg.Quarantine.Dir, "review-null-host"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the null event was not quarantined")
		}
	}
	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	// The router's answer says what it did with the record: refused
	// again ("quarantined again by the router") or taken as an event.
	if !strings.Contains(out.String(), "quarantined again") {
		line, _ := reviewDirHas(archive, "review-null-host")
		t.Errorf("a null HEC event, refused by HEC, was taken by replay as an event (replay said: %s)\narchive: %.300s",
			strings.TrimSpace(out.String()), line)
	}
}

// TestReplayHECRefusedByReplayStaysHEC
//
// The fault: replay knows an HEC record only by its protocol ("hec",
// replayGroup.hec), but a record the router's replay refuses is
// quarantined again by handleReplay's reject with Input and Protocol
// "replay" (reason replay_rejected): what it was (an HEC envelope) is
// gone. When the cause is fixed (normalize.max_fields raised after a
// too_many_fields refusal, say) and the operator replays it with
// --reason replay_rejected, the envelope goes through plain
// /admin/replay and is normalized as an event holding its envelope:
// "unknown", P3, never at the SIEM, the loss ac856bf fixed for the first
// replay only.
//
// Who is affected: operators replaying HEC records a second time. What
// they lose: the detections among them, demoted for good.
//
// The record is what handleReplay now writes for an HEC envelope it
// refused (reject(raw, "replay_rejected", ...): Input "replay", Protocol
// "hec" since the fix; "replay" before it, which lost what it was).
func TestReplayHECRefusedByReplayStaysHEC(t *testing.T) {
	a, cfg := startReplayRouter(t, "")
	siemDir := filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "siem")
	dir := t.TempDir()
	at := time.Now().Add(-time.Hour).UTC()
	rec := pipeline.Rejected{Raw: []byte(reviewFalconHEC("ldt:again:1")), Reason: "replay_rejected",
		Detail: "event has more fields than normalize.max_fields", Input: "replay", Protocol: "hec", Peer: "127.0.0.1"}
	path := filepath.Join(dir, "quarantine-"+at.Format("20060102T15")+".ndjson")
	if err := os.WriteFile(path, quarantine.AppendRecord(nil, &rec, at), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{dir}, "", "replay_rejected", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1 replayed") {
		t.Fatalf("the record was not replayed: %s", out.String())
	}
	line, ok := reviewDirHas(siemDir, "ldt:again:1")
	for deadline := time.Now().Add(time.Second); !ok && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		line, ok = reviewDirHas(siemDir, "ldt:again:1")
	}
	if !ok {
		arch, _ := reviewDirHas(filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "archive"), "ldt:again:1")
		t.Errorf("the HEC envelope replayed a second time never reached the SIEM (replay said: %s)\narchive has: %.300s",
			strings.TrimSpace(out.String()), arch)
	} else if !strings.Contains(line, `"dataset":"crowdstrike.falcon"`) {
		t.Errorf("replayed detection in the SIEM without its source type: %.300s", line)
	}
}
