package app

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

// Fault tests from a black-box acceptance review (a SOC engineer putting
// the router in front of a SIEM): each fails against the code as it was
// found, for the fault its comment describes.

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	logrouter "github.com/logrouter/logrouter"
	"github.com/logrouter/logrouter/internal/config"
)

// TestFortiGateGroupIsNotATopLevelString
//
// What I did: sent over HEC, with the FortiGate add-on's sourcetype
// fgt_event, a FortiGate SSL VPN "tunnel-up" event log line as FortiOS
// writes it (user="jdoe" group="SSLVPN-Users"), and a web filter log of
// the same firewall (user= and group= too). The profile's
// parse: {format: syslog} parses the key=value pairs.
//
// What happened: user= becomes user.name (the profile maps it), but group=
// stays a top-level string "group": "SSLVPN-Users" in the OpenSearch
// document.
//
// What should happen: ECS group is an object (group.name, group.id; also
// nested as user.group.* / source.user.group.*, where Elastic's fortinet
// pipeline puts it); docs/schema.md: a vendor name that would clash with an
// ECS object goes under a vendor namespace or is mapped. The profile already
// does this for user, service and agent.
//
// Why it matters: an index whose mapping has group as an object (ECS
// templates; Windows group-management events map group.name) refuses every
// FortiGate VPN login and web filter event that carries a group
// (mapper_parsing_exception, quarantined): the VPN logins an account
// compromise investigation needs are missing from OpenSearch.
func TestFortiGateGroupIsNotATopLevelString(t *testing.T) {
	h := newReviewStarter(t)
	line := `date=2026-11-29 time=10:06:00 devname="FGT-HQ-01" devid="FG100FTK22004317" eventtime=1795946760000000000 tz="+0000" ` +
		`logid="0101039947" type="event" subtype="vpn" level="information" vd="root" logdesc="SSL VPN tunnel up" action="tunnel-up" ` +
		`tunneltype="ssl-tunnel" tunnelid=123 remip=198.51.100.77 tunnelip=10.212.134.200 user="jdoe" group="SSLVPN-Users" ` +
		`dst_host="N/A" reason="tunnel established" msg="SSL tunnel established rvw-fgt-group"`
	env, _ := json.Marshal(map[string]any{"time": 1795946760, "host": "fgt-hq-01", "sourcetype": "fgt_event", "event": line})
	if code, body := h.do("/services/collector/event", string(env), "Authorization", "Splunk dev-token-change-me"); code != 200 {
		t.Fatalf("HEC: %d %s", code, body)
	}
	ev := h.find("opensearch", "rvw-fgt-group")
	if ds := reviewGet(ev, "event.dataset"); ds != "fortinet.fortigate" {
		t.Fatalf("event.dataset %v, want fortinet.fortigate", ds)
	}
	if g, ok := ev["group"].(string); ok {
		t.Errorf("group is a top-level string %q (ECS group is an object): %v", g, ev)
	}
}

// TestFilebeatSystemAuthLeavesNoWrongTime
//
// What I did: sent over _bulk what Filebeat 8's system module (auth
// fileset) publishes for an sshd line in /var/log/auth.log on a host whose
// clock is on CET: message "Nov 29 11:05:00 bastion-01 sshd[4242]: Failed
// password ...", event.timezone "+01:00" (add_locale), the Beat's
// @timestamp 10:05:00.250Z (it read the line at once).
//
// What happened: @timestamp is right (the Beat's), but the profile's
// parse: {format: syslog} leaves the header's time as a field
// "timestamp": "2026-11-29T11:05:00.000Z": the zone-less wall clock read as
// UTC, an hour later than the event. (The same happens for cisco.asa and
// every other profile that does not consume "timestamp".)
//
// What should happen: no second, contradicting time in the document: the
// header's time read in event.timezone (10:05:00Z, as docs/shippers.md says
// zone-less device times are), or not written once @timestamp is decided.
//
// Why it matters: "timestamp" is a date in OpenSearch (dynamic mapping of
// an RFC 3339 string); an analyst or a saved search that reads it, or a
// later pipeline that prefers it, puts the failed logins of a brute force
// an hour off from the rest of the evidence.
func TestFilebeatSystemAuthLeavesNoWrongTime(t *testing.T) {
	ex, err := config.Parse("config.example.yaml", logrouter.ExampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	h := newReviewStarterWith(t, func(c *config.Config) { c.Normalize = ex.Normalize })
	doc := map[string]any{
		"@timestamp": "2026-11-29T10:05:00.250Z",
		"agent":      map[string]any{"type": "filebeat", "version": "8.15.0", "name": "bastion-01"},
		"ecs":        map[string]any{"version": "8.0.0"},
		"event":      map[string]any{"module": "system", "dataset": "system.auth", "timezone": "+01:00"},
		"fileset":    map[string]any{"name": "auth"},
		"input":      map[string]any{"type": "log"},
		"log":        map[string]any{"file": map[string]any{"path": "/var/log/auth.log"}, "offset": 12345},
		"service":    map[string]any{"type": "system"},
		"host":       map[string]any{"name": "bastion-01", "hostname": "bastion-01", "os": map[string]any{"type": "linux"}},
		"message":    "Nov 29 11:05:00 bastion-01 sshd[4242]: Failed password for root from 198.51.100.23 port 41234 ssh2 rvw-auth-tz",
	}
	b, _ := json.Marshal(doc)
	body := `{"create":{"_index":"filebeat-8.15.0"}}` + "\n" + string(b) + "\n"
	code, answer := h.do("/_bulk", body, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("filebeat:dev-token-change-me")),
		"Content-Type", "application/json")
	if code != 200 || strings.Contains(answer, `"errors":true`) {
		t.Fatalf("_bulk: %d %s", code, answer)
	}
	ev := h.find("opensearch", "rvw-auth-tz")
	want := time.Date(2026, 11, 29, 10, 5, 0, 0, time.UTC)
	ts, err := time.Parse(time.RFC3339Nano, ev["@timestamp"].(string))
	if err != nil || ts.Sub(want) < 0 || ts.Sub(want) > time.Second {
		t.Fatalf("@timestamp %v, want about %v", ev["@timestamp"], want)
	}
	if s, ok := ev["timestamp"].(string); ok {
		got, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || !got.Equal(want) {
			t.Errorf("field timestamp %q: the device's 11:05:00 at +01:00 is %v (the event's own time), not what was written", s, want)
		}
	}
}
