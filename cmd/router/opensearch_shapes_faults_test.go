package main

// A review (18g) of what the sources today's rules newly send to P2
// (OpenSearch) look like once normalized. None of them has a profile, so
// each arrives with its vendor's field names, and every one sent without
// a source type (which is how their rules' field-based fallbacks are
// meant to catch them) gets event.dataset "unknown": they all share one
// index a day, logs-unknown-{yyyy.MM.dd} (docs/configuration.md,
// opensearch `index`, default logs-{source_type}-{yyyy.MM.dd}).
//
// In one OpenSearch index a field has one mapping. A field mapped as an
// object (by the index template bootstrap installs, or dynamically by the
// first document that had an object there) refuses a document whose value
// there is a string or number, and a field mapped as a concrete type
// refuses an object: the bulk item fails with 400 mapper_parsing_exception
// ("object mapping for [source] tried to parse field [source] as object,
// but found a concrete value", or "tried to parse field [location] as
// object, but found a concrete value" / "Can't get text on a
// START_OBJECT"), and logrouter quarantines it (docs/configuration.md:
// "400 and other 4xx quarantined"): the P2 event never becomes searchable.
// osfake checks leaf types only, not this, so the test models it: for each
// index, each path must be either an object in every document that has it
// or a concrete value in every one, and an object wherever the bootstrap
// template (sinks/opensearch TemplateBody) maps one.
//
// The samples are the coverage cases of rules/49-coverage-*_test.yaml
// (vendor documentation and Elastic's integration test data); each is
// checked to be routed to P2 first. Fixed when these events reach
// OpenSearch in a shape it accepts: a profile per source (its own source
// type, so its own index, and vendor fields that clash with ECS objects
// under a vendor namespace, as docs/schema.md does for CrowdStrike's
// `event` and Zeek's `source`), or the displacement into `.value` that
// docs/schema.md describes ("a value that stands where a field needs an
// object is kept inside that object as value").

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/opensearch"
)

