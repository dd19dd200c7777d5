package route_test

import (
	"strings"
	"testing"

	logrouter "github.com/logrouter/logrouter"
	"github.com/logrouter/logrouter/internal/app"
	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/rules"
)

// TestRuleTestFields: expect.source_type, fields and absent check the
// normalized event (what a profile made of the vendor's fields), and each
// mismatch is reported with what came out.
func TestRuleTestFields(t *testing.T) {
	cfg, err := config.Parse("config.example.yaml", logrouter.ExampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	r, err := app.BuildRouter(cfg, app.RulesSource{FS: logrouter.StarterRules, Dir: "rules"})
	if err != nil {
		t.Fatal(err)
	}
	cases, err := rules.ParseTests("f_test.yaml", []byte(`tests:
  - name: cloudtrail mapped
    event: {"eventVersion": "1.08", "eventTime": "2026-11-29T10:00:00Z", "eventSource": "iam.amazonaws.com",
      "eventName": "CreateUser", "awsRegion": "eu-west-1", "sourceIPAddress": "198.51.100.1", "n": 3,
      "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/bob"}}
    expect:
      source_type: aws.cloudtrail
      fields:
        event.action: CreateUser
        cloud: {region: eu-west-1, provider: aws}
        n: 3
        "@timestamp": "2026-11-29T10:00:00.000Z"
      absent: [eventName, awsRegion]
  - name: every kind of mismatch
    event: {"eventVersion": "1.08", "eventTime": "2026-11-29T10:00:00Z", "eventSource": "iam.amazonaws.com",
      "eventName": "CreateUser", "awsRegion": "eu-west-1", "n": 3}
    expect:
      source_type: okta.system
      fields: {event.action: DeleteUser, n: "3", user.name: bob}
      absent: [eventVersion]
`))
	if err != nil {
		t.Fatal(err)
	}
	res := r.RunTests(cases)
	if res[0].Diff != "" {
		t.Errorf("a matching case failed:\n%s\n%s", res[0].Diff, res[0].Output)
	}
	d := res[1].Diff
	for _, want := range []string{
		"source_type (event.dataset):\n    - want okta.system\n    + got  aws.cloudtrail",
		"event.action:\n    - want \"DeleteUser\"\n    + got  \"CreateUser\"",
		"n:\n    - want \"3\"\n    + got  3",
		"user.name:\n    - want \"bob\"\n    + got  (missing)",
		"eventVersion:\n    - want (absent)\n    + got  \"1.08\"",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
	for _, bad := range []string{
		"tests:\n  - name: n\n    event: {a: 1}\n    expect: {fields: {a..b: 1}}\n",
		"tests:\n  - name: n\n    event: {a: 1}\n    expect: {absent: [.a]}\n",
		"tests:\n  - name: n\n    event: {a: 1}\n    expect: {fields: {a: 1}, absent: [a]}\n",
		"tests:\n  - name: n\n    event: {a: 1}\n    expect: {feilds: {a: 1}}\n",
	} {
		if _, err := rules.ParseTests("b_test.yaml", []byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
