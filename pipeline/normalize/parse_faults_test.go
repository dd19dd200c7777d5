package normalize

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// TestParseColumnUnderParsedField: a parse column whose path lies
// under the parsed field ("log" split into ECS log.level) is silently
// lost. compileParse only refuses a column equal to the field;
// parseColumns sets the column with setPath, which turns the field's
// string node into an object holding the text as "value" and the column
// (displace), and then marks that same node, now the object, kRemoved: the
// event comes out without log.level, and rules never see it (the other
// columns survive).
//
// Who: Docker's json-file log driver and Fluent Bit / Fluentd's docker
// parsers put the container's line in a top-level "log" string; a profile
// splitting it into ECS fields naturally names log.level (ECS's field for
// the severity). Shape: Docker json-file driver,
// https://docs.docker.com/engine/logging/drivers/json-file/ ({"log":"...\n",
// "stream":"stderr","time":"..."}). A SOC analyst loses the level of every
// such event (log.level:ERROR finds nothing; a rule on it never matches),
// and nothing says why: the config loads without an error.
func TestParseColumnUnderParsedField(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name:  "app.container",
		Parse: &ParseSpec{Field: "log", Columns: []string{"source.ip", "log.level", "message"}},
	}}
	comp := mustCompile(t, cfg)
	var p fastjson.Parser
	v, err := p.Parse(`{"log":"10.0.0.5 ERROR \"disk /data is full\"\n","stream":"stderr","time":"2026-11-29T10:00:00.123456789Z"}`)
	if err != nil {
		t.Fatal(err)
	}
	n := comp.New()
	if err := n.Build(v, nil, testMeta(), &EventMeta{SourceType: []byte("app.container")}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"source.ip": "10.0.0.5", "log.level": "ERROR", "message": "disk /data is full"} {
		if got := n.Lookup(path); got.Kind != String || string(got.Str) != want {
			t.Errorf("rules read %s as %v %q, want %q", path, got.Kind, got.Str, want)
		}
	}
	out, _ := n.AppendTo(nil)
	if !strings.Contains(string(out), `"level":"ERROR"`) {
		t.Errorf("the column log.level is not written (lost with the removed field):\n%s", out)
	}
}
