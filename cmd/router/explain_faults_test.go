package main

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"fmt"
	"strings"
	"testing"
)

// TestExplainEnvelopeCountsRecordsAsLines: `router explain` now
// explains a batch envelope ({"records":[...]}, {"Records":[...]}) record by
// record. Its "bad" counter counts rejected records, but the summary still
// prints that number as lines ("%d of %d lines were rejected", with line =
// input lines). One Event Hubs line whose two records are refused
// (too_many_fields) ends with "2 of 1 lines were rejected". That is false,
// and it confuses an operator using explain to find which input lines to
// fix or drop.
//
// Correct: count what is reported consistently: rejected lines of input
// lines, or rejected records of records explained.
func TestExplainEnvelopeCountsRecordsAsLines(t *testing.T) {
	wide := func(cat string) string {
		var b strings.Builder
		b.WriteString(`{"category":"` + cat + `"`)
		for i := range 2100 {
			fmt.Fprintf(&b, `,"f%d":1`, i)
		}
		b.WriteString("}")
		return b.String()
	}
	in := `{"records":[` + wide("a") + "," + wide("b") + `,{"category":"SignInLogs","operationName":"Sign-in activity"}]}` + "\n"
	out, err := run(t, in, "explain")
	if err == nil {
		t.Fatalf("want an error for the refused records\n%s", out)
	}
	var bad, lines int
	if _, serr := fmt.Sscanf(err.Error(), "%d of %d lines were rejected", &bad, &lines); serr == nil && bad > lines {
		t.Errorf("summary %q: more lines rejected than lines read (it counts the envelope's records)", err)
	}
}
