package opensearch

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/logrouter/logrouter/pipeline"
)

func TestConfigDefaultsAndYAML(t *testing.T) {
	var c Config
	err := yaml.Unmarshal([]byte(`
urls: ["https://os-1:9200", "https://os-2:9200"]
username: logrouter
password: s3cret
tls: {ca_file: /etc/ca.pem, insecure_skip_verify: false}
bootstrap: {enabled: true, ism_policy: logs-30d}
request_timeout: 30s
`), &c)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Index != DefaultIndex || c.OpType != OpCreate || c.BulkBytes != 5<<20 || c.MaxConcurrentRequests != 4 ||
		!*c.Gzip || c.RequestTimeout != 30*time.Second || c.Bootstrap.TemplateName != "logrouter" ||
		c.Bootstrap.IndexPatterns[0] != "logs-*" || c.TLS.CAFile != "/etc/ca.pem" {
		t.Fatalf("defaults: %+v", c)
	}
	if c.IndexDateMaxAge != 7*24*time.Hour || c.IndexDateMaxFuture != time.Hour || c.MaxIndexSourceTypes != 200 {
		t.Fatalf("index limits defaults: %s %s %d", c.IndexDateMaxAge, c.IndexDateMaxFuture, c.MaxIndexSourceTypes)
	}
	var lim Config
	if err := yaml.Unmarshal([]byte("urls: [http://x:9200]\nindex_date_max_age: 720h\nindex_date_max_future: 10m\nmax_index_source_types: 50\n"), &lim); err != nil {
		t.Fatal(err)
	}
	lim.SetDefaults()
	if err := lim.Validate(); err != nil || lim.IndexDateMaxAge != 720*time.Hour || lim.IndexDateMaxFuture != 10*time.Minute || lim.MaxIndexSourceTypes != 50 {
		t.Fatalf("index limits from yaml: %v %+v", err, lim)
	}
	if len(c.Headers) != 0 {
		t.Fatalf("headers default: %v", c.Headers)
	}
	var h Config
	if err := yaml.Unmarshal([]byte("urls: [http://x:9428/insert/elasticsearch]\nheaders: {VL-Msg-Field: message, VL-Time-Field: \"@timestamp\", X-Tab: \"a\\tb\"}\n"), &h); err != nil {
		t.Fatal(err)
	}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(h.Headers) != 3 || h.Headers["VL-Msg-Field"] != "message" || h.Headers["VL-Time-Field"] != "@timestamp" || h.Headers["X-Tab"] != "a\tb" {
		t.Fatalf("headers: %q", h.Headers)
	}
	var off Config
	if err := yaml.Unmarshal([]byte("urls: [http://x:9200]\ngzip: false\n"), &off); err != nil {
		t.Fatal(err)
	}
	off.SetDefaults()
	if *off.Gzip {
		t.Fatal("gzip: false was overridden by the default")
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{}, `"urls" is required`},
		{Config{URLs: []string{"os-1:9200"}}, `"urls[0]"`},
		{Config{URLs: []string{"https://u:p@os-1:9200"}}, `move them to "username"`},
		{Config{URLs: []string{"http://x"}, Username: "u"}, `"username" and "password" go together`},
		{Config{URLs: []string{"http://x"}, AWSSigV4: &AWSSigV4Config{}}, `"aws_sigv4.region" is required`},
		{Config{URLs: []string{"http://x"}, AWSSigV4: &AWSSigV4Config{Region: "eu-west-1", Service: "s3"}}, `"aws_sigv4.service"`},
		{Config{URLs: []string{"http://x"}, TLS: &TLSConfig{CertFile: "c.pem"}}, `"key_file"`},
		{Config{URLs: []string{"http://x"}, Index: "Logs-{source_type}"}, `must be lower case`},
		{Config{URLs: []string{"http://x"}, Index: "logs-{sourcetype}"}, `is not a placeholder`},
		{Config{URLs: []string{"http://x"}, Index: "logs-{yyyy.MM.dd"}, `without "}"`},
		{Config{URLs: []string{"http://x"}, Index: "_logs"}, `must not start with`},
		{Config{URLs: []string{"http://x"}, Index: "logs#1"}, `cannot contain`},
		{Config{URLs: []string{"http://x"}, IndexDateMaxAge: -time.Hour}, `"index_date_max_age" must be positive`},
		{Config{URLs: []string{"http://x"}, IndexDateMaxAge: 87601 * time.Hour}, `"index_date_max_age" must be positive and at most 87600h`},
		{Config{URLs: []string{"http://x"}, IndexDateMaxFuture: -time.Second}, `"index_date_max_future" must be positive`},
		{Config{URLs: []string{"http://x"}, IndexDateMaxFuture: 1 << 62}, `"index_date_max_future" must be positive and at most 87600h`},
		{Config{URLs: []string{"http://x"}, MaxIndexSourceTypes: -1}, `"max_index_source_types" must be between 1 and 10000, got -1`},
		{Config{URLs: []string{"http://x"}, MaxIndexSourceTypes: 10001}, `"max_index_source_types" must be between 1 and 10000, got 10001`},
		{Config{URLs: []string{"http://x"}, OpType: "upsert"}, `"op_type"`},
		{Config{URLs: []string{"http://x"}, BulkBytes: 10}, `"bulk_bytes"`},
		{Config{URLs: []string{"http://x"}, MaxConcurrentRequests: -1}, `"max_concurrent_requests"`},
		{Config{URLs: []string{"http://x"}, GzipLevel: 10}, `"gzip_level"`},
		{Config{URLs: []string{"http://x"}, GzipLevel: -1}, `"gzip_level"`},
		{Config{URLs: []string{"http://x"}, RequestTimeout: -time.Second}, `"request_timeout"`},
		{Config{URLs: []string{"http://x"}, Bootstrap: BootstrapConfig{Enabled: true, TemplateName: "a/b"}}, `"bootstrap.template_name"`},
		{Config{URLs: []string{"http://x"}, Index: "{source_type}-logs", Bootstrap: BootstrapConfig{Enabled: true}}, `"bootstrap.index_patterns" is required`},
		{Config{URLs: []string{"http://x"}, OpType: "index", Bootstrap: BootstrapConfig{DataStream: true}}, `"bootstrap.data_stream" needs "op_type: create"`},
		{Config{URLs: []string{"http://x"}, Headers: map[string]string{"VL Msg Field": "message"}}, `not a valid HTTP header name`},
		{Config{URLs: []string{"http://x"}, Headers: map[string]string{"": "x"}}, `not a valid HTTP header name`},
		{Config{URLs: []string{"http://x"}, Headers: map[string]string{"X-Ü": "x"}}, `not a valid HTTP header name`},
		{Config{URLs: []string{"http://x"}, Headers: map[string]string{"authorization": "Bearer x"}}, `"headers": "authorization" must not be set here: it is set by the sink from "username"/"password" or "aws_sigv4"`},
		{Config{URLs: []string{"http://x"}, Headers: map[string]string{"Content-Type": "application/json"}}, `always application/x-ndjson`},
		{Config{URLs: []string{"http://x"}, Headers: map[string]string{"CONTENT-ENCODING": "zstd"}}, `from "gzip"`},
		{Config{URLs: []string{"http://x"}, Headers: map[string]string{"Content-Length": "1"}}, `computed for every request body`},
		{Config{URLs: []string{"http://x"}, Headers: map[string]string{"Host": "h"}}, `taken from "urls"`},
		{Config{URLs: []string{"http://x"}, Headers: map[string]string{"User-Agent": "me"}}, `would be ignored`},
		{Config{URLs: []string{"http://x"}, Headers: map[string]string{"accept-encoding": "gzip"}}, `already asks for gzip answers`},
		{Config{URLs: []string{"http://x"}, Headers: map[string]string{"Accept": "application/smile"}}, `reads JSON answers`},
		{Config{URLs: []string{"http://x"}, Headers: map[string]string{"X-Token": "a\r\nX-Evil: 1"}}, `control character`},
		{Config{URLs: []string{"http://x"}, Headers: map[string]string{"X-A": "1", "x-a": "2"}}, `"X-A" and "x-a" are the same header`},
	}
	for _, c := range cases {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: Validate() = %v, want it to mention %s", c.cfg, err, c.want)
		}
	}
	if _, err := New("", Config{URLs: []string{"http://x"}}); err == nil {
		t.Fatal("New accepted an empty name")
	}
	if _, err := New("os", Config{}); err == nil {
		t.Fatal("New accepted an invalid config")
	}
}

