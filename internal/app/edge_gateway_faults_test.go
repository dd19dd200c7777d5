package app

// Fault tests from a review of the edge -> Kafka -> gateway path: each failed
// before the fix it describes (the comments describe the code as found).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"go.yaml.in/yaml/v3"

	"github.com/logrouter/logrouter"
	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/sinks/file"
	"github.com/logrouter/logrouter/sinks/opensearch"
	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
)

// reviewManifestConfig returns the config.yaml of ConfigMap name in a
// deploy/kubernetes manifest, with its ${VAR}s filled, parsed as
// `router run` parses it.
func reviewManifestConfig(t *testing.T, file, name string) *config.Config {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("../../deploy/kubernetes", file))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var o struct {
			Kind     string                `yaml:"kind"`
			Metadata struct{ Name string } `yaml:"metadata"`
			Data     map[string]string     `yaml:"data"`
		}
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if o.Kind != "ConfigMap" || o.Metadata.Name != name {
			continue
		}
		text := o.Data["config.yaml"]
		for _, v := range []string{"LOGROUTER_NODE", "LOGROUTER_ADMIN_TOKEN", "LOGROUTER_HEC_TOKEN", "LOGROUTER_CLOUDTRAIL_TOKEN",
			"SPLUNK_HEC_TOKEN", "KAFKA_PASSWORD"} {
			text = strings.ReplaceAll(text, "${"+v+"}", "x-"+strings.ToLower(v)+"-0123456789abcdef")
		}
		text = strings.ReplaceAll(text, "${LOGROUTER_HASH_KEY}", "00112233445566778899aabbccddeeff")
		cfg, err := config.Parse(file, []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	t.Fatalf("%s: no ConfigMap %s", file, name)
	return nil
}

const (
	reviewEdgeToken = "x-logrouter_hec_token-0123456789abcdef"
	reviewGwToken   = "x-logrouter_hec_token-0123456789abcdef"
)

// reviewEdge starts the edge of deploy/kubernetes/edge-daemonset.yaml on
// loopback, its Kafka destination pointed at broker (no TLS/SASL: kfake).
func reviewEdge(t *testing.T, broker, data string) *App {
	t.Helper()
	cfg := reviewManifestConfig(t, "edge-daemonset.yaml", "logrouter-edge-config")
	cfg.Log = config.Log{Level: "error", Format: "text"}
	cfg.Admin.Address = "127.0.0.1:0"
	cfg.Inputs.HTTP.Address = "127.0.0.1:0"
	cfg.Inputs.HTTP.GRPCAddress = "127.0.0.1:0"
	cfg.Inputs.Syslog.UDP.Address = "127.0.0.1:0"
	cfg.Inputs.Syslog.TCP.Address = "127.0.0.1:0"
	for i := range cfg.Destinations {
		if k := cfg.Destinations[i].Kafka; k != nil {
			k.Brokers, k.TLS, k.SASL = []string{broker}, nil, nil
			k.BatchTimeout = 5 * time.Millisecond
		}
	}
	cfg.Queue.Dir, cfg.Quarantine.Dir = filepath.Join(data, "queue"), filepath.Join(data, "quarantine")
	cfg.Queue.MaxBytes = 64 << 20
	cfg.Queue.RetryInitial, cfg.Queue.RetryMax = 20*time.Millisecond, 200*time.Millisecond
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return reviewStart(t, cfg)
}