// Samples, verbatim from the coverage test files (long ones shortened where
// noted; no field that matters here was removed).
const (
	// 49-coverage-microsoft-faults_test.yaml "graph riskDetection already remediated is P2".
	r18gGraphRisk = `{"@odata.type": "#microsoft.graph.riskDetection", "id": "6a5874ca-abcd-9d82-5ad39bd71600", "requestId": "6a5874ca-abcd-9d82-5ad39bd71600", "correlationId": "abcd74ca-9823-4b1c-9d82-5ad39bd71600", "riskEventType": "unfamiliarFeatures", "riskState": "remediated", "riskLevel": "medium", "riskDetail": "userPerformedSecuredPasswordReset", "source": "activeDirectory", "detectionTimingType": "realtime", "activity": "signin", "tokenIssuerType": "AzureAD", "ipAddress": "123.456.7.89", "location": {"city": "Seattle", "state": "Washington", "countryOrRegion": "US"}, "activityDateTime": "2018-09-05T00:09:18.7822851Z", "detectedDateTime": "2018-09-05T00:11:27.773602Z", "lastUpdatedDateTime": "2018-09-05T00:11:27.773602Z", "userId": "abcdefab-af90-4edf-ac4c-742ff06735d0", "userDisplayName": "Olivia Lack", "userPrincipalName": "olack@adatum.com"}`
	// 49-coverage-edr-sse-faults_test.yaml "netskope application event is P2" (geo columns left out).
	r18gNetskope = `{"_id": "b1c2d3e4f5a6b7c8d9e0f1a2", "access_method": "Client", "activity": "Edit", "alert": "no", "app": "Amazon Systems Manager", "appcategory": "IT Service/Application Management", "browser": "Native", "device": "Windows Device", "domain": "ssm.us-east-1.amazonaws.com", "dstip": "81.2.69.144", "dstport": 443, "hostname": "DESKTOP-EXAMPLE", "os": "Windows Server 2016", "page": "ssm.us-east-1.amazonaws.com", "port": 443, "record_type": "application", "severity": "unknown", "site": "Amazon Systems Manager", "srcip": "89.160.20.128", "timestamp": 1782003582, "traffic_type": "CloudApp", "type": "nspolicy", "ur_normalized": "user@example.com", "url": "ssm.us-east-1.amazonaws.com/", "user": "user@example.com", "userip": "216.160.83.56", "userkey": "user@example.com"}`
	// 49-coverage-telemetry2-faults_test.yaml "carbon black EDR (on-prem) netconn sensor event is P2".
	r18gCbEdr = `{"process_guid": "0000276e-0000-4354-01d7-667387622d86", "proxy": false, "host": "CB_SERVER_IP", "protocol": 6, "pid": 17236, "local_port": 51318, "direction": "outbound", "sha256": "DD191A5B23DF92E12A8852291F9FB5ED594B76A28A5A464418442584AFD1E048", "event_type": "netconn", "link_sensor": "https://CB_SERVER/#/host/10094", "md5": "9520A99E77D6196D0D09833146424113", "cb_server": "CB_SERVER_HOSTNAME", "timestamp": 1624611390, "link_process": "https://CB_SERVER/#analyze/0000276e-0000-4354-01d7-667387622d86/0", "remote_ip": "REMOTE_IP", "computer_name": "COMPUTER_NAME", "type": "ingress.event.netconn", "process_path": "PROCESS_PATH", "domain": "DOMAIN", "remote_port": 443, "local_ip": "LOCAL_IP", "sensor_id": 10094}`
	// 49-coverage-cloud-faults_test.yaml "azure activity log write record from event hubs (category Write) is P2" (claims shortened).
	r18gAzureActivity = `{"time": "2019-01-21T22:14:26.9792776Z", "resourceId": "/subscriptions/s1/resourceGroups/MSSupportGroup/providers/microsoft.support/supporttickets/115012112305841", "operationName": "microsoft.support/supporttickets/write", "category": "Write", "resultType": "Success", "resultSignature": "Succeeded.Created", "durationMs": 2826, "callerIpAddress": "111.111.111.11", "correlationId": "c776f9f4-36e5-4e0e-809b-c9b3c3fb62a8", "identity": {"authorization": {"scope": "/subscriptions/s1/resourceGroups/MSSupportGroup/providers/microsoft.support/supporttickets/115012112305841", "action": "microsoft.support/supporttickets/write", "evidence": {"role": "Subscription Admin"}}, "claims": {"aud": "https://management.core.windows.net/", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "admin@contoso.com", "name": "John Smith"}}, "level": "Information", "location": "global", "properties": {"statusCode": "Created", "serviceRequestId": "50d5cddb-8ca0-47ad-9b80-6cde2207f97c"}}`
	// 49-coverage-microsoft-faults_test.yaml "graph signIn record from auditLogs/signIns is P2" (policies shortened).
	r18gGraphSignIn = `{"id": "66ea54eb-6301-4ee5-be62-ff5a759b0100", "createdDateTime": "2020-03-13T19:15:41.6195833Z", "userDisplayName": "Test Contoso", "userPrincipalName": "testaccount1@contoso.com", "userId": "26be570a-ae82-4189-b4e2-a37c6808512d", "appId": "de8bc8b5-d9f9-48b1-a8ad-b748da725064", "appDisplayName": "Graph explorer", "ipAddress": "131.107.159.37", "clientAppUsed": "Browser", "correlationId": "d79f5bee-5860-4832-928f-3133e22ae912", "conditionalAccessStatus": "notApplied", "isInteractive": true, "riskDetail": "none", "riskLevelAggregated": "none", "riskLevelDuringSignIn": "none", "riskState": "none", "resourceDisplayName": "Microsoft Graph", "resourceId": "00000003-0000-0000-c000-000000000000", "status": {"errorCode": 0}, "deviceDetail": {"operatingSystem": "Windows 10", "browser": "Edge 80.0.361"}, "location": {"city": "Redmond", "state": "Washington", "countryOrRegion": "US", "geoCoordinates": {"latitude": 47.68050003051758, "longitude": -122.12094116210938}}, "appliedConditionalAccessPolicies": [{"id": "de7e60eb-ed89-4d73-8205-2227def6b7c9", "displayName": "SharePoint limited access for guest workers", "result": "notEnabled"}]}`
	// 49-coverage-cloud-faults_test.yaml "pingone audit activity (admin updated an application) is P2".
	r18gPingOne = `{"_links": {"self": {"href": "https://api.pingone.asia/v1/environments/abc12abc-12ab-1234-1abc-abc123abc123/activities/123abc123-12ab-1234-1abc-abc123abc12"}}, "id": "123abc123-12ab-1234-1abc-abc123abc12", "recordedAt": "2022-07-06T11:31:55.312Z", "createdAt": "2022-07-06T11:31:55.329Z", "correlationId": "123abc123-12ab-1234-1abc-abc123abc12", "actors": {"client": {"id": "adminui", "name": "adminui", "type": "CLIENT"}, "user": {"id": "123abc123-12ab-1234-1abc-abc123abc12", "name": "example@gmail.com", "environment": {"id": "abc12abc-12ab-1234-1abc-abc123abc123"}, "population": {"id": "abc12abc-12ab-1234-1abc-abc123abc123"}, "type": "USER"}}, "action": {"type": "APPLICATION.UPDATED", "description": "Application Updated"}, "resources": [{"type": "APPLICATION", "id": "123abc123-12ab-1234-1abc-abc123abc12", "name": "testapp", "environment": {"id": "abc12abc-12ab-1234-1abc-abc123abc123"}}], "result": {"status": "SUCCESS", "description": "Updated Application testapp using 'OPENID_CONNECT' protocol of type 'SINGLE_PAGE_APP' with disabled state"}}`
	// 49-coverage-edr-sse-faults_test.yaml "mimecast TTP URL protect log (malicious, blocked) is P2" (tagMap left out).
	r18gMimecastTTP = `{"userEmailAddress": "jhartso@demo-int.elastic.mime-api.com", "fromUserEmailAddress": "terrym@concept-variety.b41.one", "url": "https://oneclient.sfx.ms/Win/Preview/OneDriveSetup.exe", "ttpDefinition": "Default Inbound URL Protect Definition", "subject": "WP-02 Data Response", "action": "warn", "adminOverride": "N/A", "userOverride": "None", "scanResult": "malicious", "category": "Dangerous file extension", "sendingIp": "81.2.69.144", "userAwarenessAction": "N/A", "date": "2024-11-14T19:44:02+0000", "actions": "Block", "route": "inbound", "creationMethod": "Entry Scan", "emailPartsDescription": ["Attachment"], "messageId": "<29b951d7ab596678-115297@hapi.b41.one>"}`
	// 49-coverage-microsoft-faults_test.yaml "graph directoryAudit record (add member to group) is P2".
	r18gGraphAudit = `{"id": "id", "category": "UserManagement", "correlationId": "da159bfb-54fa-4092-8a38-6e1fa7870e30", "result": "success", "resultReason": "Successfully added member to group", "activityDisplayName": "Add member to group", "activityDateTime": "2018-01-09T21:20:02.7215374Z", "loggedByService": "Core Directory", "initiatedBy": {"user": {"id": "728309ae-1a37-4937-9afe-e35d964db09b", "displayName": "Audry Oliver", "userPrincipalName": "bob@wingtiptoysonline.com", "ipAddress": "127.0.0.1"}}, "targetResources": [{"id": "ef7e527d-6c92-4234-8c6d-cf6fdfb57f95", "displayName": "Example.com", "type": "Group"}]}`
)

