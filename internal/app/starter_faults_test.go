package app

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found), but any
// skipped with its reason.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	logrouter "github.com/logrouter/logrouter"
	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/file"
	"github.com/logrouter/logrouter/sinks/s3"
)

// reviewStarter is the router as the embedded default runs it (starter
// rules and profiles, P1 -> siem, P2 -> opensearch, all -> archive), with
// file destinations under a temporary directory and loopback listeners.
type reviewStarter struct {
	t    *testing.T
	app  *App
	data string
	base string
}

func newReviewStarter(t *testing.T) *reviewStarter {
	t.Helper()
	return newReviewStarterWith(t, nil)
}

// newReviewStarterWith is newReviewStarter with edit applied to the
// configuration before its defaults.
func newReviewStarterWith(t *testing.T, edit func(*config.Config)) *reviewStarter {
	t.Helper()
	data := t.TempDir()
	cfg := &config.Config{
		Node:  "review",
		Log:   config.Log{Level: "error", Format: "text"},
		Admin: config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{HTTP: &httpin.Config{
			Address: "127.0.0.1:0",
			Tokens:  []httpin.Token{{Name: "default", Token: "dev-token-change-me"}},
		}},
		Destinations: []config.Destination{
			{Name: "archive", Type: "archive_dir", ArchiveDir: &s3.Config{Dir: filepath.Join(data, "archive")}},
			{Name: "siem", Type: "file", File: &file.Config{Dir: filepath.Join(data, "siem")}},
			{Name: "opensearch", Type: "file", File: &file.Config{Dir: filepath.Join(data, "opensearch")}},
		},
		Routing: config.Routing{P1: []string{"siem"}, P2: []string{"opensearch"}, All: []string{"archive"}},
	}
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Queue.Dir = filepath.Join(data, "queue")
	if edit != nil {
		edit(cfg)
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, RulesSource{FS: logrouter.StarterRules, Dir: "rules"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	})
	return &reviewStarter{t: t, app: a, data: data, base: "http://" + a.HTTPAddr()}
}

// do posts body to path with the given headers and returns status and answer.
func (h *reviewStarter) do(path, body string, hdr ...string) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.base+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// find waits for the event containing marker in destination dir (siem or
// opensearch, NDJSON files) and returns it decoded.
func (h *reviewStarter) find(dir, marker string) map[string]any {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(h.data, dir, "*.ndjson"))
		for _, f := range files {
			data, _ := os.ReadFile(f)
			sc := bufio.NewScanner(bytes.NewReader(data))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				if strings.Contains(sc.Text(), marker) {
					var m map[string]any
					if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
						h.t.Fatalf("invalid JSON in %s: %v", dir, err)
					}
					return m
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("no event with %q reached %s", marker, dir)
	return nil
}

func reviewGet(m map[string]any, path string) any {
	var v any = m
	for _, p := range strings.Split(path, ".") {
		o, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = o[p]
	}
	return v
}

// reviewGuardDutyFinding is one GuardDuty finding (GetFindings / the S3
// export shape, as documented in the GuardDuty finding format).
const reviewGuardDutyFinding = `{"schemaVersion":"2.0","accountId":"123456789012","region":"us-east-1","partition":"aws",` +
	`"id":"16afba5c5c43e07c9e3e5e2e544e95df","arn":"arn:aws:guardduty:us-east-1:123456789012:detector/12abc34d567e8fa901bc2d34e56789f0/finding/16afba5c5c43e07c9e3e5e2e544e95df",` +
	`"type":"UnauthorizedAccess:EC2/SSHBruteForce","resource":{"resourceType":"Instance","instanceDetails":{"instanceId":"i-0a1b2c3d4e5f67890","instanceType":"m5.xlarge"}},` +
	`"service":{"serviceName":"guardduty","detectorId":"12abc34d567e8fa901bc2d34e56789f0","action":{"actionType":"NETWORK_CONNECTION","networkConnectionAction":` +
	`{"connectionDirection":"INBOUND","remoteIpDetails":{"ipAddressV4":"198.51.100.23"},"remotePortDetails":{"port":41234},"localPortDetails":{"port":22},"protocol":"TCP","blocked":false}},` +
	`"eventFirstSeen":"2026-11-28T10:00:00.000Z","eventLastSeen":"2026-11-28T10:14:00.000Z","archived":false,"count":20},` +
	`"severity":8,"createdAt":"2026-11-28T10:14:30.000Z","updatedAt":"2026-11-28T10:14:40.000Z",` +
	`"title":"198.51.100.23 is performing SSH brute force attacks against i-0a1b2c3d4e5f67890. MARKER","description":"Brute force."}`

