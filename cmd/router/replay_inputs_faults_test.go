package main

// Fault tests from a review of quarantine replay (inputs whose records are
// rejected for a cause an operator fixes, then replayed): each failed on
// the code as reviewed because of the fault its comment describes. Those
// that still skip name a fault that is open (see their t.Skip).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/logrouter/logrouter/internal/app"
	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/pipeline/ingest/kafkain"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/sinks/file"
	kafkasink "github.com/logrouter/logrouter/sinks/kafka"
	"github.com/logrouter/logrouter/sinks/quarantine"
	"github.com/logrouter/logrouter/sinks/s3"
)

// faultsReplayRouter starts a router like startReplayRouterWith, on the data
// directory data (so that a second router can take over the first one's
// quarantine, as after a restart with a fixed configuration). maxFields
// > 0 sets normalize.max_fields. stop shuts it down (also at cleanup).
func faultsReplayRouter(t *testing.T, data string, maxFields int, edit func(*config.Config)) (a *app.App, cfg *config.Config, stop func()) {
	t.Helper()
	cfg = &config.Config{
		Log:    config.Log{Level: "error", Format: "text"},
		Admin:  config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{HTTP: &httpin.Config{Address: "127.0.0.1:0"}},
		Destinations: []config.Destination{
			{Name: "archive", Type: "archive_dir", ArchiveDir: &s3.Config{Dir: filepath.Join(data, "archive")}},
			{Name: "siem", Type: "file", File: &file.Config{Dir: filepath.Join(data, "siem")}},
		},
		Routing: config.Routing{P1: []string{"siem"}, All: []string{"archive"}},
	}
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Queue.Dir = filepath.Join(data, "queue")
	if maxFields > 0 {
		d := normalize.DefaultConfig()
		d.MaxFields = maxFields
		cfg.Normalize = &d
	}
	if edit != nil {
		edit(cfg)
	}
	cfg.SetDefaults()
	rulesDir, _ := filepath.Abs("../../rules")
	a, err := app.New(cfg, app.RulesFor(&config.Config{Rules: config.Rules{Dir: rulesDir}}, "/"),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = a.Shutdown(ctx)
		})
	}
	t.Cleanup(stop)
	return a, cfg, stop
}

// faultsReplayCloudWatch is a Firehose request carrying one CloudWatch Logs
// subscription message (gzip, base64, as CloudWatch sends it) with one log
// event whose message is a JSON object of eleven members and no time of
// its own.
func faultsReplayCloudWatch(t *testing.T, marker string) string {
	t.Helper()
	msg := `{"level":"error","msg":"payment declined ` + marker + `","svc":"payments","route":"/v1/charge","code":402,` +
		`"user":"u-17","card":"visa","region":"eu-west-1","trace":"t-9","span":"s-3","retry":false}`
	cw, _ := json.Marshal(map[string]any{
		"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/payments",
		"logStream": "2026/11/28/[$LATEST]abcdef", "subscriptionFilters": []string{"all"},
		"logEvents": []map[string]any{{"id": "1", "timestamp": int64(1764331200000), "message": msg}},
	})
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write(cw)
	_ = zw.Close()
	return `{"requestId":"req-` + marker + `","timestamp":1764331201000,"records":[{"data":"` + base64.StdEncoding.EncodeToString(z.Bytes()) + `"}]}`
}