type r18gDoc struct {
	name, index string
	event       map[string]any
}

// r18gExplain normalizes and routes each sample as `router explain` does
// (the repository's rules and profiles, the embedded configuration), checks
// it is P2 (sent to OpenSearch) and returns it with the index the sink
// writes it to. All are given the ingest time's date: the samples are
// years old, and the sink files an event more than index_date_max_age
// (7 days) old under the ingest time's date; live events of these sources
// arrive the same day anyway.
func r18gExplain(t *testing.T, samples map[string]string) []r18gDoc {
	t.Helper()
	names := make([]string, 0, len(samples))
	for n := range samples {
		names = append(names, n)
	}
	sort.Strings(names)
	now := time.Now().UnixNano()
	var docs []r18gDoc
	for _, n := range names {
		out, err := run(t, samples[n]+"\n", "explain", "--rules", "../../rules", "-o", "json")
		if err != nil {
			t.Fatalf("%s: explain: %v\n%s", n, err, out)
		}
		var r struct {
			Rule       string         `json:"rule"`
			Priority   string         `json:"priority"`
			SourceType string         `json:"source_type"`
			Event      map[string]any `json:"event"`
		}
		found := false
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "{") {
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatalf("%s: %v\n%s", n, err, line)
				}
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("%s: no event explained\n%s", n, out)
		}
		if r.Priority != "P2" {
			t.Fatalf("%s: priority %s (rule %s), want P2: this test is about P2 events in OpenSearch", n, r.Priority, r.Rule)
		}
		ix, err := opensearch.IndexName(opensearch.DefaultIndex, r.SourceType, pipeline.P2, now)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, r18gDoc{name: n + " (rule " + r.Rule + ")", index: ix, event: r.Event})
	}
	return docs
}

