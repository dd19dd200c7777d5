package rules

import (
	"strings"
	"testing"
)

func TestParseTestsSyslog(t *testing.T) {
	cases, err := ParseTests("t_test.yaml", []byte(`tests:
  - name: a syslog line
    syslog: "<14>Jan  1 08:50:42 DC01 sshd[1]: Failed password for root"
    expect: {priority: P2}
`))
	if err != nil || len(cases) != 1 || cases[0].Syslog.Value == "" || cases[0].Line != 3 {
		t.Fatalf("cases %+v, err %v", cases, err)
	}
	for _, bad := range []string{
		"tests:\n  - name: both\n    syslog: \"<14>x\"\n    event: {a: 1}\n    expect: {priority: P2}\n",
		"tests:\n  - name: not a string\n    syslog: [a]\n    expect: {priority: P2}\n",
		"tests:\n  - name: nothing expected\n    syslog: \"<14>x\"\n    expect: {}\n",
	} {
		if _, err := ParseTests("t_test.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "t_test.yaml:") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
