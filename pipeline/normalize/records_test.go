package normalize

import (
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
