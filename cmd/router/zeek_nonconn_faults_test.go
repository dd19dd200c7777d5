package main

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found), but any
// skipped with its reason.

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestZeekLogsWithoutConnectionAreZeek
//
// What I did: sent Zeek records of logs that describe no single connection,
// as Zeek's json-streaming-logs package and Corelight sensors write them
// (with "_path" and "_system_name"), through `router explain` with the
// starter profiles and rules: x509.log (Zeek 6: fingerprint, certificate.*,
// no uid), and files.log as Zeek 4 writes it (tx_hosts/rx_hosts/conn_uids,
// no uid or id.*).
//
// What happened: every zeek.* profile requires uid and id.orig_h to be
// present (the zeek.conn profile's detect says "Every Zeek log has uid and
// the id.* connection tuple": x509, files before Zeek 5, pe, known_hosts,
// software and ocsp have none), so these records get no profile at all:
// event.dataset "unknown" instead of zeek.x509 / zeek.files, _path left
// unmapped, ts not used by a profile. The files.log record keeps its
// top-level "source":"HTTP" string; P2 sends it to OpenSearch (index
// logs-unknown-<date>), where logrouter's own index template (bootstrap:
// enabled, as in docs/examples/production.yaml) maps "source" as an object
// (source.ip, source.port: sinks/opensearch TemplateBody), as does dynamic
// mapping once any other "unknown" event with a source.ip came first, so
// OpenSearch refuses the document (mapper_parsing_exception) and it is
// quarantined instead of indexed.
//
// What should happen: docs/schema.md says a profile's detect.dataset
// `"zeek.{_path}"` names a Zeek record zeek.dns, zeek.notice...; the rule
// ndr-zeek-telemetry is documented for "conn, dns, http, ssl, files, x509,
// weird, ...". A certificate or a downloaded executable's hash is what a
// hunter pivots on (C2 certificates, malware downloads); today these land
// in a catch-all "unknown" source type (index, archive partition and
// metrics), and Zeek 4 file records are refused by OpenSearch.
func TestZeekLogsWithoutConnectionAreZeek(t *testing.T) {
	cases := []struct{ name, line, wantST string }{
		{"x509 (json-streaming-logs)",
			`{"_path":"x509","_system_name":"zeek-sensor-1","_write_ts":"2026-11-28T10:00:00.100000Z","ts":"2026-11-28T10:00:00.050000Z","fingerprint":"e9c7e1b5a1c2d3e4","certificate.version":3,"certificate.serial":"0A1B","certificate.subject":"CN=login.micros0ft-support.com","certificate.issuer":"CN=R3,O=Let's Encrypt,C=US","certificate.key_alg":"rsaEncryption","certificate.sig_alg":"sha256WithRSAEncryption","certificate.key_type":"rsa","certificate.key_length":2048,"san.dns":["login.micros0ft-support.com"],"basic_constraints.ca":false,"host_cert":true,"client_cert":false}`,
			"zeek.x509"},
		{"files (Zeek 4, json-streaming-logs)",
			`{"_path":"files","_system_name":"zeek-sensor-1","_write_ts":"2026-11-28T10:00:00.600000Z","ts":"2026-11-28T10:00:00.500000Z","fuid":"FhT9Ws2lF4sYdCsvx","tx_hosts":["203.0.113.66"],"rx_hosts":["10.0.0.5"],"conn_uids":["CHhAvVGS1DHFjwGM9"],"source":"HTTP","depth":0,"analyzers":["MD5","PE"],"mime_type":"application/x-dosexec","filename":"invoice.exe","duration":0.012,"local_orig":false,"is_orig":false,"seen_bytes":73802,"total_bytes":73802,"missing_bytes":0,"overflow_bytes":0,"timedout":false,"md5":"0a1b2c3d4e5f"}`,
			"zeek.files"},
	}
	for _, c := range cases {
		out, err := run(t, c.line+"\n", "explain", "-o", "json")
		if err != nil {
			t.Fatalf("%s: explain: %v\n%s", c.name, err, out)
		}
		var res struct {
			Priority   string         `json:"priority"`
			SourceType string         `json:"source_type"`
			Event      map[string]any `json:"event"`
		}
		if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &res); err != nil {
			t.Fatalf("%s: %v\n%s", c.name, err, out)
		}
		if res.SourceType != c.wantST {
			t.Errorf("%s: source type %q, want %q (the record's _path is %v)", c.name, res.SourceType, c.wantST, res.Event["_path"])
		}
		if res.Priority != "P2" {
			t.Errorf("%s: priority %s, want P2 (ndr-zeek-telemetry)", c.name, res.Priority)
		}
		if s, ok := res.Event["source"].(string); ok {
			t.Errorf("%s: top-level \"source\" is the string %q: OpenSearch refuses it where logrouter's index template maps source as an object (source.ip)", c.name, s)
		}
	}
}
