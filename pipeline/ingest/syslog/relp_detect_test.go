package syslog

import "testing"

func TestDetectRELP(t *testing.T) {
	for _, tc := range []struct {
		in      string
		mode    int
		decided bool
	}{
		{"1 open 86 relp_version=0\nrelp_software=x", modeRELP, true},
		{"1 open 86 relp_ver", 0, false},
		{"1 op", 0, false},
		{"3 open ports found on host\n", modeLF, true},
		{"3 open 22 ports\n", modeLF, true},
		{"12 <14>1 - - - - - - x", modeOctet, true},
		{"hello\n", modeLF, true},
	} {
		m, d := detect([]byte(tc.in))
		if m != tc.mode || d != tc.decided {
			t.Errorf("detect(%q) = %d, %v; want %d, %v", tc.in, m, d, tc.mode, tc.decided)
		}
	}
}
