package httpin

// Review faults of the HEC receiver against real shippers, kept as tests once fixed (SOC migration from
// Splunk HEC): the request size limit against the OpenTelemetry
// Collector's splunk_hec exporter, which bounds its requests after gzip.

import (
	"bytes"
	"fmt"
	"math/rand"
	"net/http"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// TestHECOTelGzipBatchOverMaxBody: the OpenTelemetry Collector's
// `splunk_hec` exporter (opentelemetry-collector-contrib
// exporter/splunkhecexporter) gzips by default (`disable_compression:
// false`, factory.go) and fills each request up to
// `max_content_length_logs`, 2 MiB by default (defaultContentLengthLogsLimit),
// measured on the COMPRESSED buffer: cancellableGzipWriter.Write
// (buffer.go) refuses a write only when `innerBuffer.Len()` (gzip output)
// would pass maxCapacity. Log batches compress 5-15x, so one request
// routinely carries 10-30 MiB of JSON. Splunk Enterprise takes it
// (limits.conf [http_input] max_content_length defaults to 838860800,
// 800 MiB). The exporter's answer handling (internal/splunk
// HandleHTTPCode) makes every status but 2xx/400/401(/403), 429 and 503 a
// plain retryable error: a 413 is retried with backoff until the
// exporter's `retry_on_failure.max_elapsed_time` (300 s by default, which
// the docs/shippers.md snippet keeps) and the batch is then dropped
// ("Exporting failed. Dropping data."); with max_elapsed_time 0 it is
// retried for ever and the queue behind it stalls. Every retry is the
// same oversized body, so it can never succeed.
//
// logrouter applies inputs.http.max_body_bytes (10 MiB by default) to
// the decompressed body (readBody, body.go) and answers 413 code 6, so a
// default-configured exporter loses every batch that compresses better
// than 5:1, i.e. most of them. docs/shippers.md gives the splunk_hec
// snippet without mentioning max_content_length_logs or max_body_bytes
// (it does warn about the same mismatch for Vector's and Logstash's
// elasticsearch outputs).
//
// Expected: a request the exporter sends with its defaults (at most 2 MiB
// on the wire) is accepted and its events delivered; e.g. the limit bounds
// what is read from the wire for compressed bodies, with the decompressed
// bound (and max_inflight_bytes) set high enough for what such a body
// legitimately inflates to.
func TestHECOTelGzipBatchOverMaxBody(t *testing.T) {
	const otelMaxContentLengthLogs = 2 * 1024 * 1024 // defaultContentLengthLogsLimit

	// Kubernetes container logs as the exporter writes them
	// (mapLogRecordToSplunkEvent: time in seconds with milliseconds,
	// host, source, sourcetype, index, the body as event, resource and
	// record attributes as fields), concatenated without separators.
	rng := rand.New(rand.NewSource(1))
	paths := []string{"/api/v1/orders", "/api/v1/cart", "/login", "/api/v1/search", "/healthz", "/api/v2/payments"}
	users := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	// 8192 records: the batch processor's default send_batch_size, the
	// usual batch a Collector pipeline hands the exporter.
	const n = 8192
	var raw bytes.Buffer
	for i := 1; i <= n; i++ {
		ms := 1764331200000 + int64(i)*7
		fmt.Fprintf(&raw, `{"time":%d.%03d,"host":"ip-10-0-%d-%d.ec2.internal","source":"/var/log/pods/shop_checkout-7d9f8c6b5-%05x/checkout/0.log","sourcetype":"kube:container:checkout","index":"k8s","event":`,
			ms/1000, ms%1000, rng.Intn(4), rng.Intn(250), rng.Intn(1<<20))
		fmt.Fprintf(&raw, `"{\"ts\":\"2025-11-28T12:00:%02d.%03dZ\",\"level\":\"%s\",\"logger\":\"com.shop.checkout.http.RequestLogger\",\"msg\":\"request completed\",\"method\":\"%s\",\"path\":\"%s\",\"status\":%d,\"duration_ms\":%d,\"user\":\"%s\",\"request_id\":\"%016x\",\"trace_id\":\"%032x\",\"client_ip\":\"10.%d.%d.%d\",\"user_agent\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\"}"`,
			i%60, i%1000, []string{"INFO", "INFO", "INFO", "WARN", "ERROR"}[rng.Intn(5)], []string{"GET", "POST"}[rng.Intn(2)],
			paths[rng.Intn(len(paths))], []int{200, 200, 200, 201, 404, 500}[rng.Intn(6)], rng.Intn(900), users[rng.Intn(len(users))],
			rng.Uint64(), rng.Uint64(), rng.Intn(256), rng.Intn(256), rng.Intn(256))
		fmt.Fprintf(&raw, `,"fields":{"k8s.cluster.name":"prod-eu-west-1","k8s.namespace.name":"shop","k8s.pod.name":"checkout-7d9f8c6b5-%05x","k8s.container.name":"checkout","k8s.node.name":"ip-10-0-%d-%d.ec2.internal","container.image.name":"registry.example.com/shop/checkout","container.image.tag":"2025.11.3","log.iostream":"stdout","logtag":"F","service.name":"checkout","service.version":"2025.11.3","deployment.environment":"production","cloud.provider":"aws","cloud.region":"eu-west-1","cloud.availability_zone":"eu-west-1%c","host.id":"i-%017x","os.type":"linux","k8s.deployment.name":"checkout","k8s.replicaset.name":"checkout-7d9f8c6b5","otel.log.severity.text":"INFO","otel.log.severity.number":9}}`,
			rng.Intn(1<<20), rng.Intn(4), rng.Intn(250), 'a'+rng.Intn(3), rng.Uint64()>>4)
	}
	if raw.Len() <= 10<<20 {
		t.Fatalf("test body is %d bytes, not over the old default max_body_bytes (10 MiB)", raw.Len())
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz) // compress/gzip default level, as the exporter's gzip.NewWriter
	_, _ = zw.Write(raw.Bytes())
	_ = zw.Close()
	if gz.Len() > otelMaxContentLengthLogs {
		t.Fatalf("test body compresses to %d bytes, over the exporter's %d: it would have split it", gz.Len(), otelMaxContentLengthLogs)
	}
	t.Logf("%d events, %d bytes of JSON, %d bytes gzipped (%.1fx)", n, raw.Len(), gz.Len(), float64(raw.Len())/float64(gz.Len()))

	f := newFixture(t, Config{}, nil)
	w := f.do("POST", "/services/collector/event", "", gz.String(),
		"Content-Encoding", "gzip", "Content-Type", "application/json")
	if w.Code != http.StatusOK {
		t.Fatalf("a %d-byte gzip body (within the exporter's default max_content_length_logs of %d) = %d %s; the exporter retries a 413 until max_elapsed_time (5 min) and then drops the batch",
			gz.Len(), otelMaxContentLengthLogs, w.Code, w.Body)
	}
	if got := len(f.rec.Events()); got != n {
		t.Errorf("%d events delivered, want %d", got, n)
	}
}
