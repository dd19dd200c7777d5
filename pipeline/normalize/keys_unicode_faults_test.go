package normalize

import (
	"strings"
	"testing"
)

// docs/schema.md: "an empty or blank name, or an empty or blank segment
// between dots, becomes _". OpenSearch's test is Java's String.isBlank /
// Strings.hasText (Character.isWhitespace), which counts Unicode space
// separators (U+3000 ideographic space, U+2003 em space, U+2028): such a
// name still reaches the output and the document is refused
// (mapper_parsing_exception, to the quarantine). blankByte is ASCII only.
func TestUnicodeBlankKeys(t *testing.T) {
	n := mustCompile(t, testConfig()).New()
	in := "{\"\u3000\":1,\"a.\u2003.b\":2,\"msg\":\"hi\"}"
	out, _ := normalizeOne(t, n, in, nil)
	for _, bad := range []string{"\"\u3000\"", "\"a.\u2003.b\""} {
		if strings.Contains(out, bad) {
			t.Errorf("output keeps blank name %q, which OpenSearch refuses: %s", bad, out)
		}
	}
}