func TestIndexName(t *testing.T) {
	ts := time.Date(2026, 11, 28, 23, 59, 59, 999, time.UTC).UnixNano()
	cases := []struct {
		tmpl, st string
		p        pipeline.Priority
		ns       int64
		want     string
	}{
		{DefaultIndex, "aws.cloudtrail", pipeline.P2, ts, "logs-aws.cloudtrail-2026.11.28"},
		{DefaultIndex, "aws.cloudtrail", pipeline.P2, ts + 1e9, "logs-aws.cloudtrail-2026.11.29"},
		{DefaultIndex, `My/Source *Type?"<>|,#:`, pipeline.P2, ts, "logs-my_source__type________-2026.11.28"},
		{DefaultIndex, "", pipeline.P2, ts, "logs-unknown-2026.11.28"},
		{DefaultIndex, "é\x01\n", pipeline.P2, ts, "logs-____-2026.11.28"},
		{"{source_type}-x", "_-+Fw", pipeline.P1, ts, "fw-x"},
		{"{source_type}", "---", pipeline.P1, ts, "unknown"},
		{"{source_type}", ".", pipeline.P1, ts, "unknown"},
		{"logs-{priority}-{yyyy.MM}", "x", pipeline.P1, ts, "logs-p1-2026.11"},
		{"logs-{yyyy-MM-dd_HH}", "x", pipeline.P3, ts, "logs-2026-11-28_23"},
		{"logs-{priority}", "x", pipeline.PriorityNone, ts, "logs-p0"},
		{"static", "x", pipeline.P1, ts, "static"},
		{"logs-{yyyy.MM.dd}", "x", pipeline.P1, -1, "logs-1969.12.31"},
	}
	for _, c := range cases {
		got, err := IndexName(c.tmpl, c.st, c.p, c.ns)
		if err != nil || got != c.want {
			t.Errorf("IndexName(%q, %q) = %q, %v; want %q", c.tmpl, c.st, got, err, c.want)
		}
	}
	long := strings.Repeat("a", 400)
	got, _ := IndexName(DefaultIndex, long, pipeline.P1, ts)
	if len(got) != 255 || !strings.HasSuffix(got, "-2026.11.28") {
		t.Fatalf("a long source type gives %d bytes %q", len(got), got)
	}
	tmpl, _ := parseIndexTemplate(DefaultIndex)
	if tmpl.pattern() != "logs-*" {
		t.Fatal(tmpl.pattern())
	}
	if tmpl, _ := parseIndexTemplate("logs"); tmpl.pattern() != "logs" || !tmpl.static() {
		t.Fatal("static template")
	}
}

func TestDocumentID(t *testing.T) {
	for _, h := range []uint64{0, 1, 0xdeadbeef, 1<<64 - 1, 0x0123456789abcdef} {
		got := DocumentID(h)
		want := strings.Repeat("0", 16-len(hexOf(h))) + hexOf(h)
		if got != want {
			t.Fatalf("DocumentID(%x) = %s", h, got)
		}
	}
}

func hexOf(h uint64) string {
	const d = "0123456789abcdef"
	if h == 0 {
		return "0"
	}
	var s []byte
	for ; h > 0; h >>= 4 {
		s = append([]byte{d[h&15]}, s...)
	}
	return string(s)
}
