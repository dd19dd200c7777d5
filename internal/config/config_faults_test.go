package config

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"strings"
	"testing"
)

// faultBase is a valid configuration for the review tests: an HTTP input,
// an archive_dir destination and the quarantine; %INPUTS% and %DESTS% are
// replaced by each case.
const faultBase = `
admin:
  address: 127.0.0.1:18686
inputs:
  http:
    address: 127.0.0.1:18088
%INPUTS%
destinations:
  - name: archive
    type: archive_dir
    archive_dir: {dir: /var/lib/logrouter/archive}
%DESTS%
routing:
  all: [archive]
quarantine: {dir: /var/lib/logrouter/quarantine}
`

func faultConfig(inputs, dests string) string {
	return strings.NewReplacer("%INPUTS%", inputs, "%DESTS%", dests).Replace(faultBase)
}

// faultBaseParses fails the test when the base configuration itself is
// refused (a case passing for the wrong reason).
func faultBaseParses(t *testing.T) {
	t.Helper()
	if _, err := Parse("c.yaml", []byte(faultConfig("", ""))); err != nil {
		t.Fatalf("the base configuration is refused: %v", err)
	}
}

// TestDuplicateListenAddressAccepted: configurations in which two
// TCP listeners have the same address, such as
//
//	inputs:
//	  syslog:
//	    tcp: {address: ":6514"}
//	    tls: {address: ":6514", cert_file: ..., key_file: ...}
//
// (or inputs.http.address equal to admin.address) pass Parse, so `router
// validate` answers OK, and `router run` then fails at start with
// "address already in use" from whichever listener comes second: in a
// rollout, a crash loop that CI's `router validate` was there to prevent.
// Destination names, token names and secrets are all checked for
// duplicates; the TCP listen addresses (admin.address, inputs.http.address,
// inputs.syslog.tcp.address, inputs.syslog.tls.address when TLS is on)
// should be too, naming both keys. (UDP and TCP on the same port, as in
// the defaults, do not conflict; port 0 never does.)
func TestDuplicateListenAddressAccepted(t *testing.T) {
	faultBaseParses(t)
	for name, cfg := range map[string]string{
		"syslog tcp and tls": faultConfig(`  syslog:
    tcp: {address: "127.0.0.1:16514"}
    tls: {address: "127.0.0.1:16514", cert_file: /etc/logrouter/tls.crt, key_file: /etc/logrouter/tls.key}`, ""),
		"http and admin": strings.Replace(faultConfig("", ""), "address: 127.0.0.1:18088", "address: 127.0.0.1:18686", 1),
		"http and syslog tcp": faultConfig(`  syslog:
    tcp: {address: "127.0.0.1:18088"}`, ""),
	} {
		if _, err := Parse("c.yaml", []byte(cfg)); err == nil {
			t.Errorf("%s: two TCP listeners on one address passed validation; the router fails at start with \"address already in use\"", name)
		}
	}
}

// TestSharedStagingDirAccepted: two archives that share a directory,
//
//	destinations:
//	  - name: archive
//	    type: s3
//	    s3: {bucket: acme-archive, region: eu-west-1, staging_dir: /var/lib/logrouter/s3-staging}
//	  - name: archive-dr
//	    type: s3
//	    s3: {bucket: acme-archive-dr, region: eu-central-1, staging_dir: /var/lib/logrouter/s3-staging}
//
// (a copy-pasted block for a second bucket), or an s3 staging_dir that is
// an archive_dir's dir, pass validation. At start each S3 archive scans
// its staging_dir and uploads, then deletes, every staged object it finds
// there: the other destination's backlog goes to the wrong bucket and
// disappears from its own, and an archive_dir's finished objects are
// moved into S3 and deleted from the local archive. Each LocalArchive also
// finalizes every *.partial it finds at start, the other writer's included.
// docs/configuration.md says staging_dir is "owned by this destination";
// Validate should enforce that (no two destinations' dir/staging_dir the
// same, or one inside another), naming both destinations, as it does for
// destination names.
func TestSharedStagingDirAccepted(t *testing.T) {
	faultBaseParses(t)
	for name, dests := range map[string]string{
		"two s3 archives": `  - name: s3a
    type: s3
    s3: {bucket: acme-archive, region: eu-west-1, staging_dir: /var/lib/logrouter/s3-staging}
  - name: s3b
    type: s3
    s3: {bucket: acme-archive-dr, region: eu-central-1, staging_dir: /var/lib/logrouter/s3-staging}`,
		"s3 staging in archive_dir": `  - name: s3a
    type: s3
    s3: {bucket: acme-archive, region: eu-west-1, staging_dir: /var/lib/logrouter/archive}`,
	} {
		if _, err := Parse("c.yaml", []byte(faultConfig("", dests))); err == nil {
			t.Errorf("%s: destinations sharing a staging directory passed validation; each uploads and deletes the other's objects", name)
		}
	}
}

// TestInputNamedReplayAccepted: an input named "replay",
//
//	inputs:
//	  http:
//	    name: replay        # e.g. the port a team re-sends old logs to
//
// passes validation. Its name is written as the quarantine record's
// "input" and as every event's logrouter.input, and `router quarantine
// replay` skips, without a word beyond the "filtered" count, every record
// whose input (or whose event's logrouter.input) is "replay": it takes
// them for refusals of an earlier replay, which it must not loop on. So
// every record that input quarantines, and every event of it a
// destination refuses, is never replayed by default: evidence silently
// left behind. checkDestinationName reserves "input" for the same reason
// (quarantine replay's own name for input records); input names should
// reserve "replay" (the admin replay endpoint's input name) likewise.
func TestInputNamedReplayAccepted(t *testing.T) {
	faultBaseParses(t)
	cfg := strings.Replace(faultConfig("", ""), "address: 127.0.0.1:18088", "address: 127.0.0.1:18088\n    name: replay", 1)
	if _, err := Parse("c.yaml", []byte(cfg)); err == nil {
		t.Fatal(`inputs.http.name: replay passed validation; quarantine replay treats all of that input's records as replay refusals and never sends them`)
	}
}
