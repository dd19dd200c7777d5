package main

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// reviewFalconHEC is a CrowdStrike Falcon detection in a Splunk HEC
// envelope, as the README's first example sends it.
func reviewFalconHEC(detectID string) string {
	return `{"time":1764331200,"host":"ws-042","sourcetype":"crowdstrike.falcon","event":{"metadata":{"customerIDString":"abc",` +
		`"offset":12345,"eventType":"DetectionSummaryEvent","eventCreationTime":1764331200000,"version":"1.0"},"event":{` +
		`"ComputerName":"ws-042","UserName":"jdoe","DetectName":"Credential Dumping","Severity":4,"FileName":"mimikatz.exe",` +
		`"CommandLine":"mimikatz.exe sekurlsa::logonpasswords","DetectId":"` + detectID + `"}}}`
}

// reviewDirHas reports whether a file under dir contains s.
func reviewDirHas(dir, s string) (string, bool) {
	var line string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		if strings.Contains(p, ".zst") {
			dec, _ := zstd.NewReader(nil)
			b, _ = dec.DecodeAll(b, nil) // an open object: its complete frames
			dec.Close()
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, s) {
				line = l
			}
		}
		return nil
	})
	return line, line != ""
}

// TestReplayedHECRecordKeepsItsEnvelope
//
// What I did: sent the router (starter rules, P1 -> siem) one Splunk HEC
// request of two events: an invalid one ("event" blank) and then a
// CrowdStrike Falcon detection in its HEC envelope (time, host,
// sourcetype crowdstrike.falcon, event). As Splunk does, the router
// answers 400 code 13 with invalid-event-number 0 and quarantines the
// detection as hec_not_processed ("fix that event and resend these").
// Then I did what the README and docs/configuration.md#quarantine say to
// do with quarantined records: `router quarantine replay` (replayQuarantine,
// the command's code, against the running router).
//
// What happened: replay sends the record's raw bytes to POST /admin/replay,
// which normalizes each line as a plain /ingest event: the HEC envelope is
// not unwrapped. The detection becomes an event whose "event" object is
// the vendor payload (event.metadata, event.event), with the envelope's
// "sourcetype" and "host" as ordinary fields, event.dataset "unknown": no
// rule matches, it is P3 and goes to the archive only. The SIEM never gets
// it. The same envelope sent directly is P1 and reaches the SIEM.
//
// What should happen: a replayed record is processed as its input would
// have processed it (the record says input http, protocol hec): envelope
// unwrapped, sourcetype, time, host, index and fields applied, so the
// detection is classified P1 and delivered to the SIEM. Otherwise the
// documented recovery path silently demotes EDR findings out of the SIEM
// (and writes malformed events to the Object Lock archive), for every
// input record whose protocol wraps events (HEC event, Firehose).
func TestReplayedHECRecordKeepsItsEnvelope(t *testing.T) {
	a, cfg := startReplayRouter(t, "")
	siemDir := filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "siem")
	post := func(body string) (int, string) {
		res, err := http.Post("http://"+a.HTTPAddr()+"/services/collector/event", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	wait := func(dir, s string) (string, bool) {
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if l, ok := reviewDirHas(dir, s); ok {
				return l, true
			}
		}
		return "", false
	}

	// Control: the detection sent on its own is P1 and reaches the SIEM.
	if code, body := post(reviewFalconHEC("ldt:direct:1")); code != 200 {
		t.Fatalf("direct: %d %s", code, body)
	}
	if _, ok := wait(siemDir, "ldt:direct:1"); !ok {
		t.Fatal("control: the detection sent directly did not reach the SIEM")
	}

	// The detection follows an invalid event: quarantined, not processed.
	code, body := post(`{"event":""}` + "\n" + reviewFalconHEC("ldt:replayed:1"))
	if code != 400 || !strings.Contains(body, `"code":13`) {
		t.Fatalf("want 400 code 13, got %d %s", code, body)
	}
	if _, ok := wait(cfg.Quarantine.Dir, "ldt:replayed:1"); !ok {
		t.Fatal("the detection was not quarantined")
	}

	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	if line, ok := wait(siemDir, "ldt:replayed:1"); !ok {
		arch, _ := reviewDirHas(filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "archive"), "ldt:replayed:1")
		t.Errorf("the replayed CrowdStrike detection never reached the SIEM (replay said: %s)\narchive has: %.400s", strings.TrimSpace(out.String()), arch)
	} else if !strings.Contains(line, `"dataset":"crowdstrike.falcon"`) {
		t.Errorf("replayed detection in the SIEM without its source type: %.400s", line)
	}
}
