package httpin

// Batch envelopes and API pages longer than max_event_bytes (large.go).

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// graphSignIn is one v1.0/beta signIn record as Microsoft's "List
// signIns" documentation shows it (api-reference/beta/api/signin-list.md,
// example 1, its duplicate members left out), numbered by i: about 2.6 KB,
// a typical size for a real sign-in (real ones also carry
// appliedConditionalAccessPolicies, often the largest member).
func graphSignIn(i int) string {
	return fmt.Sprintf(`{"id":"1691d37b-8579-43a7-966a-0f35583c%04d","createdDateTime":"2021-06-30T16:34:32Z",`+
		`"userDisplayName":"Test contoso","userPrincipalName":"testaccount1@contoso.com","userId":"26be570a-1111-5555-b4e2-a37c6808512d",`+
		`"appId":"c44b4083-3bb0-49c1-b47d-974e53cbdf3c","appDisplayName":"Azure Portal","ipAddress":"131.107.159.37","clientAppUsed":"Browser",`+
		`"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.114 Safari/537.36 Edg/91.0.864.54",`+
		`"correlationId":"5d295068-919b-4017-85d8-44be2f5f5483","conditionalAccessStatus":"notApplied","originalRequestId":"7dccb0d7-1041-4d82-b785-d865272e1400",`+
		`"authenticationProtocol":"oAuth2","incomingTokenType":"Primary Refresh Token","isInteractive":true,"homeTenantId":"4f7a7bc2-28e2-46a3-b90e-5ade5bc90138",`+
		`"homeTenantName":"","isTenantRestricted":false,"tokenIssuerName":"","tokenIssuerType":"AzureAD","processingTimeInMilliseconds":761,`+
		`"riskDetail":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":"none","riskState":"none","riskEventTypes_v2":[],`+
		`"resourceDisplayName":"Windows Azure Service Management API","resourceId":"797f4846-ba00-4fd7-ba43-dac1f8f63013",`+
		`"resourceTenantId":"99081087-73c4-48d1-a112-f60ff75114f7","authenticationMethodsUsed":[],"authenticationRequirement":"singleFactorAuthentication",`+
		`"uniqueTokenIdentifier":"ZTE0OTk3YTQtZjg5Mi00YjBiLWIwNTEtZmViZTA1YzJhNDli","signInIdentifier":"testaccount1@contoso.com",`+
		`"signInEventTypes":["interactiveUser"],"servicePrincipalId":"","userType":"member","flaggedForReview":false,"autonomousSystemNumber":3598,`+
		`"crossTenantAccessType":"none","status":{"errorCode":50126,"failureReason":"Error validating credentials due to invalid username or password.",`+
		`"additionalDetails":"The user didn't enter the right credentials.  It's expected to see some number of these errors in your logs due to users making mistakes."},`+
		`"deviceDetail":{"deviceId":"","displayName":"","operatingSystem":"Windows 10","browser":"Edge 91.0.864","isCompliant":false,"isManaged":false,"trustType":""},`+
		`"location":{"city":"Redmond","state":"Washington","countryOrRegion":"US","geoCoordinates":{}},"appliedConditionalAccessPolicies":[],`+
		`"authenticationProcessingDetails":[{"key":"Login Hint Present","value":"True"}],"networkLocationDetails":[{"networkType":"namedNetwork","networkNames":["North America"]}],`+
		`"authenticationDetails":[{"authenticationStepDateTime":"2021-06-30T16:34:32Z","authenticationMethod":"Password","authenticationMethodDetail":"Password in the cloud",`+
		`"succeeded":false,"authenticationStepResultDetail":"Invalid username or password or Invalid on-premise username or password.",`+
		`"authenticationStepRequirement":"Primary authentication"}],"authenticationRequirementPolicies":[],"sessionLifetimePolicies":[]}`, i)
}