func faultsReplayPostFirehose(t *testing.T, addr, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/firehose", strings.NewReader(body))
	req.Header.Set("X-Amz-Firehose-Request-Id", "req-1")
	req.Header.Set("X-Amz-Firehose-Common-Attributes", `{"commonAttributes":{"sourcetype":"aws.lambda","index":"payments"}}`)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestReplayFirehoseCloudWatchReplayKeepsTheLogEvent
//
// What is wrong: the Firehose input makes of a CloudWatch Logs log event an
// event with the log group as logrouter.source, the log stream and the
// account as labels (log_stream, cloud_account_id) and, for a JSON message
// without a time of its own, the log event's timestamp as @timestamp
// (firehoseRequest.cloudWatch: EventMeta Source, Fields, DefaultTime). A
// message it refuses (here too_many_fields, under a low normalize.max_fields
// later raised: "re-send quarantined records once the cause is fixed") is
// quarantined with raw = the message alone and only the stream's
// attributes as defaults (request.reject: DefaultSourceType, DefaultIndex).
// Replay then makes of it a plain event: no logrouter.source, no labels,
// and the replay's clock as @timestamp: which Lambda, which account and
// when are gone.
//
// Expected: the replayed event equals the event the router makes of the
// same log event accepted directly (the control, on the same fixed
// router): README POST /firehose: "CloudWatch Logs subscription messages
// split into their log events"; httpin's doc: "the log group as
// logrouter.source, the stream and account as labels", "the log event's
// timestamp standing in when it has none"; docs/configuration.md#quarantine:
// a replay applies what the record would have had "so the record maps and
// routes as it would have".
func TestReplayFirehoseCloudWatchReplayKeepsTheLogEvent(t *testing.T) {
	data := t.TempDir()

	// The first router refuses the log event (max_fields too low).
	a1, cfg, stop1 := faultsReplayRouter(t, data, 6, nil)
	if code, body := faultsReplayPostFirehose(t, a1.HTTPAddr(), faultsReplayCloudWatch(t, "rv4cw-replayed")); code != 200 {
		t.Fatalf("firehose: %d %s", code, body)
	}
	if _, ok := waitQuarantined(cfg.Quarantine.Dir, 3*time.Second, func(r quarantine.Record) bool {
		return bytes.Contains(r.Raw, []byte("rv4cw-replayed"))
	}); !ok {
		t.Fatal("the log event was not quarantined")
	}
	stop1()

	// Fixed (default max_fields): the control, then the replay.
	a2, cfg2, _ := faultsReplayRouter(t, data, 0, nil)
	archDir := filepath.Join(data, "archive")
	if code, body := faultsReplayPostFirehose(t, a2.HTTPAddr(), faultsReplayCloudWatch(t, "rv4cw-direct")); code != 200 {
		t.Fatalf("control: %d %s", code, body)
	}
	direct, ok := faultsReplayWait(archDir, "rv4cw-direct")
	if !ok {
		t.Fatal("control: the log event sent to the fixed router was not archived")
	}
	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a2.AdminAddr(), []string{cfg2.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	replayed, ok := faultsReplayWait(archDir, "rv4cw-replayed")
	if !ok {
		t.Fatalf("the replayed log event was not archived (replay said: %s)", strings.TrimSpace(out.String()))
	}
	for _, f := range []string{"@timestamp", "logrouter.source", "labels.log_stream", "labels.cloud_account_id", "labels.log_event_id", "event.dataset", "logrouter.index"} {
		want, got := faultsReplayField(t, direct, f), faultsReplayField(t, replayed, f)
		if want == nil {
			t.Fatalf("control lacks %s: %.800s", f, direct)
		}
		if got != want {
			t.Errorf("replayed log event's %s = %v, want %v as the log event accepted directly", f, got, want)
		}
	}
	if t.Failed() {
		t.Logf("direct:   %.800s\nreplayed: %.800s", direct, replayed)
	}
}

// TestReplaySyslogReplayParsesAsSyslog
//
// What is wrong: the syslog input parses a message (RFC 5424/3164 header:
// the sender's host, the app, the header's time; a JSON payload as fields;
// app_source_types) before normalizing it. A message it refuses (here
// too_many_fields under a low normalize.max_fields, later raised) is
// quarantined with the frame as raw, and nothing says it is syslog but the
// protocol ("syslog-tcp"); the syslog reject does not even keep the input's
// source_type as default_source_type (syslog stream.reject). Replay sends
// it to POST /admin/replay, which normalizes each line as an /ingest line:
// the frame is not a JSON object, so the whole "<134>1 2026-... fw-rv4 ..."
// line becomes "message" of a text event: no host.hostname (the sender), no
// header time (@timestamp is the replay's clock), no payload fields, no
// source type: it no longer matches the rules the message would have.
//
// Expected: the replayed event equals what the syslog input makes of the
// same frame accepted directly (the control, on the fixed router): the
// sender (host.hostname) and app (process.name) from the header, @timestamp
// from the header, the payload's fields, the input's source type (README: "a replayed record" is sent "once the cause is fixed", input
// records keep "their token's or topic's source type"; the input docs:
// "RFC 5424, RFC 3164 ... JSON ... payloads as fields";
// docs/configuration.md#quarantine: a replay applies what the record would
// have had "so the record maps and routes as it would have").
func TestReplaySyslogReplayParsesAsSyslog(t *testing.T) {
	data := t.TempDir()
	withSyslog := func(c *config.Config) {
		c.Inputs.Syslog = &syslog.Config{TCP: &syslog.TCPConfig{Address: "127.0.0.1:0"}, SourceType: "fw.rv4"}
	}
	frame := func(marker string) string {
		return `<134>1 2026-11-28T10:00:00Z fw-rv4 filterlog 4242 - - {"action":"block","src":"203.0.113.9","dst":"10.0.0.5",` +
			`"dport":22,"proto":"tcp","rule":"77","iface":"wan","dir":"in","len":60,"note":"` + marker + `"}`
	}
	send := func(a *app.App, msg string) {
		_, tcp, _ := a.SyslogAddrs()
		conn, err := net.Dial("tcp", tcp)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(conn, msg+"\n")
		conn.Close()
	}

	a1, cfg, stop1 := faultsReplayRouter(t, data, 6, withSyslog)
	send(a1, frame("rv4sys-replayed"))
	if _, ok := waitQuarantined(cfg.Quarantine.Dir, 5*time.Second, func(r quarantine.Record) bool {
		return bytes.Contains(r.Raw, []byte("rv4sys-replayed"))
	}); !ok {
		t.Fatal("the syslog message was not quarantined")
	}
	stop1()

	a2, cfg2, _ := faultsReplayRouter(t, data, 0, withSyslog)
	archDir := filepath.Join(data, "archive")
	send(a2, frame("rv4sys-direct"))
	direct, ok := faultsReplayWait(archDir, "rv4sys-direct")
	if !ok {
		t.Fatal("control: the message sent to the fixed router was not archived")
	}
	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a2.AdminAddr(), []string{cfg2.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	replayed, ok := faultsReplayWait(archDir, "rv4sys-replayed")
	if !ok {
		t.Fatalf("the replayed message was not archived (replay said: %s)", strings.TrimSpace(out.String()))
	}
	for _, f := range []string{"host.hostname", "process.name", "@timestamp", "event.dataset", "action"} {
		want, got := faultsReplayField(t, direct, f), faultsReplayField(t, replayed, f)
		if want == nil {
			t.Fatalf("control lacks %s: %.800s", f, direct)
		}
		if got != want {
			t.Errorf("replayed syslog message's %s = %v, want %v as the message accepted directly", f, got, want)
		}
	}
	if t.Failed() {
		t.Logf("direct:   %.800s\nreplayed: %.800s", direct, replayed)
	}
}

// TestReplayKafkaEdgeRecordReplayedAsEdgeEvent
//
// What is wrong: a record a logrouter edge wrote to Kafka (its kafka
// destination sets the logrouter-priority header) is an event the edge
// already normalized: the gateway keeps its logrouter member (the edge's
// token, index, input) and applies no source profile again
// (kafkain: fromLogrouter -> EventMeta{KeepOwnLogrouter, Normalized};
// normalize.EventMeta.Normalized: "applying them to the result moves its
// ECS objects ... and the detection missed its P1 rule"). When the
// gateway refuses such a record (here too_many_fields under a low
// normalize.max_fields, later raised), the quarantine record keeps the
// value and the topic's source type only: nothing says it came from an
// edge (the headers are not kept). Replay normalizes it as a fresh event:
// its logrouter member is dropped (logrouter.index "edr" and the edge's
// token are gone) and the crowdstrike.falcon profile runs a second time
// on the already-mapped event.
//
// Expected: the replayed record becomes the event the gateway makes of the
// same edge record accepted directly (the control): same logrouter.index,
// same priority (the SIEM gets it), same fields (README: Kafka in,
// "edge -> Kafka -> gateway scale-out"; "input records keep their token's
// or topic's source type and index"; docs/configuration.md#quarantine: a
// replay applies what the record would have had "so the record maps and
// routes as it would have").
func TestReplayKafkaEdgeRecordReplayedAsEdgeEvent(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "edge-logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	broker := cluster.ListenAddrs()[0]

	// The edge: two Falcon detections through a token with an index, as
	// the edge writes them (normalized, logrouter member included).
	edgeData := t.TempDir()
	edge, _, stopEdge := faultsReplayRouter(t, edgeData, 0, func(c *config.Config) {
		c.Inputs.HTTP.Tokens = []httpin.Token{{Name: "falcon", Token: "falcon-token-rv4", SourceType: "crowdstrike.falcon", Index: "edr"}}
	})
	edgeEvents := map[string]string{}
	for _, id := range []string{"ldt:rv4edge:replayed", "ldt:rv4edge:direct"} {
		if code, body := faultsReplayPost(t, edge.HTTPAddr(), "/services/collector/event", "Splunk falcon-token-rv4", reviewFalconHEC(id)); code != 200 {
			t.Fatalf("edge: %d %s", code, body)
		}
		l, ok := faultsReplayWait(filepath.Join(edgeData, "siem"), id)
		if !ok {
			t.Fatal("edge: the detection was not delivered")
		}
		edgeEvents[id] = l
	}
	stopEdge()
	if faultsReplayField(t, edgeEvents["ldt:rv4edge:direct"], "logrouter.index") != "edr" {
		t.Fatalf("edge event without logrouter.index: %.600s", edgeEvents["ldt:rv4edge:direct"])
	}
	produceEdge := func(v string) {
		tr := &kafkago.Transport{}
		defer tr.CloseIdleConnections()
		w := &kafkago.Writer{Addr: kafkago.TCP(broker), Topic: "edge-logs", RequiredAcks: kafkago.RequireAll, BatchTimeout: 5 * time.Millisecond, Transport: tr}
		defer w.Close()
		if err := w.WriteMessages(context.Background(), kafkago.Message{Value: []byte(v),
			Headers: []kafkago.Header{{Key: kafkasink.HeaderPriority, Value: []byte("P1")}}}); err != nil {
			t.Fatal(err)
		}
	}
	withKafka := func(c *config.Config) {
		c.Inputs.HTTP = nil
		c.Inputs.Kafka = &kafkain.Config{Brokers: []string{broker}, GroupID: "gateways", Topics: []kafkain.Topic{{Name: "edge-logs"}},
			BatchWait: 20 * time.Millisecond, CommitInterval: 50 * time.Millisecond, MaxMessageBytes: 64 << 10,
			SessionTimeout: 6 * time.Second, RebalanceTimeout: 6 * time.Second, HeartbeatInterval: 500 * time.Millisecond}
	}

	// The gateway refuses the first record.
	data := t.TempDir()
	_, cfg, stop1 := faultsReplayRouter(t, data, 10, withKafka)
	produceEdge(edgeEvents["ldt:rv4edge:replayed"])
	if _, ok := waitQuarantined(cfg.Quarantine.Dir, 30*time.Second, func(r quarantine.Record) bool {
		return bytes.Contains(r.Raw, []byte("ldt:rv4edge:replayed"))
	}); !ok {
		t.Fatal("the gateway did not quarantine the edge record")
	}
	stop1()

	// Fixed: the control through Kafka, then the replay.
	a2, cfg2, _ := faultsReplayRouter(t, data, 0, withKafka)
	produceEdge(edgeEvents["ldt:rv4edge:direct"])
	siemDir := filepath.Join(data, "siem")
	var direct string
	var ok bool
	for deadline := time.Now().Add(30 * time.Second); !ok && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		direct, ok = reviewDirHas(siemDir, "ldt:rv4edge:direct")
	}
	if !ok {
		t.Fatal("control: the gateway did not deliver the edge record to the SIEM")
	}
	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a2.AdminAddr(), []string{cfg2.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	replayed, ok := faultsReplayWait(filepath.Join(data, "archive"), "ldt:rv4edge:replayed")
	if !ok {
		t.Fatalf("the replayed record was not archived (replay said: %s)", strings.TrimSpace(out.String()))
	}
	if _, ok := faultsReplayWait(siemDir, "ldt:rv4edge:replayed"); !ok {
		t.Errorf("the replayed edge detection never reached the SIEM (it is P1 when accepted directly)")
	}
	for _, f := range []string{"logrouter.index", "event.dataset", "event.action", "event.kind"} {
		if want, got := faultsReplayField(t, direct, f), faultsReplayField(t, replayed, f); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("replayed edge record's %s = %v, want %v as the record accepted directly", f, got, want)
		}
	}
	if t.Failed() {
		t.Logf("direct:   %.900s\nreplayed: %.900s", direct, replayed)
	}
}

// TestReplayFirehosePrettyPrintedRecordReplayedAsOneEvent
//
// What is wrong: the Firehose input takes a record holding one JSON
// document, pretty-printed or not, as one event (handleFirehose's doc: "A
// record holding one JSON document (pretty-printed or not) is one event";
// firehoseRequest.record parses the whole payload first). When it refuses
// that event (here too_many_fields under a low normalize.max_fields, later
// raised), the quarantine record's raw is the whole document, newlines
// included. Replay sends it to POST /admin/replay, which takes each LINE
// as an event (handleReplay: readLine, addRaw): "{", `  "level": "error",`,
// ... each becomes a text event of its own. One record comes back as a
// dozen junk events in every destination, and the document itself never
// arrives; the CLI reports the record replayed and never sends it again.
//
// Expected: the record replays as the one event it would have been
// (handleFirehose's doc above; README: "each record once";
// docs/configuration.md#quarantine: "so the record maps and routes as it
// would have").
func TestReplayFirehosePrettyPrintedRecordReplayedAsOneEvent(t *testing.T) {
	doc := func(marker string) string {
		v := map[string]any{"level": "error", "msg": "payment declined " + marker, "svc": "payments", "route": "/v1/charge",
			"code": 402, "user": "u-17", "card": "visa", "region": "eu-west-1", "trace": "t-9", "span": "s-3"}
		b, _ := json.MarshalIndent(v, "", "  ")
		return `{"requestId":"req-` + marker + `","timestamp":1764331201000,"records":[{"data":"` + base64.StdEncoding.EncodeToString(b) + `"}]}`
	}
	data := t.TempDir()
	a1, cfg, stop1 := faultsReplayRouter(t, data, 6, nil)
	if code, body := faultsReplayPostFirehose(t, a1.HTTPAddr(), doc("rv4pp-replayed")); code != 200 {
		t.Fatalf("firehose: %d %s", code, body)
	}
	if _, ok := waitQuarantined(cfg.Quarantine.Dir, 3*time.Second, func(r quarantine.Record) bool {
		return bytes.Contains(r.Raw, []byte("rv4pp-replayed"))
	}); !ok {
		t.Fatal("the record was not quarantined")
	}
	stop1()

	a2, cfg2, _ := faultsReplayRouter(t, data, 0, nil)
	archDir := filepath.Join(data, "archive")
	if code, body := faultsReplayPostFirehose(t, a2.HTTPAddr(), doc("rv4pp-direct")); code != 200 {
		t.Fatalf("control: %d %s", code, body)
	}
	direct, ok := faultsReplayWait(archDir, "rv4pp-direct")
	if !ok || faultsReplayField(t, direct, "svc") != "payments" {
		t.Fatalf("control: the record sent to the fixed router is not one event with its fields: %.500s", direct)
	}
	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a2.AdminAddr(), []string{cfg2.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	if _, ok := faultsReplayWait(archDir, "rv4pp-replayed"); !ok {
		t.Fatalf("nothing of the replayed record was archived (replay said: %s)", strings.TrimSpace(out.String()))
	}
	// Every archived event from the replay (logrouter.input replay).
	var events []string
	for _, f := range faultsReplayFiles(archDir) {
		for _, l := range strings.Split(f, "\n") {
			if strings.Contains(l, `"input":"replay"`) {
				events = append(events, l)
			}
		}
	}
	if len(events) != 1 || faultsReplayField(t, events[0], "svc") != "payments" {
		ex := ""
		if len(events) > 0 {
			ex = events[0]
		}
		t.Errorf("the one quarantined record was replayed as %d events (want 1, with its fields as accepted directly), e.g. %.300s", len(events), ex)
	}
}
