package engine

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBoundLabel(t *testing.T) {
	long := strings.Repeat("é", 200)
	for _, in := range []string{"fortinet.fortigate", long, long + "x", "a\xffb", strings.Repeat("a", 127) + "\xff"} {
		out := boundLabel(in)
		if !utf8.ValidString(out) || len(out) > maxLabelBytes+8 {
			t.Errorf("boundLabel(%.20q...) = %q (%d bytes)", in, out, len(out))
		}
	}
	if boundLabel(long) == boundLabel(long+"x") {
		t.Error("two long values rendered alike")
	}
	if boundLabel("fortinet.fortigate") != "fortinet.fortigate" {
		t.Error("a short valid value changed")
	}
}
