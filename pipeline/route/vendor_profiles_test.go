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
		`"network":{"transport":"tcp","iana_number":"6"}`,
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

// TestEntraProfileMapsUserAndAddress: Entra ID sign-in records get their
// user and caller address in ECS (user.name, source.ip) and stay where the
// rules read them (tenantId, category): P2 by idp-entra-id.
func TestEntraProfileMapsUserAndAddress(t *testing.T) {
	r := exampleRouter(t)
	w := r.NewWorker()
	var jp fastjson.Parser
	v, err := jp.Parse(`{"time": "2023-11-06T10:15:39.6601743Z", "resourceId": "/tenants/72f988bf-86f1-41af-91ab-2d7cd011db47/providers/Microsoft.aadiam", "operationName": "Sign-in activity", "category": "SignInLogs", "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "resultType": "50126", "callerIpAddress": "203.0.113.5", "correlationId": "b4f0a8e2", "properties": {"userPrincipalName": "jsmith@contoso.com", "appDisplayName": "Azure Portal"}}`)
	if err != nil {
		t.Fatal(err)
	}
	b := pipeline.NewBatch()
	defer b.Release()
	if err := w.Add(b, v, nil, &normalize.EventMeta{}); err != nil {
		t.Fatal(err)
	}
	ev := b.Events[0]
	out := string(ev.Raw)
	for _, want := range []string{`"@timestamp":"2023-11-06T10:15:39.660174300Z"`, `"source":{"ip":"203.0.113.5"}`, `"name":"jsmith@contoso.com"`, `"category":"SignInLogs"`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in %s", want, out)
		}
	}
	if ev.Priority != pipeline.P2 || r.Rules.RuleName(int(ev.Rule)) != "idp-entra-id" {
		t.Errorf("priority %v rule %s, want P2 idp-entra-id", ev.Priority, r.Rules.RuleName(int(ev.Rule)))
	}
}
