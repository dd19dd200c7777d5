package rules

import (
	"fmt"
	"testing"

	"github.com/valyala/fastjson"
)

// TestAnchoredPrefixInvalidUTF8 (a fault test: it fails on the
// code as found).
//
// What is wrong: the "prefixes and suffixes are atoms" commit indexes
// `F matches "^p..."` by the literal prefix anchoredPrefix (rules/index.go)
// reads with regexp/syntax, and ruleIndex.eval/eval64/evalEager make the
// rule a candidate only when bytes.HasPrefix(value, p) (indexField.or,
// or64, evalEager's loop). But anchoredPrefix returns the prefix as the
// UTF-8 encoding of the pattern's runes, while Go's regexp (the native
// matcher, lower.go `re.Match(v.Str)`, and expr's VM) matches the input
// rune by rune, decoding every invalid byte as U+FFFD: the pattern
// `^\uFFFDabc` matches the value "\xffabc", whose bytes do not begin with
// "\xef\xbf\xbd". The index leaves the rule out, so Set.Eval differs from
// Set.evalLinear ("a rule left out has no atom of its guard holding" no
// longer holds: the `matches` comparison is true, its prefix atom false).
//
// Realistic: the normalizer keeps a string value's bytes as received
// (Lookup("msg") is "\xffabc") but writes the event with each invalid byte
// as U+FFFD ("msg":"\uFFFDabc" in OpenSearch), so an analyst who writes
// `msg matches "^\uFFFDabc"` from what the index shows has it match in
// the linear walk, and not under the rule index.
//
// Reproduce: a set of >= minIndexed guarded rules whose first rule is
// `msg matches "^\uFFFDabc"`; event {"msg":"\xffabc"} (raw 0xff byte).
// Expected: Eval returns 0, as evalLinear does (Set.Eval's contract: the
// first rule in order that matches). Got: -1 (the default), for one-word
// (eval64), multi-word (eval) and > maxLazyWords*64 (evalEager) sets.
//
// Fix idea: anchoredPrefix must stop at (or refuse) a U+FFFD literal rune,
// which also matches any invalid byte; the bytes before it are still a
// sound prefix.
func TestAnchoredPrefixInvalidUTF8(t *testing.T) {
	for _, nrules := range []int{10, 70, maxLazyWords*64 + 10} {
		t.Run(fmt.Sprintf("%d-rules", nrules), func(t *testing.T) {
			exprs := []string{"msg matches \"^\uFFFDabc\""}
			for i := 1; i < nrules; i++ {
				exprs = append(exprs, fmt.Sprintf(`event.dataset == "ds%d"`, i))
			}
			set := loadExprs(t, exprs)
			if set.index == nil {
				t.Fatal("set not indexed")
			}
			n := testNormalizer(t)
			var p fastjson.Parser
			buildEvent(t, n, &p, "{\"msg\":\"\xffabc\"}")
			if v := n.Lookup("msg"); string(v.Str) != "\xffabc" {
				t.Fatalf("msg = %q, want the raw bytes", v.Str)
			}
			e := newCachedEnv(n, set.Fields)
			e.load()
			want := set.evalLinear(e)
			if want != 0 {
				t.Fatalf("linear walk = %d, want 0 (regexp matches an invalid byte as U+FFFD)", want)
			}
			if got := set.Eval(e); got != want {
				t.Errorf("Eval = %d (%s), evalLinear = %d (%s): the index left out a rule that matches",
					got, set.RuleName(got), want, set.RuleName(want))
			}
		})
	}
}
