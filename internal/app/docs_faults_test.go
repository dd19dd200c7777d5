package app

// Fault tests from a review of the docs against the code: each failed
// before its fix (the comments describe what was found).

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
)

// TestBeatsAndLogstashCanConnect: docs/shippers.md:101-119 gives a
// Filebeat/Winlogbeat/Auditbeat output.elasticsearch configuration for the
// HTTP input, and README.md:28 ("Elasticsearch bulk, as Beats/Logstash/Fluent
// Bit/Vector send it"), docs/configuration.md:104 (es_version "announced on
// GET / for Beats/Logstash/Vector") and config.example.yaml:28 ("POST /_bulk
// ... (Beats, Logstash, Fluent Bit, Vector)") promise that Beats and
// Logstash can send to it.
//
// Both read GET /_license before they send anything, and give up on a host
// that does not answer it:
//   - Beats since 7.13 register licenser.FetchAndVerify as a global connect
//     callback of the elasticsearch output (libbeat/cmd/root.go, "Check we
//     are actually talking with Elasticsearch"); a failed GET /_license is
//     "Connection marked as failed because the onConnect callback failed:
//     could not connect to a compatible version of Elasticsearch"
//     (elastic/beats#25865), and the Beat retries forever without sending.
//   - logstash-output-elasticsearch (http_client/pool.rb healthcheck!, then
//     license_checker.rb appropriate_license?) marks a host dead when its
//     GET /_license body has no license.status, logging "Could not connect
//     to a compatible version of Elasticsearch".
//
// The router answers HEAD / and GET / like an ES 8 node (product header
// included) but 404 to GET /_license, so neither ever sends a _bulk.
//
// Expected: GET /_license (with the sender's credentials) answers 200 with
// {"license":{"status":"active","type":...}}, or the documentation stops
// offering Beats and Logstash as _bulk senders.
func TestBeatsAndLogstashCanConnect(t *testing.T) {
	h := newHarness(t)
	defer h.stop()
	// shippers.md:106-107: any user name, the token as the password.
	auth := "Basic " + basic("beats", "s3cret")

	do := func(method, path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, h.base+path, nil)
		req.Header.Set("Authorization", auth)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}

	// 1. Logstash pool.rb health_check_request: HEAD / (healthcheck_path "/").
	if res, body := do(http.MethodHead, "/"); res.StatusCode/100 != 2 {
		t.Fatalf("HEAD /: %d %s", res.StatusCode, body)
	}
	// 2. Beats eslegclient Ping and Logstash pool.rb get_root_path +
	// elasticsearch?: the version and the product header.
	res, body := do(http.MethodGet, "/")
	if res.StatusCode != 200 || res.Header.Get("X-Elastic-Product") != "Elasticsearch" || !strings.Contains(body, `"number":"8.`) {
		t.Fatalf("GET /: %d %v %s", res.StatusCode, res.Header, body)
	}
	// 3. Beats licenser.FetchAndVerify, Logstash license_checker.rb:
	// GET /_license must answer a license.
	res, body = do(http.MethodGet, "/_license")
	var lic struct {
		License struct {
			Status string `json:"status"`
		} `json:"license"`
	}
	if res.StatusCode != 200 || json.Unmarshal([]byte(body), &lic) != nil || lic.License.Status != "active" {
		t.Fatalf("GET /_license answered %d %q: Beats (\"could not connect to a compatible version of Elasticsearch\") and Logstash's elasticsearch output "+
			"(host marked dead) never send a _bulk, although docs/shippers.md:101-119 configures Beats for it and README.md:28, "+
			"docs/configuration.md:104 and config.example.yaml:28 list Beats and Logstash as senders",
			res.StatusCode, strings.TrimSpace(body))
	}
}