// TestLargeGraphPageIsSplit: a Graph page at Graph's default page size
// (1000 sign-ins, ~2.7 MB: past max_event_bytes' 1 MiB) is one event per
// sign-in on every endpoint that splits envelopes (from a review: it was
// quarantined whole as too_large, its first MiB kept, and HEC answered
// 200: every sign-in lost).
func TestLargeGraphPageIsSplit(t *testing.T) {
	recs := make([]string, 1000)
	for i := range recs {
		recs[i] = graphSignIn(i)
	}
	page := `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",` +
		`"@odata.nextLink":"https://graph.microsoft.com/v1.0/auditLogs/signIns?$skiptoken=9177f2e3","value":[` + strings.Join(recs, ",") + `]}`
	t.Logf("page of %d sign-ins: %d bytes", len(recs), len(page))
	for _, c := range []struct{ name, path, body string }{
		{"ndjson", "/ingest", page},
		{"hec", "/services/collector/event", `{"sourcetype":"azure:aad:signin","event":` + page + `}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, Config{}, nil)
			w := f.do("POST", c.path, "", c.body)
			rej := f.q.Records()
			if n := len(f.rec.Events()); n != len(recs) || len(rej) != 0 {
				why := ""
				if len(rej) > 0 {
					why = fmt.Sprintf("; quarantined %d record(s), the first %s (%d of the page's %d bytes kept)", len(rej), rej[0].Reason, len(rej[0].Raw), len(page))
				}
				t.Errorf("answer %d: %d events delivered, want %d (one per sign-in of the page)%s", w.Code, n, len(recs), why)
			}
			if c.name == "hec" && w.Code == http.StatusOK && len(f.rec.Events()) == 0 {
				t.Errorf("HEC answered 200 for a page none of whose sign-ins was delivered: the poller will not resend it")
			}
		})
	}
}

func largeGraphPage(n int, extra ...string) string {
	recs := make([]string, n)
	for i := range recs {
		recs[i] = graphSignIn(i)
	}
	recs = append(recs, extra...)
	return `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",` +
		`"@odata.nextLink":"https://graph.microsoft.com/v1.0/auditLogs/signIns?$skiptoken=9177f2e3","value":[` + strings.Join(recs, ",") + `]}`
}

// TestLargeEnvelopeOtherPaths: HEC raw lines and NDJSON array elements
// too; a Reports page's activities of several events split further; the
// envelope's time stays each record's default.
func TestLargeEnvelopeOtherPaths(t *testing.T) {
	small := Config{MaxEventBytes: 64 << 10}
	act := func(q string, names ...string) string {
		evs := make([]string, len(names))
		for i, n := range names {
			evs[i] = `{"type":"USER_SETTINGS","name":"` + n + `"}`
		}
		return `{"kind":"admin#reports#activity","id":{"time":"2026-11-30T11:00:00Z","uniqueQualifier":"` + q + `","applicationName":"admin"},` +
			`"actor":{"email":"admin@example.com"},"events":[` + strings.Join(evs, ",") + `]}`
	}
	items := make([]string, 400)
	for i := range items {
		items[i] = act(fmt.Sprint(i), "CREATE_USER", "ASSIGN_ROLE")
	}
	google := `{"kind":"admin#reports#activities","items":[` + strings.Join(items, ",") + `],"nextPageToken":"t"}`
	if len(google) <= small.MaxEventBytes {
		t.Fatalf("the page is %d bytes, not past max_event_bytes", len(google))
	}
	page := largeGraphPage(100)
	for _, c := range []struct {
		name, path, body string
		want             int
	}{
		{"hec raw", "/services/collector/raw?time=1700000000", page, 100},
		{"ndjson array", "/ingest", "[" + page + "," + page + "]", 200},
		{"reports page of activities", "/ingest", google, 800},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, small, nil)
			w := f.do("POST", c.path, "", c.body)
			if w.Code != http.StatusOK || len(f.q.Records()) != 0 {
				t.Fatalf("%d %s; %d quarantined", w.Code, w.Body, len(f.q.Records()))
			}
			evs := f.rec.Events()
			if len(evs) != c.want {
				t.Fatalf("%d events, want %d", len(evs), c.want)
			}
			if c.name == "hec raw" && evs[0].Time != int64(1625070872e9) {
				t.Errorf("record time %d: want its own createdDateTime, the request's ?time= only a default", evs[0].Time)
			}
			if c.name == "reports page of activities" && !strings.Contains(string(evs[1].Raw), `"events":{"type":"USER_SETTINGS","name":"ASSIGN_ROLE"}`) {
				t.Errorf("event 2 = %.300s; want the first activity holding only its second event", evs[1].Raw)
			}
		})
	}
}

