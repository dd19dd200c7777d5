package route_test

import (
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog/parse"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// TestCEFProfileMapsTheDictionary: a CEF sender without a vendor profile
// (here Check Point's Log Exporter CEF) gets the extension dictionary's
// common keys in ECS (they stayed under cef.extensions.*, so OpenSearch had
// no source.ip for it), and the CEF receipt time (rt) as @timestamp.
func TestCEFProfileMapsTheDictionary(t *testing.T) {
	r := exampleRouter(t)
	w := r.NewWorker()
	line := `<134>Nov  6 10:15:39 fw01 CEF:0|Check Point|VPN-1 & FireWall-1|Check Point|Log|Drop|5|act=Drop src=10.1.2.3 dst=198.51.100.7 spt=51234 dpt=443 proto=TCP rt=1699265739000 suser=jdoe msg=blocked by rule 12`
	p := parse.New(parse.Options{Now: func() time.Time { return time.Date(2023, 11, 6, 11, 0, 0, 0, time.UTC) }})
	js, _ := p.AppendJSON(nil, []byte(line))
	var jp fastjson.Parser
	v, err := jp.ParseBytes(js)
	if err != nil {
		t.Fatal(err)
	}
	b := pipeline.NewBatch()
	defer b.Release()
	em := normalize.EventMeta{DefaultSourceType: []byte("syslog"), KeepOwnLogrouter: true}
	if err := w.Add(b, v, nil, &em); err != nil {
		t.Fatal(err)
	}
	out := string(b.Events[0].Raw)
	for _, want := range []string{
		`"@timestamp":"2023-11-06T10:15:39.000Z"`,
		`"source":{"ip":"10.1.2.3","port":51234,"user":{"name":"jdoe"}}`,
		`"destination":{"ip":"198.51.100.7","port":443}`,
		`"network":{"transport":"tcp"}`,
		`"action":"Drop"`,
		`"message":"blocked by rule 12"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in %s", want, out)
		}
	}
	if strings.Contains(out, `"extensions"`) {
		t.Errorf("dictionary keys left under cef.extensions: %s", out)
	}
}
