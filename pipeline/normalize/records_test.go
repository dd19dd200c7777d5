package normalize

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

func TestRecords(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     int // records returned; 0: not an envelope
	}{
		{"azure event hubs", `{"records":[{"category":"SignInLogs"},{"category":"AuditLogs"}]}`, 2},
		{"cloudtrail file", `{"Records":[{"eventSource":"iam.amazonaws.com"}]}`, 1},
		{"white space", ` { "records" : [ {"a":1} , {"b":2} , {"c":3} ] } `, 3},
		{"a sibling makes it an event", `{"records":[{"a":1}],"type":"dns"}`, 0},
		{"records of strings", `{"records":["a","b"]}`, 0},
		{"one element not an object", `{"records":[{"a":1},2]}`, 0},
		{"empty array", `{"records":[]}`, 0},
		{"an object, not an array", `{"records":{"a":1}}`, 0},
		{"other member name", `{"items":[{"a":1}]}`, 0},
		{"case differs", `{"RECORDS":[{"a":1}]}`, 0},
		{"plain event", `{"user":"x","records":3}`, 0},
		{"not an object", `[{"a":1}]`, 0},
		{"graph page", `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns","value":[{"id":"1"},{"id":"2"}]}`, 2},
		{"graph page, next link first", `{"@odata.nextLink":"https://graph.microsoft.com/v1.0/auditLogs/signIns?$skiptoken=x","@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns","value":[{"id":"1"}]}`, 1},
		{"graph delta page", `{"@odata.context":"c","@odata.deltaLink":"d","@odata.count":1,"value":[{"id":"1"}]}`, 1},
		{"graph page without context", `{"@odata.nextLink":"n","value":[{"id":"1"}]}`, 0},
		{"graph context not a string", `{"@odata.context":1,"value":[{"id":"1"}]}`, 0},
		{"graph page with another member", `{"@odata.context":"c","value":[{"id":"1"}],"id":"x"}`, 0},
		{"graph page with Google's members", `{"@odata.context":"c","value":[{"id":"1"}],"nextPageToken":"t"}`, 0},
		{"graph value repeated", `{"@odata.context":"c","value":[{"id":"1"}],"value":[{"id":"2"}]}`, 0},
		{"graph value of strings", `{"@odata.context":"c","value":["a"]}`, 0},
		{"graph value not an array", `{"@odata.context":"c","value":{"id":"1"}}`, 0},
		{"graph entity (no value)", `{"@odata.context":"c","id":"1","userPrincipalName":"a@b"}`, 0},
		{"google reports page", `{"kind":"admin#reports#activities","etag":"\"e\"","items":[{"kind":"admin#reports#activity"},{"kind":"admin#reports#activity"}],"nextPageToken":"t"}`, 2},
		{"google reports page, kind last", `{"items":[{"kind":"admin#reports#activity"}],"kind":"admin#reports#activities"}`, 1},
		{"google page of another kind", `{"kind":"admin#directory#users","items":[{"a":1}]}`, 0},
		{"google page without kind", `{"etag":"e","items":[{"a":1}]}`, 0},
		{"google page with another member", `{"kind":"admin#reports#activities","items":[{"a":1}],"warnings":[]}`, 0},
		{"google page with a Graph member", `{"kind":"admin#reports#activities","items":[{"a":1}],"@odata.context":"c"}`, 0},
		{"google page, no items", `{"kind":"admin#reports#activities","etag":"e"}`, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := fastjson.Parse(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := Records(v); len(got) != c.want {
				t.Fatalf("Records(%s) gave %d records, want %d", c.in, len(got), c.want)
			}
		})
	}
}

