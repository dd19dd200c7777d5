package normalize

import (
	"strings"
	"testing"
)

// TestConvertList: convert list keeps a list as it is and sets any other
// value aside (as a string, under logrouter.unconverted), so the field has
// one shape in the index.
func TestConvertList(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{Name: "m", Convert: OrderedMap{Keys: []string{"Parameters"}, Values: []string{"list"}}}}
	m := &EventMeta{SourceType: []byte("m")}
	for _, c := range []struct{ in, want, not string }{
		{`{"Parameters":[{"Name":"a","Value":"b"}]}`, `"Parameters":[{"Name":"a","Value":"b"}]`, `"unconverted"`},
		{`{"Parameters":[]}`, ``, `"unconverted"`},
		{`{"Parameters":"-Identity \"x\""}`, `"unconverted":{"Parameters":"-Identity \"x\""}`, `,"Parameters":`},
		{`{"Parameters":42}`, `"unconverted":{"Parameters":"42"}`, `,"Parameters":`},
		{`{"Parameters":{"Name":"a"}}`, `"unconverted":{"Parameters":"{\"Name\":\"a\"}"}`, `"Parameters":{`},
		{`{"Parameters":null,"x":1}`, `"x":1`, `"unconverted"`},
		{`{"Parameters":"-","x":1}`, `"x":1`, `"Parameters"`},
	} {
		out, _ := faultAppend(t, cfg, c.in, m)
		if c.want != "" && !strings.Contains(out, c.want) {
			t.Errorf("%s: want %s in\n%s", c.in, c.want, out)
		}
		if strings.Contains(out, c.not) {
			t.Errorf("%s: did not want %s in\n%s", c.in, c.not, out)
		}
	}
}

// TestConvertObjects: convert objects keeps only a list of objects; a list
// of names, a string or an object is set aside.
func TestConvertObjects(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{Name: "m", Convert: OrderedMap{Keys: []string{"ModifiedProperties"}, Values: []string{"objects"}}}}
	m := &EventMeta{SourceType: []byte("m")}
	for _, c := range []struct{ in, want, not string }{
		{`{"ModifiedProperties":[{"Name":"a","NewValue":"b","OldValue":"c"}]}`, `"ModifiedProperties":[{"Name":"a"`, `"unconverted"`},
		{`{"ModifiedProperties":["RecipientCollection"]}`, `"unconverted":{"ModifiedProperties":"[\"RecipientCollection\"]"}`, `"ModifiedProperties":[`},
		{`{"ModifiedProperties":[{"Name":"a"},"b"]}`, `"unconverted":{"ModifiedProperties":`, `"ModifiedProperties":[`},
		{`{"ModifiedProperties":"Name"}`, `"unconverted":{"ModifiedProperties":"Name"}`, `"ModifiedProperties":[`},
	} {
		out, _ := faultAppend(t, cfg, c.in, m)
		if !strings.Contains(out, c.want) {
			t.Errorf("%s: want %s in\n%s", c.in, c.want, out)
		}
		if strings.Contains(out, c.not) {
			t.Errorf("%s: did not want %s in\n%s", c.in, c.not, out)
		}
	}
}
