package main

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

// Review of e40547f's aws.guardduty.eventbridge profile
// (rules/profiles/30-cloud.yaml): fails against the profiles as they were
// reviewed, because of the fault its comment describes.

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

// reviewFlatten writes the leaves of v under prefix into out, as dotted paths.
func reviewFlatten(prefix string, v any, out map[string]string) {
	if m, ok := v.(map[string]any); ok {
		for k, c := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			reviewFlatten(p, c, out)
		}
		return
	}
	b, _ := json.Marshal(v)
	out[prefix] = string(b)
}

// TestGuardDutyEventBridgeMappedAsDirect
//
// The fault: the profile says a GuardDuty finding through EventBridge is
// "mapped as aws.guardduty maps a finding read directly", but the
// finding's members that neither profile renames end up in different
// places: read directly they stay at the top (description, createdAt,
// schemaVersion, partition), through EventBridge they move under
// aws.guardduty.finding.* (the catch-all rename "detail:
// aws.guardduty.finding"). The same finding, same source type
// aws.guardduty, same OpenSearch index pattern, has its description in
// two fields depending on how it left the account.
//
// Who is affected: teams receiving GuardDuty both ways (S3 export or
// GetFindings polling, and the EventBridge -> Firehose route the commit
// documents), or moving from one to the other. What they lose: saved
// searches, dashboards and SIEM content on description (the finding's
// only explanation besides its title) or createdAt (when GuardDuty first
// raised it; @timestamp is updatedAt) silently miss the other route's
// findings.
//
// Event shape: AWS GuardDuty User Guide, "GuardDuty finding format" (the
// finding) and "Creating custom responses to GuardDuty findings with
// Amazon EventBridge" (the envelope: version, id, detail-type "GuardDuty
// Finding", source aws.guardduty, account, time, region, resources,
// detail = the finding).
func TestGuardDutyEventBridgeMappedAsDirect(t *testing.T) {
	finding := `{"schemaVersion":"2.0","accountId":"123456789012","region":"us-east-1","partition":"aws",` +
		`"id":"16afba5c5c43e07c9e3e5e2e544e95df","arn":"arn:aws:guardduty:us-east-1:123456789012:detector/123456789012/finding/16afba5c5c43e07c9e3e5e2e544e95df",` +
		`"type":"UnauthorizedAccess:EC2/TorClient","resource":{"resourceType":"Instance","instanceDetails":{"instanceId":"i-05746eb48123455e0"}},` +
		`"service":{"serviceName":"guardduty","detectorId":"f2baedb0ac74f8f42fc929e15f56da6a","action":{"actionType":"NETWORK_CONNECTION"},` +
		`"archived":false,"count":1,"eventFirstSeen":"2026-11-28T09:50:00.000Z","eventLastSeen":"2026-11-28T09:58:00.000Z","resourceRole":"TARGET"},` +
		`"severity":8,"createdAt":"2026-11-28T09:59:02.511Z","updatedAt":"2026-11-28T10:01:02.511Z",` +
		`"title":"EC2 instance i-05746eb48123455e0 is communicating with Tor Entry/Guard Nodes.",` +
		`"description":"EC2 instance i-05746eb48123455e0 is communicating with IP address 198.51.100.0 on the Tor Anonymizing Proxy network marked as an Entry/Guard Node."}`
	envelope := `{"version":"0","id":"c8c4daa7-a20c-2f03-0070-b7393dd542ad","detail-type":"GuardDuty Finding","source":"aws.guardduty",` +
		`"account":"123456789012","time":"2026-11-28T10:01:03Z","region":"us-east-1","resources":[],"detail":` + finding + `}`
	explainOne := func(line string) (string, map[string]string) {
		out, err := run(t, line+"\n", "explain", "-o", "json")
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
		flat := map[string]string{}
		reviewFlatten("", res.Event, flat)
		return res.SourceType, flat
	}
	dst, direct := explainOne(finding)
	est, viaEB := explainOne(envelope)
	if dst != "aws.guardduty" || est != "aws.guardduty" {
		t.Fatalf("source types %q (direct) and %q (EventBridge), want aws.guardduty both", dst, est)
	}
	var missing []string
	for p, v := range direct {
		if strings.HasPrefix(p, "logrouter.") || p == "event.ingested" {
			continue
		}
		if viaEB[p] != v {
			missing = append(missing, p+"="+v)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		var moved []string
		for p := range viaEB {
			if strings.HasPrefix(p, "aws.guardduty.finding.") {
				moved = append(moved, p)
			}
		}
		sort.Strings(moved)
		t.Errorf("the finding read directly has fields the same finding through EventBridge lacks or holds elsewhere:\n  %s\n(through EventBridge: %s)",
			strings.Join(missing, "\n  "), strings.Join(moved, ", "))
	}
}