// reviewGateway starts the gateway of deploy/kubernetes/gateway.yaml on
// loopback: its Kafka input on broker, OpenSearch on os (no SigV4), and the
// S3 archive and Splunk as file destinations of the same names under data.
func reviewGateway(t *testing.T, broker, osURL, data string) *App {
	t.Helper()
	cfg := reviewManifestConfig(t, "gateway.yaml", "logrouter-config")
	cfg.Log = config.Log{Level: "error", Format: "text"}
	cfg.Admin.Address = "127.0.0.1:0"
	cfg.Inputs.HTTP.Address = "127.0.0.1:0"
	cfg.Inputs.HTTP.GRPCAddress = "127.0.0.1:0"
	cfg.Inputs.Syslog.UDP.Address = "127.0.0.1:0"
	cfg.Inputs.Syslog.TCP.Address = "127.0.0.1:0"
	cfg.Inputs.Syslog.TLS = nil
	k := cfg.Inputs.Kafka
	k.Brokers, k.TLS, k.SASL = []string{broker}, nil, nil
	k.BatchWait, k.CommitInterval = 20*time.Millisecond, 50*time.Millisecond
	k.SessionTimeout, k.RebalanceTimeout, k.HeartbeatInterval, k.DrainTimeout = 6*time.Second, 6*time.Second, 500*time.Millisecond, 3*time.Second
	for i := range cfg.Destinations {
		d := &cfg.Destinations[i]
		switch d.Type {
		case "opensearch":
			d.OpenSearch = &opensearch.Config{URLs: []string{osURL}, Index: d.OpenSearch.Index}
		default: // archive (s3), splunk: what reaches them, as files
			*d = config.Destination{Name: d.Name, Type: "file", File: &file.Config{Dir: filepath.Join(data, d.Name)}}
		}
	}
	cfg.Queue.Dir, cfg.Quarantine.Dir = filepath.Join(data, "queue"), filepath.Join(data, "quarantine")
	cfg.Queue.MaxBytes = 64 << 20
	cfg.Queue.RetryInitial, cfg.Queue.RetryMax = 20*time.Millisecond, 200*time.Millisecond
	cfg.Dedup.MaxBytes = 1 << 20
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return reviewStart(t, cfg)
}

func reviewStart(t *testing.T, cfg *config.Config) *App {
	t.Helper()
	a, err := New(cfg, RulesSource{FS: logrouter.StarterRules, Dir: "rules"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	})
	return a
}

func reviewPostHEC(t *testing.T, a *App, token, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+a.HTTPAddr()+"/services/collector/event", strings.NewReader(body))
	req.Header.Set("Authorization", "Splunk "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("HEC post: %d %s", res.StatusCode, b)
	}
}

// reviewWaitDocs waits until osfake holds a document whose source contains
// marker and returns those documents.
func reviewWaitDocs(t *testing.T, srv *osfake.Server, marker string, n int) []osfake.Doc {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var out []osfake.Doc
		for _, d := range srv.Docs() {
			if bytes.Contains(d.Source, []byte(marker)) {
				out = append(out, d)
			}
		}
		if len(out) >= n || time.Now().After(deadline) {
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A FortiGate traffic log as a node's shipper sends it over HEC (P2 by
// rule fw-fortinet-fortigate: OpenSearch and the archive).
func reviewFortigate(marker string) string {
	return `{"time":1795824000.5,"host":"fw-node-1","source":"udp:514","sourcetype":"fortinet.fortigate","event":` +
		`{"date":"2026-11-28","time":"01:00:00","devname":"FGT-HQ-FRA-01","devid":"FG100FTK22004317",` +
		`"eventtime":"1795824000003074000","tz":"+0100","logid":"0000000013","type":"traffic","subtype":"forward",` +
		`"level":"notice","vd":"root","srcip":"10.20.44.128","srcport":49538,"dstip":"34.107.221.82",` +
		`"dstport":443,"action":"deny","policyid":2,"policyname":"Implicit-Deny","service":"HTTPS",` +
		`"sentbyte":0,"rcvdbyte":0,"msg":"` + marker + `"}}`
}

// reviewTopic reads every record of topic (parts partitions) once at least
// want are there (or 30s passed).
func reviewTopic(t *testing.T, broker, topic string, parts, want int) []kafka.Message {
	t.Helper()
	var out []kafka.Message
	deadline := time.Now().Add(30 * time.Second)
	for {
		out = out[:0]
		for p := 0; p < parts; p++ {
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: topic, Partition: p, MaxWait: 100 * time.Millisecond})
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				m, err := r.ReadMessage(ctx)
				cancel()
				if err != nil {
					break
				}
				out = append(out, m)
			}
			r.Close()
		}
		if len(out) >= want || time.Now().After(deadline) {
			return out
		}
	}
}