// TestLargeEnvelopeRefusals: in a large page, a record past
// max_event_bytes itself is quarantined alone (too_large) and the others
// taken; over HEC a refused record is quarantined in an envelope of its
// own that replays as split; a large record that is no envelope (another
// member, an element not an object, invalid JSON) is quarantined whole as
// before; a large page's events count against max_events_per_request.
func TestLargeEnvelopeRefusals(t *testing.T) {
	small := Config{MaxEventBytes: 64 << 10}
	huge := `{"id":"huge","createdDateTime":"2026-11-30T10:00:00Z","blob":"` + strings.Repeat("x", 70<<10) + `"}`
	t.Run("a record past the bound alone", func(t *testing.T) {
		f := newFixture(t, small, nil)
		w := f.do("POST", "/ingest", "", largeGraphPage(50, huge))
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "too_large") {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		rej := f.q.Records()
		if n := len(f.rec.Events()); n != 50 || len(rej) != 1 || rej[0].Reason != "too_large" || !strings.HasPrefix(string(rej[0].Raw), `{"id":"huge"`) {
			t.Fatalf("%d events, %d quarantined; want 50 and the huge record alone", n, len(rej))
		}
	})
	t.Run("hec part quarantined in an envelope of its own", func(t *testing.T) {
		wide := wideObject(`"id":"wide"`)
		f := newFixture(t, small, nil)
		f.do("POST", "/services/collector/event", "", `{"host":"poller-1","time":1700000000,"event":`+largeGraphPage(50, wide)+`}`)
		rej := f.q.Records()
		if n := len(f.rec.Events()); n != 50 || len(rej) != 1 {
			t.Fatalf("%d events, %d quarantined; want 50 and the wide record", n, len(rej))
		}
		raw := string(rej[0].Raw)
		if !strings.Contains(raw, `"host":"poller-1"`) || !strings.Contains(raw, `"event":{"records":[{"id":"wide"`) || strings.Contains(raw, "graphSignIn") || len(raw) > 64<<10 {
			t.Fatalf("quarantined %.300s; want the envelope holding {\"records\":[the wide record]}", raw)
		}
		for _, e := range f.rec.Events() {
			if !strings.Contains(string(e.Raw), `"poller-1"`) {
				t.Fatalf("event %.200s lost the envelope's host", e.Raw)
			}
		}
	})
	for _, c := range []struct{ name, body string }{
		{"another member", strings.TrimSuffix(largeGraphPage(50), "}") + `,"note":"x"}`},
		{"an element not an object", largeGraphPage(50, `"x"`)},
		{"invalid JSON", strings.TrimSuffix(largeGraphPage(50), "]}") + `,}]}`},
	} {
		t.Run("no envelope: "+c.name, func(t *testing.T) {
			f := newFixture(t, small, nil)
			f.do("POST", "/ingest", "", c.body)
			rej := f.q.Records()
			if n := len(f.rec.Events()); n != 0 || len(rej) != 1 || rej[0].Reason != "too_large" {
				t.Fatalf("%d events, %d quarantined; want the record quarantined whole as too_large", n, len(rej))
			}
		})
	}
	t.Run("max_events_per_request", func(t *testing.T) {
		f := newFixture(t, Config{MaxEventBytes: 64 << 10, MaxEventsPerRequest: 60}, nil)
		w := f.do("POST", "/ingest", "", largeGraphPage(100))
		if w.Code == http.StatusOK || len(f.rec.Events()) != 0 {
			t.Fatalf("a page of 100 events with max_events_per_request 60: %d, %d events delivered", w.Code, len(f.rec.Events()))
		}
	})
}
