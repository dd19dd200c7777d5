package main

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found), but any
// skipped with its reason.

import (
	"encoding/json"
	"strings"
	"testing"
)

// reviewExplainSyslog runs `router explain --format syslog -o json` with the
// embedded configuration and starter rules and profiles on one line and
// returns its result.
func reviewExplainSyslog(t *testing.T, line string) (sourceType string, ev map[string]any) {
	t.Helper()
	out, err := run(t, line+"\n", "explain", "--format", "syslog", "-o", "json")
	if err != nil {
		t.Fatalf("explain: %v\n%s", err, out)
	}
	var res struct {
		SourceType string         `json:"source_type"`
		Event      map[string]any `json:"event"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &res); err != nil {
		t.Fatalf("explain output: %v\n%s", err, out)
	}
	return res.SourceType, res.Event
}

func reviewField(m map[string]any, path string) any {
	var v any = m
	for _, p := range strings.Split(path, ".") {
		o, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = o[p]
	}
	return v
}

// TestFirewallCEFIsNormalized
//
// What I did: sent the CEF that FortiGate (`config log syslogd setting / set
// format cef`, Fortinet's "FortiOS Log Message Reference", CEF) and PAN-OS
// (a syslog server profile with the CEF custom log format from Palo Alto
// Networks' "PAN-OS CEF Configuration Guide") write to the syslog input,
// and the same kind of line from Check Point, through `router explain
// --format syslog` with the starter profiles.
//
// What happened: the syslog parser names the FortiGate line
// fortinet.fortigate and the PAN-OS line paloalto.panos from the CEF
// vendor/product (parse.vendorDataset), so the generic `cef` profile
// (rules/profiles/50-firewall.yaml) is not applied, and the vendor profiles
// only know the key=value / CSV names: src, dst, spt, dpt and act stay under
// cef.extensions.*; there is no source.ip, destination.ip, source.port,
// destination.port or event.action. Check Point's identical CEF (mapped by
// the `cef` profile) has all of them.
//
// What should happen: the same normalized fields whatever the format the
// firewall was set to (docs/schema.md: "`source.ip == "10.0.0.1"` matches
// FortiGate, PAN-OS, Suricata, Zeek and Okta events alike"). As it is, a
// SOC whose FortiGates or Palo Altos log in CEF (a common setting when the
// previous SIEM was ArcSight or QRadar) gets firewall events in OpenSearch
// that no search, dashboard or rule on source.ip/destination.ip finds (the
// profile's comment says this was fixed for Check Point for exactly this
// reason).
func TestFirewallCEFIsNormalized(t *testing.T) {
	cases := []struct{ name, line, wantST string }{
		{"fortigate",
			`<189>Nov 28 10:00:00 FGT-HQ CEF:0|Fortinet|Fortigate|v7.2.5|00013|traffic:forward deny|3|deviceExternalId=FGT5HD3915800610 FTNTFGTlogid=0000000013 cat=traffic:forward FTNTFGTsubtype=forward FTNTFGTlevel=notice FTNTFGTvd=root src=10.1.100.11 spt=54190 deviceInboundInterface=port12 dst=203.0.113.235 dpt=443 deviceOutboundInterface=port11 proto=6 act=deny`,
			"fortinet.fortigate"},
		{"pan-os",
			`<14>Nov 28 10:00:00 PA-VM CEF:0|Palo Alto Networks|PAN-OS|10.1.0|end|TRAFFIC|1|rt=Nov 28 2026 10:00:00 GMT deviceExternalId=007200001056 src=10.1.100.11 dst=203.0.113.235 cs1Label=Rule cs1=allow-web app=ssl spt=54190 dpt=443 proto=tcp act=deny`,
			"paloalto.panos"},
		{"check point (control: mapped today)",
			`<13>Nov 28 10:00:00 cp CEF:0|Check Point|VPN-1 & FireWall-1|Check Point|Log|Drop|Unknown|act=deny src=10.1.100.11 dst=203.0.113.235 spt=54190 dpt=443`,
			"checkpoint.firewall"},
	}
	want := map[string]any{
		"source.ip": "10.1.100.11", "destination.ip": "203.0.113.235",
		"source.port": float64(54190), "destination.port": float64(443),
	}
	for _, c := range cases {
		st, ev := reviewExplainSyslog(t, c.line)
		if st != c.wantST {
			t.Errorf("%s: source type %q, want %q", c.name, st, c.wantST)
		}
		for f, w := range want {
			if got := reviewField(ev, f); got != w {
				t.Errorf("%s: %s = %v, want %v (cef.extensions: %v)", c.name, f, got, w, reviewField(ev, "cef.extensions"))
			}
		}
		if got, _ := reviewField(ev, "event.action").(string); !strings.EqualFold(got, "deny") {
			t.Errorf("%s: event.action = %q, want deny", c.name, got)
		}
	}
}
