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
			if after := string(v.MarshalTo(nil)); after != c.in {
				t.Errorf("after: %s, want it as it was: %s", after, c.in)
			}
		})
	}
}
