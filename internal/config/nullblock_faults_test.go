package config

// Review: docs/configuration.md against what the code does. Each test
// fails while the fault it describes is there.

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// reviewBase is a valid configuration; %INPUTS% and %DESTS% are replaced.
const reviewBase = `
admin: {address: "127.0.0.1:18686"}
inputs:
%INPUTS%
destinations:
  - {name: archive, type: file, file: {dir: /tmp/review-f}}
%DESTS%
routing: {all: [archive]}
quarantine: {dir: /tmp/review-q}
`

func nullBlockConfig(inputs, dests string) string {
	if inputs == "" {
		inputs = `  http: {address: "127.0.0.1:18088"}`
	}
	return strings.NewReplacer("%INPUTS%", inputs, "%DESTS%", dests).Replace(reviewBase)
}

func mustParse(t *testing.T, y string) *Config {
	t.Helper()
	c, err := Parse("c.yaml", []byte(y))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// TestEmptyTransportBlockDoesNotListen: configuration.md,
// inputs.syslog: "`udp.address` | `:5514` | present block = listening".
// A block written without a value (`udp:` / `tcp:`, the natural way to
// take the defaults) decodes as null, the *UDPConfig stays nil, and
// nothing listens; `router validate` says OK and `router run` starts
// with no listener at all (log: "syslog_udp":"","syslog_tcp":"").
func TestEmptyTransportBlockDoesNotListen(t *testing.T) {
	c, err := Parse("c.yaml", []byte(nullBlockConfig("  syslog:\n    udp:\n    tcp:\n", "")))
	if err != nil {
		if !strings.Contains(err.Error(), "udp") {
			t.Fatalf("refused without naming udp: %v", err)
		}
		return // refused, naming the key: fine
	}
	if c.Inputs.Syslog.UDP == nil || c.Inputs.Syslog.TCP == nil {
		t.Errorf("`udp:` and `tcp:` are present, but UDP=%v TCP=%v: neither listens, silently", c.Inputs.Syslog.UDP, c.Inputs.Syslog.TCP)
	}
}

// TestSyslogInputWithoutTransportAccepted: `inputs: {syslog: {}}`
// (or with only name/timezone keys) is a syslog input that listens on
// nothing; validate says OK.
func TestSyslogInputWithoutTransportAccepted(t *testing.T) {
	if _, err := Parse("c.yaml", []byte(nullBlockConfig("  syslog: {timezone: UTC}\n", ""))); err == nil {
		t.Errorf("inputs.syslog with no udp, tcp or tls block is accepted: it receives nothing")
	}
}

// TestEmptyHTTPBlockIgnored: `inputs:\n  http:\n` next to another
// input leaves the HTTP input off without a word; alone, the error says
// "add inputs.http" although the file has it.
func TestEmptyHTTPBlockIgnored(t *testing.T) {
	c, err := Parse("c.yaml", []byte(nullBlockConfig("  http:\n  syslog: {udp: {address: \"127.0.0.1:15514\"}}\n", "")))
	if err == nil && c.Inputs.HTTP == nil {
		t.Errorf("inputs.http is present (empty) but the HTTP input is off, silently")
	}
	_, err = Parse("c.yaml", []byte(nullBlockConfig("  http:\n", "")))
	if err != nil && strings.Contains(err.Error(), "add inputs.http") {
		t.Errorf("the error tells to add inputs.http, which the file has (write `http: {}`): %v", err)
	}
}

// TestSyslogDestinationEmptyTLSIsPlainTCP: configuration.md, type
// syslog: "`transport` | `tcp` (`tls` when a `tls:` block is set)". A
// `tls:` written without keys (system roots, the usual case for a public
// CA) decodes as nil, so transport stays tcp: P1 events go in clear to
// the SIEM's TLS port, and validate says OK. The same null block turns
// TLS off for inputs.kafka.tls.
func TestSyslogDestinationEmptyTLSIsPlainTCP(t *testing.T) {
	c, err := Parse("c.yaml", []byte(nullBlockConfig("",
		"  - name: siem\n    type: syslog\n    syslog:\n      address: siem.example.com:6514\n      tls:\n")))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	s := *c.Destinations[1].Syslog
	s.SetDefaults()
	if s.Transport != "tls" {
		t.Errorf("syslog destination with a `tls:` block: transport %q (TLS=%v): events go in plain TCP", s.Transport, s.TLS)
	}
	k, err := Parse("c.yaml", []byte(nullBlockConfig(
		"  kafka:\n    brokers: [\"k:9093\"]\n    topics: [{name: t}]\n    tls:\n", "")))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if k.Inputs.Kafka.TLS == nil {
		t.Errorf("inputs.kafka with a `tls:` block connects in plaintext (TLS nil)")
	}
}

// TestTimezoneErrorSaysWhatToDo: inputs.syslog.timezone: a typo gets
// "unknown time zone Europe/Berln", no hint of the form expected.
func TestTimezoneErrorSaysWhatToDo(t *testing.T) {
	_, err := Parse("c.yaml", []byte(nullBlockConfig("  syslog: {udp: {address: \"127.0.0.1:15514\"}, timezone: Europe/Berln}\n", "")))
	if err == nil {
		t.Fatal("accepted")
	}
	if !strings.Contains(err.Error(), "IANA") && !strings.Contains(err.Error(), "like") {
		t.Errorf("the error does not say what to write: %v", err)
	}
}

// TestZstdLevelDocumented: archive_dir and s3 accept zstd_level
// ("fastest" default, "default", "better"); configuration.md lists the key
// only in the s3 paragraph's enumeration, "as archive_dir above", whose
// table has no such row: neither its values nor its default are written
// anywhere in the docs.
func TestZstdLevelDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile("(?m)^\\| `zstd_level`").Match(doc) && !strings.Contains(string(doc), "`better`") {
		t.Errorf("zstd_level (fastest|default|better, default fastest) is not documented in the archive_dir table")
	}
}

// TestGRPCAddressCheckedWithOtherListeners: inputs.http.grpc_address was
// left out of the listener checks: on the admin port, or a port past
// 65535, validate said OK and `router run` failed at start.
func TestGRPCAddressCheckedWithOtherListeners(t *testing.T) {
	for _, grpc := range []string{"127.0.0.1:18686", ":99999"} {
		y := "admin: {address: \"127.0.0.1:18686\"}\ninputs:\n  http: {address: \"127.0.0.1:18088\", grpc_address: \"" + grpc + "\"}\ndestinations:\n  - {name: a, type: file, file: {dir: /tmp/x}}\nrouting: {all: [a]}\n"
		if _, err := Parse("c.yaml", []byte(y)); err == nil || !strings.Contains(err.Error(), "grpc_address") {
			t.Errorf("grpc_address %s: %v, want an error naming inputs.http.grpc_address", grpc, err)
		}
	}
}
