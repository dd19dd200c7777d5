package normalize

import (
	"testing"

	"github.com/valyala/fastjson"
)

// TestEmptyOwnDatasetKeepsDefaultProfile: the input's default source type
// "acme" selects profile acme, and the event carries an empty, null or no
// event.dataset. The first two used to lose the profile and the dataset;
// all three must come out as acme, with the profile applied.
func TestEmptyOwnDatasetKeepsDefaultProfile(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{Name: "acme", Rename: OrderedMap{Keys: []string{"code"}, Values: []string{"event.code"}}}}
	n := mustCompile(t, cfg).New()
	for _, in := range []string{`{"event":{"dataset":""},"code":"4625"}`, `{"event":{"dataset":null},"code":"4625"}`, `{"code":"4625"}`} {
		var p fastjson.Parser
		v, _ := p.Parse(in)
		out, _, err := n.Append(nil, v, nil, testMeta(), &EventMeta{DefaultSourceType: []byte("acme")})
		if err != nil {
			t.Fatal(err)
		}
		var op fastjson.Parser
		ov, err := op.ParseBytes(out)
		if err != nil {
			t.Fatal(err)
		}
		if ov.Get("code") != nil || string(ov.GetStringBytes("event", "code")) != "4625" || string(ov.GetStringBytes("event", "dataset")) != "acme" {
			t.Errorf("%s: profile acme not applied or dataset missing: %s", in, out)
		}

	}
}
