package siem

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestConfigYAML decodes destination blocks the way the config loader does
// (strict keys), so the documented keys are the real ones.
func TestConfigYAML(t *testing.T) {
	var h HECConfig
	dec := yaml.NewDecoder(strings.NewReader(`
url: https://splunk.example.com:8088
token: s3cret
source: lr
sourcetype: override
index: security
default_host: node-1
fields: {priority: P1, team: soc}
gzip: false
max_batch_bytes: 524288
max_concurrent_requests: 2
timeout: 5s
tls: {ca_file: /etc/ca.pem, insecure_skip_verify: false}
ack: {enabled: true, channel: 0aeeac95-ac74-4aa9-b30d-6c4c0ac581ba, poll_interval: 500ms, timeout: 20s}
`))
	dec.KnownFields(true)
	if err := dec.Decode(&h); err != nil {
		t.Fatal(err)
	}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	if h.Token != "s3cret" || *h.Gzip || h.Ack.PollInterval != 500*time.Millisecond || h.Fields["team"] != "soc" || h.TLS.CAFile != "/etc/ca.pem" {
		t.Errorf("decoded %+v", h)
	}

	var s SyslogConfig
	dec = yaml.NewDecoder(strings.NewReader(`
address: siem.example.com:6514
transport: tls
tls: {ca_file: ca.pem, cert_file: c.pem, key_file: c.key, insecure_skip_verify: false, server_name: siem}
syslog_format: rfc3164
framing: newline
format: cef
facility: local3
severity: {P1: alert, P2: err, P3: notice}
app_name: lr
hostname: fwd-1
default_host: node-1
max_message_bytes: 65536
dial_timeout: 2s
write_timeout: 3s
reconnect_backoff_min: 50ms
reconnect_backoff_max: 5s
replay_bytes: -1
replay_age: 5s
confirm_with_close: true
cef:
  device_vendor: Acme
  device_product: LR
  device_version: "2"
  signature_id_fields: [rule.id, event.dataset]
  name_fields: [rule.name, message]
  severity_field: event.severity
  severity_by_priority: {P1: 9, P2: 6, P3: 2}
  extension: {src: source.ip, dst: destination.ip, spt: source.port, suser: user.name, dhost: host.name, msg: message, rt: "@timestamp"}
`))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.ReplayBytes != -1 || s.CEF.Extension["rt"] != "@timestamp" || s.CEF.SeverityByPriority["P1"] != 9 || !s.ConfirmWithClose {
		t.Errorf("decoded %+v", s)
	}
}