func TestActivityEvents(t *testing.T) {
	const ev = `{"type":"login","name":"login_success"}`
	for _, c := range []struct {
		name, in string
		want     int // events returned; 0: routed as it is
	}{
		{"two events", `{"kind":"admin#reports#activity","id":{"applicationName":"login"},"events":[` + ev + `,` + ev + `]}`, 2},
		{"three events, kind last", `{"events":[` + ev + `,` + ev + `,` + ev + `],"kind":"admin#reports#activity"}`, 3},
		{"one event stays a list", `{"kind":"admin#reports#activity","events":[` + ev + `]}`, 0},
		{"events an object (Elastic's split)", `{"kind":"admin#reports#activity","events":` + ev + `}`, 0},
		{"an element not an object", `{"kind":"admin#reports#activity","events":[` + ev + `,"x"]}`, 0},
		{"empty list", `{"kind":"admin#reports#activity","events":[]}`, 0},
		{"another kind", `{"kind":"audit#activity","events":[` + ev + `,` + ev + `]}`, 0},
		{"kind not a string", `{"kind":1,"events":[` + ev + `,` + ev + `]}`, 0},
		{"no kind", `{"events":[` + ev + `,` + ev + `]}`, 0},
		{"not an object", `[` + ev + `,` + ev + `]`, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := fastjson.MustParse(c.in)
			if got := ActivityEvents(v); len(got) != c.want {
				t.Fatalf("ActivityEvents(%s) gave %d events, want %d", c.in, len(got), c.want)
			}
			parts, activity := Parts(v)
			if len(parts) != c.want || (c.want > 0 && !activity) {
				t.Fatalf("Parts gave %d parts (activity %v), want %d", len(parts), activity, c.want)
			}
		})
	}
}

// TestEachPart: each event an activity holds is visited as the activity
// holding only it (its events member that object), and the activity is as
// it was afterwards; an envelope's records and a plain event as they are.
func TestEachPart(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     []string
	}{
		{"activity", `{"kind":"admin#reports#activity","ipAddress":"1.2.3.4","events":[{"name":"a"},{"name":"b"},{"name":"c"}]}`,
			[]string{`{"kind":"admin#reports#activity","ipAddress":"1.2.3.4","events":{"name":"a"}}`,
				`{"kind":"admin#reports#activity","ipAddress":"1.2.3.4","events":{"name":"b"}}`,
				`{"kind":"admin#reports#activity","ipAddress":"1.2.3.4","events":{"name":"c"}}`}},
		{"envelope", `{"records":[{"a":1},{"b":2}]}`, []string{`{"a":1}`, `{"b":2}`}},
		{"one event", `{"kind":"admin#reports#activity","events":[{"name":"a"}]}`, []string{`{"kind":"admin#reports#activity","events":[{"name":"a"}]}`}},
		{"reports page of activities", `{"kind":"admin#reports#activities","items":[{"kind":"admin#reports#activity","events":[{"name":"a"},{"name":"b"}]},{"kind":"admin#reports#activity","events":[{"name":"c"}]},{"kind":"admin#reports#activity","id":2,"events":[{"name":"d"},{"name":"e"}]}]}`,
			[]string{`{"kind":"admin#reports#activity","events":{"name":"a"}}`, `{"kind":"admin#reports#activity","events":{"name":"b"}}`,
				`{"kind":"admin#reports#activity","events":[{"name":"c"}]}`,
				`{"kind":"admin#reports#activity","id":2,"events":{"name":"d"}}`, `{"kind":"admin#reports#activity","id":2,"events":{"name":"e"}}`}},
		{"graph page", `{"@odata.context":"c","value":[{"id":"1"},{"id":"2"}]}`, []string{`{"id":"1"}`, `{"id":"2"}`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := fastjson.MustParse(c.in)
			var got []string
			EachPart(v, func(i, n int, part *fastjson.Value) {
				if i != len(got) || n != len(c.want) {
					t.Errorf("called with %d of %d, want %d of %d", i, n, len(got), len(c.want))
				}
				got = append(got, string(part.MarshalTo(nil)))
			})
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("parts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			if parts, activity := Parts(v); parts != nil && Count(parts, activity) != len(c.want) {
				t.Errorf("Count gave %d, want %d", Count(parts, activity), len(c.want))
			}
			if after := string(v.MarshalTo(nil)); after != c.in {
				t.Errorf("after: %s, want it as it was: %s", after, c.in)
			}
		})
	}
}