// TestGuardDutyThroughEventBridgeFirehoseIsGuardDuty
//
// What I did: delivered one GuardDuty finding the way docs/shippers.md
// ("Amazon Data Firehose (GuardDuty, CloudTrail, CloudWatch Logs)":
// "an EventBridge rule (GuardDuty findings, Security Hub, any aws.* event)
// targeting the stream") says to: an EventBridge "GuardDuty Finding" event
// ({"version","id","detail-type","source":"aws.guardduty","account","time",
// "region","resources","detail":<finding>}, per the GuardDuty user guide,
// "Creating custom responses to GuardDuty findings with Amazon
// EventBridge") as a Firehose HTTP endpoint record to POST /firehose; and
// the same finding as GetFindings/the S3 export write it, to /ingest.
//
// What happened: both are P1 and reach the SIEM, but they are two different
// things there: the direct finding is event.dataset aws.guardduty with
// event.kind alert, event.severity 8, rule.name (the finding type) and
// message (its title) from the aws.guardduty profile; the EventBridge one
// is event.dataset aws.eventbridge and none of those fields: the
// aws.eventbridge profile only renames the envelope, the finding stays
// under detail.*.
//
// What should happen: one finding, one shape, whatever the delivery path
// (the principle docs/shippers.md states for Windows event logs: mapped "so
// one rule and one search serve every shipper"; docs/schema.md: "Rules stay
// readable"). A SIEM search, dashboard or correlation rule on
// event.dataset:aws.guardduty, event.severity or rule.name, written against
// the documented profile, misses every finding delivered the documented
// Firehose way, the usual way GuardDuty is streamed.
func TestGuardDutyThroughEventBridgeFirehoseIsGuardDuty(t *testing.T) {
	h := newReviewStarter(t)

	direct := strings.Replace(reviewGuardDutyFinding, "MARKER", "direct-path", 1)
	if code, body := h.do("/ingest", direct, "Authorization", "Bearer dev-token-change-me"); code != 200 {
		t.Fatalf("/ingest: %d %s", code, body)
	}
	eb := `{"version":"0","id":"c8c4daa7-a20c-2f03-0070-b7393dd542ad","detail-type":"GuardDuty Finding","source":"aws.guardduty",` +
		`"account":"123456789012","time":"2026-11-28T10:14:41Z","region":"us-east-1","resources":[],"detail":` +
		strings.Replace(reviewGuardDutyFinding, "MARKER", "eventbridge-path", 1) + `}`
	req := `{"requestId":"ed4acda5-034f-9f42-bba1-f29aea6d7d8f","timestamp":1795860000000,"records":[{"data":"` +
		base64.StdEncoding.EncodeToString([]byte(eb)) + `"}]}`
	if code, body := h.do("/firehose", req, "X-Amz-Firehose-Request-Id", "ed4acda5-034f-9f42-bba1-f29aea6d7d8f",
		"X-Amz-Firehose-Access-Key", "dev-token-change-me", "Content-Type", "application/json"); code != 200 {
		t.Fatalf("/firehose: %d %s", code, body)
	}

	want := h.find("siem", "direct-path")
	got := h.find("siem", "eventbridge-path")
	for _, f := range []string{"event.dataset", "event.kind", "event.severity", "rule.name"} {
		w, g := reviewGet(want, f), reviewGet(got, f)
		if w == nil {
			t.Fatalf("the direct finding has no %s: the reference shape changed", f)
		}
		if g != w {
			t.Errorf("%s: %v through EventBridge/Firehose, %v for the same finding sent directly", f, g, w)
		}
	}
}