// r18gTemplateObjects returns the paths the bootstrap index template maps
// as objects (mappings.properties entries with properties of their own).
func r18gTemplateObjects(t *testing.T) map[string]bool {
	t.Helper()
	var cfg opensearch.Config
	cfg.Bootstrap.Enabled = true
	var tmpl struct {
		Template struct {
			Mappings struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(opensearch.TemplateBody(cfg), &tmpl); err != nil {
		t.Fatal(err)
	}
	objs := map[string]bool{}
	var walk func(prefix string, props map[string]json.RawMessage)
	walk = func(prefix string, props map[string]json.RawMessage) {
		for k, raw := range props {
			var m struct {
				Properties map[string]json.RawMessage `json:"properties"`
			}
			_ = json.Unmarshal(raw, &m)
			if m.Properties != nil {
				objs[prefix+k] = true
				walk(prefix+k+".", m.Properties)
			}
		}
	}
	walk("", tmpl.Template.Mappings.Properties)
	return objs
}

// r18gShapes records, for every path of v, whether OpenSearch sees an
// object or a concrete value there (an array counts as its elements).
func r18gShapes(prefix string, v any, into map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		if prefix != "" {
			into[prefix] = "object"
		}
		for k, c := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			r18gShapes(p, c, into)
		}
	case []any:
		for _, e := range x {
			r18gShapes(prefix, e, into)
		}
	case nil:
	default:
		if prefix != "" {
			into[prefix] = "concrete"
		}
	}
}

// r18gCheckIndex reports every path of path that one document of an index
// has as an object and another (or the template) as a concrete value.
func r18gCheckIndex(t *testing.T, docs []r18gDoc, path string) {
	t.Helper()
	tmplObjs := r18gTemplateObjects(t)
	byIndex := map[string][]r18gDoc{}
	for _, d := range docs {
		byIndex[d.index] = append(byIndex[d.index], d)
	}
	for ix, ds := range byIndex {
		seen := map[string][]string{} // shape -> documents
		if tmplObjs[path] {
			seen["object"] = append(seen["object"], "the bootstrap index template")
		}
		for _, d := range ds {
			sh := map[string]string{}
			r18gShapes("", d.event, sh)
			if s, ok := sh[path]; ok {
				seen[s] = append(seen[s], d.name)
			}
		}
		if len(seen["object"]) > 0 && len(seen["concrete"]) > 0 {
			t.Errorf("index %s: field [%s] is an object in [%s] and a concrete value in [%s]: OpenSearch refuses one of them "+
				"(400 mapper_parsing_exception: object mapping for [%s] ... found a concrete value), and logrouter quarantines the P2 event",
				ix, path, strings.Join(seen["object"], "; "), strings.Join(seen["concrete"], "; "), path)
			for _, d := range ds {
				b, _ := json.Marshal(d.event)
				t.Logf("%s -> %s:\n%s", d.name, ix, b)
			}
		}
	}
}