// TestTokenNameInMetrics: config.example.yaml:36-38 says of
// inputs.http.tokens: "The name is what metrics and the logrouter.token
// field show". logrouter.token carries it, but no series of /metrics has a
// token label or value (logrouter_http_requests_total is
// {input,protocol,code}; README.md:166-176 lists no token label either), so
// a SOC engineer cannot see per-token traffic as the comment says.
//
// Expected: some series of /metrics carries the token's name after a
// request authenticated with it, or the comment stops promising it.
func TestTokenNameInMetrics(t *testing.T) {
	h := newHarness(t)
	defer h.stop()
	// team-a is the name of the token "s3cret" in the harness.
	got := h.post("/services/collector/event", "Splunk s3cret", "", `{"event":{"msg":"from team a"}}`)
	expect(t, "hec", got, 200, `"code":0`)
	metrics := scrape(t, "http://"+h.app.AdminAddr()+"/metrics")
	if !strings.Contains(metrics, `"team-a"`) {
		var series []string
		for _, l := range strings.Split(metrics, "\n") {
			if strings.HasPrefix(l, "logrouter_http_requests_total") || strings.HasPrefix(l, "logrouter_input_events_total") {
				series = append(series, l)
			}
		}
		t.Errorf("config.example.yaml:37-38 says a token's name is what metrics show; no series of /metrics carries the token name %q after a request with it:\n%s",
			"team-a", strings.Join(series, "\n"))
	}
}

// TestShipperTLSEndpointsMatchTheListener: docs/shippers.md:16-17
// gives the "Ports of the embedded defaults: HTTP 8088", and its HTTP
// snippets connect to that port with TLS: Fluent Bit's splunk output
// "TLS On" (shippers.md:61), Vector "https://logrouter.example:8088"
// (:89), Beats "https://logrouter.example:8088" (:105), the OpenTelemetry
// Collector "https://logrouter.example:8088/services/collector/event"
// (:127). No configuration the project ships serves HTTPS on 8088: not the
// embedded config.example.yaml, not docs/examples/production.yaml, not the
// gateway or edge manifests (inputs.http has no tls_cert_file), and
// shippers.md never says that inputs.http.tls_cert_file/tls_key_file must
// be set. A shipper configured as shown fails its TLS handshake.
//
// Expected: the page's TLS snippets work against the listener it
// describes: either it tells the reader to set inputs.http.tls_cert_file
// (and the test stops here), or its snippets use plain HTTP like the
// default listener, or the default listener speaks TLS.
func TestShipperTLSEndpointsMatchTheListener(t *testing.T) {
	doc, err := os.ReadFile("../../docs/shippers.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	if strings.Contains(text, "tls_cert_file") {
		return // the page tells the reader to enable TLS on the HTTP input
	}
	// Snippets that speak TLS to port 8088, with their lines.
	var tlsSnippets []string
	for i, l := range strings.Split(text, "\n") {
		if regexp.MustCompile(`https://[^"\s]*:8088`).MatchString(l) || regexp.MustCompile(`^\s*TLS\s+On\s*$`).MatchString(l) {
			tlsSnippets = append(tlsSnippets, fmt.Sprintf("docs/shippers.md:%d: %s", i+1, strings.TrimSpace(l)))
		}
	}
	if len(tlsSnippets) == 0 {
		return
	}

	// The router as the embedded configuration runs it (its HTTP input on
	// a free port instead of :8088, its data under a temporary directory).
	example, err := filepath.Abs("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	for _, v := range []string{"LOGROUTER_HTTP_ADDR", "LOGROUTER_ADMIN_ADDR", "LOGROUTER_SYSLOG_UDP_ADDR", "LOGROUTER_SYSLOG_TCP_ADDR", "LOGROUTER_OTLP_GRPC_ADDR"} {
		t.Setenv(v, "127.0.0.1:0")
	}
	cfg, err := config.Load(example)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Log.Level = "error"
	a := startApp(t, cfg)
	defer stopApp(t, a)

	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", a.HTTPAddr(), &tls.Config{InsecureSkipVerify: true})
	if err == nil {
		conn.Close()
		return
	}
	t.Errorf("a shipper configured as docs/shippers.md shows cannot connect: a TLS handshake with the HTTP input of the embedded configuration fails (%v), "+
		"and the page never says to set inputs.http.tls_cert_file/tls_key_file:\n  %s", err, strings.Join(tlsSnippets, "\n  "))
}
