package rules

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"strings"
	"testing"
)

// TestExpectFieldsHexIntegers: expect.fields values are YAML nodes
// rendered to JSON by nodeJSON. For a node the YAML decoder tags !!int,
// nodeJSON writes the text if it is valid JSON, else strconv.ParseFloat of
// it, else fails with "invalid number". YAML 1.2 integers in hex or octal
// (0x17, 0xc000006d, 0o17), which go.yaml.in/yaml/v3 itself resolves to
// !!int 23 / 3221225581 / 15, are neither: ParseTests refuses the WHOLE test
// file, saying that a valid YAML number is an "invalid number".
//
// Windows writes many of its event data as hex ("Status": "0xc000006d",
// "SubStatus": "0xc0000064", "TicketEncryptionType": "0x17" - the RC4 of a
// Kerberoasting ticket, "LogonId": "0x3e7"; Microsoft 4625/4769 event XML,
// https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-10/security/threat-protection/auditing/event-4769).
// A SOC engineer asserting one of them unquoted (the README's own examples
// write values unquoted: user.name: jdoe, winlog.event_id: 4625) gets no
// case of that file run, with an error that blames the number instead of
// the quoting - a wrong failure. The value must either be the integer YAML
// says (23, then compared as JSON, where it fails against the string
// "0x17" with a diff) or the text as written.
func TestExpectFieldsHexIntegers(t *testing.T) {
	for _, tc := range []struct{ yaml, okAsNumber, okAsText string }{
		{"0x17", "23", `"0x17"`},
		{"0xc000006d", "3221225581", `"0xc000006d"`},
		{"0o17", "15", `"0o17"`},
	} {
		src := "tests:\n  - name: kerberoasting ticket\n    event: {\"winlog\": {\"event_data\": {\"TicketEncryptionType\": \"0x17\"}}}\n" +
			"    expect:\n      fields:\n        winlog.event_data.TicketEncryptionType: " + tc.yaml + "\n"
		cases, err := ParseTests("r_test.yaml", []byte(src))
		if err != nil {
			t.Errorf("expect.fields value %s (a YAML 1.2 integer): the test file is refused: %v", tc.yaml, err)
			continue
		}
		got := strings.TrimSpace(string(cases[0].Expect.FieldsJSON["winlog.event_data.TicketEncryptionType"]))
		if got != tc.okAsNumber && got != tc.okAsText {
			t.Errorf("expect.fields value %s rendered as %s, want %s (YAML's value) or %s", tc.yaml, got, tc.okAsNumber, tc.okAsText)
		}
	}
}
