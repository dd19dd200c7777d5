package parse

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"testing"

	"github.com/valyala/fastjson"
)

// TestCheckPointEscapedBracket
//
// What I did: parsed a Check Point Log Exporter line with the
// __policy_id_tag field exactly as every Log Exporter test line of Elastic
// carries it (beats x-pack/filebeat/module/checkpoint/firewall/test/
// R81.X.log, trailing-space.log; integrations test-checkpoint.log):
// policy_name=Standard\] -- the ']' inside the value is escaped, the '['
// before it is not. Log Exporter escapes as RFC 5424 §6.3.3 does for a
// PARAM-VALUE: '"', '\' and ']' (the format stands where structured data
// does, and a bare ']' would end it).
// What happened: parseCheckPoint skips the escaped ']' while scanning, but
// unescapeQuoted resolves only \" and \\, so the field keeps the
// backslash: "...policy_name=Standard\]".
// What should happen: "...policy_name=Standard]", the value the gateway
// logged (as \" gives '"' and \\ gives '\').
// Why it matters: every value with a ']' (URLs with brackets, IPv6
// literals "[2001:db8::1]:443", policy tags, file paths, messages) is
// stored altered: searches and detections on the exact value miss, and
// the archived copy is not what the device sent.
func TestCheckPointEscapedBracket(t *testing.T) {
	line := `<134>1 2022-07-16T18:51:20Z fw1 CheckPoint 15190 - [action:"Accept"; origin:"81.2.69.144"; ` +
		`__policy_id_tag:"product=VPN-1 & FireWall-1[db_tag={2A2FD8C0-A383-3DE4-A515-13D2CB28A798};mgmt=Client_Server_1;date=1657919347;policy_name=Standard\]"; ` +
		`resource:"http://[2001:db8::1\]:8080/a"; src:"10.0.0.1"]`
	p := newTestParser()
	out, res := p.AppendJSON(nil, []byte(line))
	if res.Format != FormatCheckPoint {
		t.Fatalf("payload %q, want checkpoint: %s", res.Format, out)
	}
	v, err := fastjson.ParseBytes(out)
	if err != nil {
		t.Fatalf("output is not JSON: %v: %s", err, out)
	}
	want := map[string]string{
		"__policy_id_tag": "product=VPN-1 & FireWall-1[db_tag={2A2FD8C0-A383-3DE4-A515-13D2CB28A798};mgmt=Client_Server_1;date=1657919347;policy_name=Standard]",
		"resource":        "http://[2001:db8::1]:8080/a",
	}
	for k, w := range want {
		if got := string(v.GetStringBytes(k)); got != w {
			t.Errorf("%s = %q, want %q (\\] is an escaped ']')", k, got, w)
		}
	}
}