// reviewLines returns the lines of the files of a file destination's
// directory that contain marker.
func reviewLines(t *testing.T, dir, marker string) []string {
	t.Helper()
	fs, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	var out []string
	for _, f := range fs {
		b, err := readFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(b, "\n") {
			if strings.Contains(l, marker) {
				out = append(out, l)
			}
		}
	}
	return out
}

func reviewWaitLines(t *testing.T, dir, marker string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		l := reviewLines(t, dir, marker)
		if len(l) >= n || time.Now().After(deadline) {
			return l
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func reviewJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return m
}

// TestEdgeKafkaGatewayKeepsEdgeProvenance
//
// Sequence: the edge of deploy/kubernetes/edge-daemonset.yaml takes a
// FortiGate log over HEC with its node-shippers token and writes it to Kafka;
// the gateway of deploy/kubernetes/gateway.yaml consumes the topic and
// indexes it (P2) into OpenSearch.
//
// What happens: the edge's record carries logrouter.{input:"http",
// protocol:"hec", peer:<shipper address>, token:"node-shippers"}. The Kafka
// input sets KeepOwnLogrouter, so the gateway keeps that object, but
// normalize.Build then writes its own batch metadata into the same object
// ("ingest metadata always wins"): input becomes "kafka", protocol "kafka"
// and peer "edge-logs/<partition>", while token stays the edge's. The stored
// document mixes the two hops (token node-shippers with protocol kafka).
//
// What should happen: the edge's provenance (which listener, which protocol,
// which shipper address, which token) arrives intact, as the kafka input's
// own comment promises ("A logrouter edge's metadata ... is kept"); the
// gateway's hop, if recorded, goes elsewhere (for example logrouter.via or
// logrouter.kafka).
//
// Why it matters: in the documented deployment every event goes through the
// edge, so every event in the SIEM and OpenSearch loses the address of the
// shipper that sent it and which input took it: the provenance an
// investigation needs (which node, which shipper, spoofed or not) is gone.
func TestEdgeKafkaGatewayKeepsEdgeProvenance(t *testing.T) {
	broker := newKafka(t, 3, "edge-logs")
	srv := osfake.New()
	defer srv.Close()
	reviewGateway(t, broker, srv.URL, t.TempDir())
	edge := reviewEdge(t, broker, t.TempDir())
	reviewPostHEC(t, edge, reviewEdgeToken, reviewFortigate("provenance-1"))
	docs := reviewWaitDocs(t, srv, "provenance-1", 1)
	if len(docs) != 1 {
		t.Fatalf("%d documents in OpenSearch, want 1", len(docs))
	}
	lr, _ := reviewJSON(t, docs[0].Source)["logrouter"].(map[string]any)
	want := map[string]string{"input": "http", "protocol": "hec", "peer": "127.0.0.1", "token": "node-shippers", "source": "udp:514"}
	for k, v := range want {
		if lr[k] != v {
			t.Errorf("logrouter.%s = %v, want the edge's %q: the gateway overwrote the edge's provenance with its own Kafka hop (logrouter: %v)", k, lr[k], v, lr)
		}
	}
}

// TestEdgeKafkaGatewaySameEventSameID
//
// Sequence: one HEC event with an envelope time (a FortiGate log whose
// "time" envelope is 1795824000.5 and whose own eventtime differs by half a
// second, as shippers send it) is sent once straight to the gateway and once
// through the edge (edge -> Kafka -> gateway), both with the manifests'
// configs.
//
// What happens: the edge normalizes it as the gateway would (@timestamp from
// the envelope, the vendor's eventtime/date/time/tz kept). The gateway then
// normalizes the edge's record again with the fortinet profile: the record
// has no envelope time, so the profile's timestamp field (eventtime) wins,
// @timestamp changes to 00:00:00.003074Z, the edge's @timestamp is demoted
// to @timestamp_original, and eventtime/date/time/tz are removed. The
// content differs, so the hash differs: two OpenSearch documents with two
// _ids for one event, and the gateway's dedup does not recognize it.
//
// What should happen: an event normalized at the edge comes out of the
// gateway as if sent to the gateway directly: same @timestamp, same
// content hash, same _id (the second copy dropped by dedup or overwriting
// the same document).
//
// Why it matters: the docs promise that the hash key makes the deduplicator
// and idempotent destinations absorb copies; with a shipper that fails over
// from the edge to the gateway's Service (or an edge and a gateway both
// taking the same feed) the same event is stored twice, and @timestamp, the
// time every search and the S3 archive key use, differs by path.
func TestEdgeKafkaGatewaySameEventSameID(t *testing.T) {
	broker := newKafka(t, 3, "edge-logs")
	srv := osfake.New()
	defer srv.Close()
	gwData := t.TempDir()
	gw := reviewGateway(t, broker, srv.URL, gwData)
	edge := reviewEdge(t, broker, t.TempDir())
	ev := reviewFortigate("same-id-1")
	reviewPostHEC(t, gw, reviewGwToken, ev)
	direct := reviewWaitDocs(t, srv, "same-id-1", 1)
	if len(direct) != 1 {
		t.Fatalf("direct: %d documents, want 1", len(direct))
	}
	reviewPostHEC(t, edge, reviewEdgeToken, ev)
	if n := len(reviewTopic(t, broker, "edge-logs", 3, 1)); n != 1 {
		t.Fatalf("edge wrote %d records to Kafka, want 1", n)
	}
	// The gateway has read and accepted the edge's record once its group's
	// lag is 0; give OpenSearch delivery a few seconds after that.
	deadline := time.Now().Add(30 * time.Second)
	for consumerLag(t, broker, "logrouter-gateway", "edge-logs", 3) != 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	docs := direct
	for end := time.Now().Add(5 * time.Second); len(docs) < 2 && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
		docs = reviewWaitDocs(t, srv, "same-id-1", 1)
	}
	if len(docs) != 1 {
		for _, d := range docs {
			t.Logf("_id %s: %s", d.ID, d.Source)
		}
		a, b := reviewJSON(t, docs[0].Source), reviewJSON(t, docs[1].Source)
		t.Errorf("one event sent directly and through the edge is stored as %d OpenSearch documents (_ids %s, %s), want one _id; @timestamp %v vs %v, @timestamp_original %v vs %v",
			len(docs), docs[0].ID, docs[1].ID, a["@timestamp"], b["@timestamp"], a["@timestamp_original"], b["@timestamp_original"])
	}
}