// What is wrong: a Microsoft Graph riskDetection (P2, idp-entra-id-graph)
// has `"source": "activeDirectory"` (Graph's riskDetection.source: where
// the detection came from) at the top level, kept as it is. `source` is an
// ECS object (source.ip, source.port): the bootstrap template maps it as
// one, and Netskope's events in the same logs-unknown index write
// source.ip (its srcip renamed). The risk detection is refused.
// Expected: the detection's `source` not a concrete value where ECS and the
// index have the object (a profile keeping it under a vendor namespace, as
// docs/schema.md does for Zeek's `source`, or as source.value).
func TestGraphRiskDetectionSourceString(t *testing.T) {
	docs := r18gExplain(t, map[string]string{"graph riskDetection": r18gGraphRisk, "netskope application event": r18gNetskope})
	r18gCheckIndex(t, docs, "source")
}

// What is wrong: a Carbon Black EDR (on-prem) sensor event (P2,
// edr-carbonblack-edr-events) has `"host": "CB_SERVER_IP"` (the event
// forwarder's server), kept as a string. `host` is an ECS object: the
// bootstrap template maps host.name, and Netskope's events in the same
// logs-unknown index write host.name (hostname renamed). docs/schema.md
// turns a "host" string into host.value only next to a `hostname`. The
// sensor event is refused.
// Expected: no concrete `host` (host.value, or a carbonblack_edr namespace;
// the sensor's computer_name is what ECS host.name means).
func TestCarbonBlackEDRHostString(t *testing.T) {
	docs := r18gExplain(t, map[string]string{"carbon black EDR netconn": r18gCbEdr, "netskope application event": r18gNetskope})
	r18gCheckIndex(t, docs, "host")
}

// What is wrong: an Azure Activity log record (P2, cloud-azure-activity)
// has `"location": "global"` (the region, a string); a Graph signIn (P2,
// idp-entra-id-graph) has `location` as an object (city, state,
// geoCoordinates). Both have no source type, so both go to
// logs-unknown-{date}: whichever comes second in a day is refused.
// Expected: the two never disagree on `location` in one index (a profile
// per source: their own indices, or the region as cloud.region and the
// sign-in's place under a namespace or ECS source.geo).
func TestLocationStringAndObjectInUnknownIndex(t *testing.T) {
	docs := r18gExplain(t, map[string]string{"azure activity log": r18gAzureActivity, "graph signIn": r18gGraphSignIn})
	r18gCheckIndex(t, docs, "location")
}

// What is wrong: a Mimecast TTP URL Protect log (P2, email-mimecast) has
// `"action": "warn"`; a PingOne audit activity (P2, idp-pingone) has
// `action` as an object (type, description). Both go to logs-unknown-{date}:
// one of them is refused each day.
// Expected: no `action` that is a string in one and an object in the other
// within one index (ECS event.action for both, or their own indices).
func TestActionStringAndObjectInUnknownIndex(t *testing.T) {
	docs := r18gExplain(t, map[string]string{"mimecast TTP URL log": r18gMimecastTTP, "pingone audit activity": r18gPingOne})
	r18gCheckIndex(t, docs, "action")
}

// What is wrong: a Graph directoryAudit record (P2, idp-entra-id-graph) has
// `"result": "success"`; a PingOne audit activity (P2, idp-pingone) has
// `result` as an object (status, description). Both go to
// logs-unknown-{date}: one of them is refused each day.
// Expected: `result` of one shape within one index (ECS event.outcome for
// both, or their own indices).
func TestResultStringAndObjectInUnknownIndex(t *testing.T) {
	docs := r18gExplain(t, map[string]string{"graph directoryAudit": r18gGraphAudit, "pingone audit activity": r18gPingOne})
	r18gCheckIndex(t, docs, "result")
}
