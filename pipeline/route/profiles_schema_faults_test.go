package route_test

// Review (normalized output vs docs/schema.md): fields a SOC queries that a
// starter profile leaves unmapped or drops.

import "testing"

// TestEntraDiagnosticAuditInitiatorUnmapped
//
// An Entra ID audit record as diagnostic settings export it (Event Hubs,
// storage: the shape of azure.entra_id's detect) names who made the change
// in properties.initiatedBy.user.{userPrincipalName,ipAddress}. The
// azure.entra_id profile renames initiatedBy.user.* only at the TOP level
// (the Graph directoryAudit shape), so the diagnostic record comes out with
// no user.name and no source.ip: "who added this member to a group / reset
// this password, from where" is not found by user.name or source.ip,
// while the very same record through the Graph API is.
//
// Expected: docs/schema.md (Splunk source types): the profile "maps their
// [Graph records'] top-level fields (userPrincipalName, ipAddress,
// initiatedBy.user.*, createdDateTime) as it maps the diagnostic settings'
// properties.*"; the profile's own comment: the user and the caller's
// address "become user.name and source.ip".
func TestEntraDiagnosticAuditInitiatorUnmapped(t *testing.T) {
	diag := `{"time":"2026-01-01T10:00:00.1234567Z","resourceId":"/tenants/8e1d0000-0000-0000-0000-000000000001/providers/Microsoft.aadiam","operationName":"Add member to group","operationVersion":"1.0","category":"AuditLogs","tenantId":"8e1d0000-0000-0000-0000-000000000001","resultSignature":"None","durationMs":0,"callerIpAddress":"<null>","correlationId":"c1","Level":4,"properties":{"id":"Directory_1","category":"GroupManagement","correlationId":"c1","result":"success","resultReason":"","activityDisplayName":"Add member to group","activityDateTime":"2026-01-01T10:00:00.1234567+00:00","loggedByService":"Core Directory","operationType":"Assign","initiatedBy":{"user":{"id":"u1","displayName":null,"userPrincipalName":"admin@contoso.com","ipAddress":"203.0.113.5","roles":[]}},"targetResources":[{"id":"u2","displayName":null,"type":"User","userPrincipalName":"victim@contoso.com","modifiedProperties":[]}],"additionalDetails":[]}}`
	graph := `{"id":"Directory_1","category":"GroupManagement","correlationId":"c1","result":"success","resultReason":"","activityDisplayName":"Add member to group","activityDateTime":"2026-01-01T10:00:00.1234567Z","loggedByService":"Core Directory","operationType":"Assign","initiatedBy":{"user":{"id":"u1","displayName":null,"userPrincipalName":"admin@contoso.com","ipAddress":"203.0.113.5"}},"targetResources":[{"id":"u2","type":"User","userPrincipalName":"victim@contoso.com"}]}`
	g := vendorJSON(t, "azure:aad:audit", graph)
	if g.str("user", "name") != "admin@contoso.com" || g.str("source", "ip") != "203.0.113.5" {
		t.Fatalf("the Graph shape itself is not mapped (test premise):\n%s", g.raw)
	}
	res := vendorJSON(t, "", diag)
	if ds := res.str("event", "dataset"); ds != "azure.entra_id" {
		t.Fatalf("diagnostic audit record detected as %q, want azure.entra_id\n%s", ds, res.raw)
	}
	if got := res.str("user", "name"); got != "admin@contoso.com" {
		t.Errorf("user.name %q, want admin@contoso.com (properties.initiatedBy.user.userPrincipalName; the Graph form of the same record has it)\n%s", got, res.raw)
	}
	if got := res.str("source", "ip"); got != "203.0.113.5" {
		t.Errorf("source.ip %q, want 203.0.113.5 (properties.initiatedBy.user.ipAddress)\n%s", got, res.raw)
	}
}

// TestFortiGateVDOMDropped
//
// fortinet.fortigate drops "vd" (rules/profiles/50-firewall.yaml,
// `drop: [vd, srcserver]`): the VDOM a log belongs to is removed from every
// FortiGate event sent as key=value (syslog, HEC text, JSON from a shipper).
// On a multi-VDOM FortiGate (an MSSP's tenants, a DMZ and an internal VDOM)
// policy ids, interfaces and users are per VDOM: without vd the analyst
// cannot tell which tenant's policy 3 denied the session, and the value is
// gone from the SIEM, OpenSearch and the archive alike. The same device's
// CEF format keeps it (cef.extensions.FTNTFGTvd), so the source is not even
// consistent with itself.
//
// Expected: nothing but unused fields dropped (README "Normalization";
// docs/schema.md: "leaves the rest with their vendor names ... so nothing is
// lost"); Elastic's fortinet pipeline keeps it as fortinet.firewall.vd.
func TestFortiGateVDOMDropped(t *testing.T) {
	line := `<189>date=2026-01-01 time=10:00:00 devname="FGT-MSSP-01" devid="FG3K0F0000000001" eventtime=1767261600000000000 tz="+0000" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="customer-a" srcip=10.0.0.5 srcport=51000 srcintf="port1" dstip=8.8.8.8 dstport=53 dstintf="wan1" sessionid=123 proto=17 action="deny" policyid=3 service="DNS"`
	res := vendorSyslog(t, line)
	if ds := res.str("event", "dataset"); ds != "fortinet.fortigate" {
		t.Fatalf("dataset %q\n%s", ds, res.raw)
	}
	found := false
	for _, p := range [][]string{{"vd"}, {"fortinet", "vd"}, {"fortinet", "firewall", "vd"}, {"observer", "vdom"}} {
		if res.str(p...) == "customer-a" {
			found = true
		}
	}
	if !found {
		t.Errorf("the VDOM (vd=\"customer-a\") is nowhere in the normalized event: dropped by the profile\n%s", res.raw)
	}
}