// reviewFalcon is a CrowdStrike Falcon streaming-API detection as HEC
// (sourcetype crowdstrike.falcon): P1 by rule edr-crowdstrike-detection
// (rules/10-p1-threat-detection_test.yaml), routed to the SIEM (splunk).
func reviewFalcon(detectID string) string {
	return `{"sourcetype":"crowdstrike.falcon","event":{"metadata":{"customerIDString":"caf779758ace8f15fdc45d9b477cba87","offset":4035479,` +
		`"eventType":"DetectionSummaryEvent","eventCreationTime":1795824000002,"version":"1.0"},` +
		`"event":{"ProcessStartTime":1795823991,"ComputerName":"SEC-LT-2534","UserName":"jking","DetectName":"Ransomware",` +
		`"DetectDescription":"A process deleted volume shadow copies","Severity":5,"SeverityName":"Critical","FileName":"vssadmin.exe",` +
		`"CommandLine":"vssadmin.exe delete shadows /all /quiet","Tactic":"Impact","TacticId":"TA0040","DetectId":"` + detectID + `"}}}`
}

// TestEdgeKafkaGatewayKeepsFalconDetectionP1
//
// Sequence: a CrowdStrike Falcon detection (HEC, sourcetype
// crowdstrike.falcon) is sent to the edge. The edge classifies it P1 (its
// Kafka record's logrouter-priority header says so) and writes its
// normalized form: the vendor's "event" object is mapped into ECS
// (event.action DetectionSummaryEvent, event.severity, event.id,
// event.dataset, event.ingested, ...). The gateway consumes it.
//
// What happens: the gateway ignores the priority header and normalizes the
// record again with the crowdstrike.falcon profile, whose first rename is
// "event: crowdstrike.event" (meant for the vendor's raw shape). The edge's
// ECS event object, with event.action, event.dataset, event.module and
// event.ingested, is moved under crowdstrike.event (double-nested
// metadata), top-level event.action is gone, rule edr-crowdstrike-detection
// no longer matches, and the detection is re-classified P2: it goes to
// OpenSearch, never to the SIEM (splunk). The same event sent straight to
// the gateway is P1 and reaches splunk.
//
// What should happen: the gateway's result equals the direct path's: the
// detection is P1 and reaches the SIEM, event.* stays at the top level. An
// already-normalized event must not be run through the vendor profile's
// renames a second time (or the edge's priority must be kept).
//
// Why it matters: every Falcon detection collected by an edge (the
// documented deployment) silently misses the SIEM, where analysts triage
// P1 findings. The same happens to CEF detections from syslog at the edge.
func TestEdgeKafkaGatewayKeepsFalconDetectionP1(t *testing.T) {
	broker := newKafka(t, 3, "edge-logs")
	srv := osfake.New()
	defer srv.Close()
	gwData := t.TempDir()
	gw := reviewGateway(t, broker, srv.URL, gwData)
	edge := reviewEdge(t, broker, t.TempDir())

	// Control: straight to the gateway, the detection reaches the SIEM.
	reviewPostHEC(t, gw, reviewGwToken, reviewFalcon("ldt:direct-0001"))
	if l := reviewWaitLines(t, filepath.Join(gwData, "splunk"), "ldt:direct-0001", 1); len(l) != 1 {
		t.Fatalf("control: a Falcon detection sent straight to the gateway reached splunk %d times, want 1", len(l))
	}

	reviewPostHEC(t, edge, reviewEdgeToken, reviewFalcon("ldt:edge-0001"))
	recs := reviewTopic(t, broker, "edge-logs", 3, 1)
	if len(recs) != 1 {
		t.Fatalf("edge wrote %d records, want 1", len(recs))
	}
	var hdr string
	for _, h := range recs[0].Headers {
		if h.Key == "logrouter-priority" {
			hdr = string(h.Value)
		}
	}
	if hdr != "P1" {
		t.Fatalf("edge classified the detection %q, want P1", hdr)
	}
	arch := reviewWaitLines(t, filepath.Join(gwData, "archive"), "ldt:edge-0001", 1)
	if len(arch) != 1 {
		t.Fatalf("the edge's detection reached the gateway's archive %d times, want 1", len(arch))
	}
	time.Sleep(time.Second) // the SIEM copy is queued with the archive's
	siem := reviewLines(t, filepath.Join(gwData, "splunk"), "ldt:edge-0001")
	osDocs := reviewWaitDocs(t, srv, "ldt:edge-0001", 0)
	ev := reviewJSON(t, []byte(arch[0]))
	top, _ := ev["event"].(map[string]any)
	if len(siem) != 1 || len(osDocs) != 0 {
		t.Errorf("a P1 Falcon detection collected by the edge (header %s) reached the SIEM %d times and OpenSearch %d times at the gateway, want SIEM once and OpenSearch never (sent directly it goes to the SIEM); event.action at the top level: %v\nas archived: %s",
			hdr, len(siem), len(osDocs), top["action"], arch[0])
	}
	if cs, _ := ev["crowdstrike"].(map[string]any); cs != nil {
		if inner, _ := cs["event"].(map[string]any); inner != nil {
			for _, k := range []string{"dataset", "ingested", "module", "action"} {
				if _, ok := inner[k]; ok {
					t.Errorf("the edge's event.%s was moved under crowdstrike.event.%s at the gateway (double-nested metadata)", k, k)
				}
			}
		}
	}
}
