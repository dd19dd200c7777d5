package route_test

import (
	"strings"
	"testing"

	logrouter "github.com/logrouter/logrouter"
	"github.com/logrouter/logrouter/internal/app"
	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/route"
	"github.com/logrouter/logrouter/rules"
)

// starterRouter is the router `router rules test` builds without -c: the
// embedded config.example.yaml and starter rules.
func starterRouter18(t *testing.T) *route.Router {
	t.Helper()
	cfg, err := config.Parse("config.example.yaml", logrouter.ExampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	r, err := app.BuildRouter(cfg, app.RulesSource{FS: logrouter.StarterRules, Dir: "rules"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func runCases18(t *testing.T, src string) []route.TestResult {
	t.Helper()
	cases, err := rules.ParseTests("rules/49-runner_test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return starterRouter18(t).RunTests(cases)
}

// TestRuleTestAbsentNullField
//
// What is wrong: `expect.absent` fails for a field the vendor sent as
// null: the normalized event has no such field (null values are removed
// from the output) and rules see it as missing (`x == nil`), yet the case
// reports "want (absent), got null", because the check asks the rules'
// lookup, which returns a Null value, and takes it for a present field.
//
// Expected: rules/README.md: normalization "removes empty values (`null`,
// "", {}, []) from its output", "a field sent as `null` is missing for them
// (`== nil`)"; `expect.absent` "lists fields the normalized event must not
// have". Such a field is absent for the output and for the rules: the case
// passes.
func TestRuleTestAbsentNullField(t *testing.T) {
	res := runCases18(t, `tests:
  - name: cloudtrail call with a null errorCode
    event: {"eventVersion": "1.08", "eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "errorCode": null}
    expect:
      rule: cloud-aws-cloudtrail
      absent: [errorCode]
`)
	if !strings.Contains(string(res[0].Output), `"eventName"`) || strings.Contains(string(res[0].Output), "errorCode") {
		t.Fatalf("precondition: the normalized event should lack errorCode: %s", res[0].Output)
	}
	if res[0].Diff != "" {
		t.Errorf("a field sent as null, missing from the normalized event and nil for the rules, fails expect.absent:\n%s\nnormalized: %s", res[0].Diff, res[0].Output)
	}
}

// TestRuleTestEventYAMLMergeKey
//
// What is wrong: a test `event` written as a YAML mapping with a merge key
// (`<<: *base`, the YAML way to reuse the event of an earlier case and
// change one member) is rendered to JSON by rules.nodeJSON with a literal
// member named "<<" holding the base event, instead of the merged mapping:
// the rules see none of the base's fields and the case runs on an event
// nobody wrote (here: default instead of the CloudTrail rule).
//
// Expected: rules/README.md: "`event` is the raw event as the vendor sends
// it ... as a YAML or JSON mapping". A YAML mapping with a merge key is the
// merged mapping (go.yaml.in/yaml/v3 decodes it so into a map); the second
// case is the first event with eventName changed and matches
// cloud-aws-cloudtrail like the first.
func TestRuleTestEventYAMLMergeKey(t *testing.T) {
	res := runCases18(t, `tests:
  - name: cloudtrail CreateUser
    event: &ct {"eventVersion": "1.08", "eventSource": "iam.amazonaws.com", "eventName": "CreateUser"}
    expect: {rule: cloud-aws-cloudtrail}
  - name: cloudtrail DeleteUser, the same event with one member changed
    event: {<<: *ct, "eventName": "DeleteUser"}
    expect:
      rule: cloud-aws-cloudtrail
      fields: {eventName: DeleteUser}
`)
	if res[0].Diff != "" {
		t.Fatalf("control case failed:\n%s", res[0].Diff)
	}
	if res[1].Diff != "" {
		t.Errorf("a YAML merge key in a test event is not merged (event JSON %s):\n%s", res[1].Case.JSON, res[1].Diff)
	}
}

// TestRuleTestBatchEnvelopeSplitAsRouter
//
// What is wrong: the HTTP and Kafka inputs (and `router explain`) split a
// batch envelope, an object whose only member is "records"/"Records"
// holding objects (Azure Event Hubs diagnostic settings, CloudTrail's S3
// files: normalize.Records), and classify each record. RunTests (`router
// rules test`, and the reload's tests) normalizes the envelope as one
// event: an Entra ID sign-in pasted as Event Hubs delivers it gets rule
// `default` (P3) in the test, while the router gives that very record
// idp-entra-id (P2). A test of what the vendor sends disagrees with the
// router.
//
// Expected: rules/README.md: "`event` is the raw event as the vendor sends
// it"; tests exist to prove what the router does with it. The one record of
// the envelope is classified as the router classifies it: idp-entra-id.
func TestRuleTestBatchEnvelopeSplitAsRouter(t *testing.T) {
	res := runCases18(t, `tests:
  - name: entra sign-in as Event Hubs delivers it
    event: {"records": [{"time": "2026-11-28T10:00:01.0000000Z", "operationName": "Sign-in activity",
      "category": "NonInteractiveUserSignInLogs", "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
      "resultType": "0", "properties": {"userPrincipalName": "mgarcia@example.com", "appDisplayName": "Microsoft Teams"}}]}
    expect:
      rule: idp-entra-id
      priority: P2
`)
	if res[0].Diff != "" {
		t.Errorf("an Event Hubs envelope of one Entra sign-in, which the inputs and explain split and classify as idp-entra-id, is tested as one event:\n%s\nnormalized: %s", res[0].Diff, res[0].Output)
	}
}