// TestFilebeatFirewallModulesAreNormalized
//
// What I did: sent, over /_bulk, what Filebeat 8's fortinet (firewall),
// panw (panos) and cisco (asa) modules send when pointed at logrouter as
// docs/shippers.md ("Filebeat, Winlogbeat, Auditbeat") describes:
// logrouter acknowledges the modules' ingest pipelines and runs none, so
// each event is the raw device line in "message" with the module's
// event.dataset (fortinet.firewall, panw.panos, cisco.asa) and the action's
// "pipeline". The same lines sent to the syslog input are parsed into
// source.ip, destination.ip, the ports and event.action.
//
// What happened: the events are classified (P2, by event.dataset) and
// written to OpenSearch with the line still whole in "message": no
// source.ip, destination.ip or event.action. The fortinet.fortigate
// profile even lists Filebeat's dataset name (source_types:
// [fortinet.firewall]) and paloalto.panos lists panw.panos, but a profile
// only renames fields: nothing parses the message the module sent.
//
// What should happen: docs/shippers.md says the ingest pipelines are not
// needed because "its profiles normalize the events". A team that points
// its existing Filebeat firewall modules at logrouter gets firewall
// telemetry in OpenSearch that no source.ip/destination.ip search,
// dashboard or detection finds. The message should be parsed as the syslog
// input parses the same line (or the docs should say these modules need
// the syslog input instead).
func TestFilebeatFirewallModulesAreNormalized(t *testing.T) {
	// The shipped normalization: its global renames (srcip, dstip...)
	// name the vendors' common fields for every profile.
	ex, err := config.Parse("config.example.yaml", logrouter.ExampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	h := newReviewStarterWith(t, func(c *config.Config) { c.Normalize = ex.Normalize })
	events := []struct{ module, dataset, pipeline, message string }{
		{"fortinet", "fortinet.firewall", "filebeat-8.11.0-fortinet-firewall-pipeline",
			`<189>date=2026-11-28 time=10:00:00 devname="FGT-HQ" devid="FG100FTK19000001" eventtime=1795860000000000000 tz="+0000" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.0.0.5 srcport=51234 srcintf="port1" dstip=203.0.113.9 dstport=443 dstintf="wan1" proto=6 action="deny" policyid=7 service="HTTPS" fbmarker=fortinet`},
		{"panw", "panw.panos", "filebeat-8.11.0-panw-panos-pipeline",
			`1,2026/11/28 10:00:00,007200001056,TRAFFIC,end,2305,2026/11/28 10:00:00,10.0.0.5,203.0.113.9,0.0.0.0,0.0.0.0,allow-web,,,ssl,vsys1,trust,untrust,ethernet1/1,ethernet1/2,Log-Fwd,2026/11/28 10:00:00,12345,1,51234,443,0,0,0x400000,tcp,deny,5000,2000,3000,20,2026/11/28 09:59:50,10,fbmarker-panw,0,7000,0x0,10.0.0.0-10.255.255.255,United States,0,10,10,policy-deny`},
		{"cisco", "cisco.asa", "filebeat-8.11.0-cisco-asa-pipeline",
			`%ASA-4-106023: Deny tcp src inside:10.0.0.5/51234 dst outside:203.0.113.9/443 by access-group "fbmarker-asa" [0x0, 0x0]`},
	}
	var body strings.Builder
	for _, e := range events {
		body.WriteString(`{"create":{"_index":"filebeat-8.11.0","pipeline":"` + e.pipeline + `"}}` + "\n")
		doc := map[string]any{
			"@timestamp": "2026-11-28T10:00:01.000Z",
			"message":    e.message,
			"event":      map[string]any{"module": e.module, "dataset": e.dataset, "timezone": "+00:00"},
			"fileset":    map[string]any{"name": strings.SplitN(e.dataset, ".", 2)[1]},
			"input":      map[string]any{"type": "udp"},
			"agent":      map[string]any{"type": "filebeat", "version": "8.11.0"},
			"log":        map[string]any{"source": map[string]any{"address": "10.0.0.1:514"}},
			"tags":       []string{e.module + "-" + strings.SplitN(e.dataset, ".", 2)[1], "forwarded"},
			"ecs":        map[string]any{"version": "8.0.0"},
		}
		b, _ := json.Marshal(doc)
		body.Write(b)
		body.WriteString("\n")
	}
	code, answer := h.do("/_bulk", body.String(), "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("filebeat:dev-token-change-me")),
		"Content-Type", "application/json")
	if code != 200 || strings.Contains(answer, `"errors":true`) {
		t.Fatalf("_bulk: %d %s", code, answer)
	}
	// The FortiGate line's fbmarker=fortinet pair becomes a field.
	for _, marker := range []string{`"fbmarker":"fortinet"`, "fbmarker-panw", "fbmarker-asa"} {
		ev := h.find("opensearch", marker)
		ds := reviewGet(ev, "event.dataset")
		if reviewGet(ev, "source.ip") != "10.0.0.5" || reviewGet(ev, "destination.ip") != "203.0.113.9" {
			t.Errorf("%v (Filebeat module event): source.ip %v, destination.ip %v, want 10.0.0.5 and 203.0.113.9", ds, reviewGet(ev, "source.ip"), reviewGet(ev, "destination.ip"))
		}
		if reviewGet(ev, "event.action") != "deny" {
			t.Errorf("%v (Filebeat module event): event.action %v, want deny", ds, reviewGet(ev, "event.action"))
		}
		// Filebeat's own fields stay Filebeat's: its agent object is no
		// user agent (FortiGate's agent= pair is), its event.dataset stands.
		if reviewGet(ev, "agent.type") != "filebeat" || reviewGet(ev, "user_agent.original") != nil {
			t.Errorf("%v (Filebeat module event): agent.type %v, user_agent.original %v: Filebeat's agent object moved", ds, reviewGet(ev, "agent.type"), reviewGet(ev, "user_agent.original"))
		}
		if ds != reviewGet(ev, "event.module").(string)+"."+strings.SplitN(ds.(string), ".", 2)[1] {
			t.Errorf("event.dataset %v, event.module %v: Filebeat's dataset replaced", ds, reviewGet(ev, "event.module"))
		}
	}
}
