package config

import (
	"strings"
	"testing"
)

// TestBackslashBeforeRefInDoubleQuotes: a backslash before ${VAR} inside a
// double-quoted value. The mask token used to start with "L", and "\L" is
// a YAML escape (U+2028), so the token was destroyed and the internal
// marker leaked into the value silently; now the invalid escape is an
// error, as it is without the reference.
func TestBackslashBeforeRefInDoubleQuotes(t *testing.T) {
	t.Setenv("LR_X", "value")
	c, err := Parse("c.yaml", []byte(minimal+"node: \"a\\${LR_X}\"\n"))
	if err == nil && strings.Contains(c.Node, "RENV") {
		t.Fatalf("internal mask token leaked into the value: %q", c.Node)
	}
}

// TestUnsetLineInBlockScalar: an unset ${VAR} inside a block scalar is
// reported at its own line, not the line of the "|".
func TestUnsetLineInBlockScalar(t *testing.T) {
	_, err := Parse("c.yaml", []byte(minimal+"node: |\n  a\n  b\n  ${LR_DEFINITELY_UNSET}\n"))
	if err == nil || !strings.Contains(err.Error(), "c.yaml:15:") {
		t.Fatalf("want the error at c.yaml:15 (the reference's line), got %v", err)
	}
}

// TestUnsetLineInFlowSeq: the same inside a flow sequence over lines.
func TestUnsetLineInFlowSeq(t *testing.T) {
	_, err := Parse("c.yaml", []byte(minimal+"dedup:\n  key_fields: [a,\n    b,\n    \"${LR_DEFINITELY_UNSET}\"]\n"))
	if err == nil || !strings.Contains(err.Error(), "c.yaml:15:") {
		t.Fatalf("want the error at c.yaml:15, got %v", err)
	}
}
