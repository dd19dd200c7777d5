package normalize

import (
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/jsonscan"
)

// FuzzLargeRecords: the byte scan (LargeRecords) agrees with
// Records on the parsed record. When it splits, Records splits
// the same record into the same records (same count, same values); when
// Records splits a record whose records' array is its one largest member
// (and the rest short), so does it.
func FuzzLargeRecords(f *testing.F) {
	for _, s := range []string{
		`{"records":[{"a":1},{"b":2}]}`, `{"Records":[{"eventName":"x"}]}`, `{"records":[]}`, `{"records":[1]}`,
		`{"@odata.context":"c","value":[{"id":"1"},{"id":"2"}],"@odata.nextLink":"n"}`,
		`{"@odata.context":"c","\u0076alue":[{"id":"1"}]}`, `{"@odata.context":"c","value":[{"id":"1"}],"x":1}`,
		`{"kind":"admin#reports#activities","items":[{"kind":"admin#reports#activity","events":[{"name":"a"},{"name":"b"}]}],"nextPageToken":"t"}`,
		`{"a":[{"x":1}],"b":"y"}`, ` { "records" : [ {"a":1} , {} ] } `, `{"value":[{"a":1}],"value":[{"b":2}],"@odata.context":"c"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if fastjson.ValidateBytes(raw) != nil {
			return
		}
		var p fastjson.Parser
		v, err := p.ParseBytes(raw)
		if err != nil {
			return
		}
		recs := Records(v)
		arr := LargeRecords(raw)
		if arr != nil {
			var got []string
			if err := jsonscan.Elements(arr, func(el []byte) error {
				var ep fastjson.Parser
				ev, err := ep.ParseBytes(el)
				if err != nil {
					return err
				}
				got = append(got, string(ev.MarshalTo(nil)))
				return nil
			}); err != nil {
				t.Fatalf("LargeRecords split %q into an array that does not scan: %v", raw, err)
			}
			if len(got) != len(recs) {
				t.Fatalf("LargeRecords split %q into %d records, Records into %d", raw, len(got), len(recs))
			}
			for i, r := range recs {
				if want := string(r.MarshalTo(nil)); got[i] != want {
					t.Fatalf("record %d of %q: LargeRecords %s, Records %s", i, raw, got[i], want)
				}
			}
			return
		}
		if recs == nil {
			return
		}
		// Records splits it: so must LargeRecords when the records' array is
		// the one largest member.
		var sizes []int
		_ = jsonscan.Members(raw, func(_, val []byte) error { sizes = append(sizes, len(val)); return nil })
		largest, ties := -1, 0
		for i, n := range sizes {
			switch {
			case largest < 0 || n > sizes[largest]:
				largest, ties = i, 0
			case n == sizes[largest]:
				ties++
			}
		}
		member := memberAt(v, largest)
		if ties == 0 && member != nil && len(member.GetArray()) > 0 && member.GetArray()[0] == recs[0] && len(raw) <= MaxSkeleton {
			t.Fatalf("Records splits %q into %d records, LargeRecords does not", raw, len(recs))
		}
	})
}
