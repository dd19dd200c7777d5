package siem

import (
	"strings"
	"testing"
)

// TestCEFConstants: cef.constants writes its keys with the same text for
// every event, escaped, in key order among the fields; a key both a field
// and a constant, and a *Label key mapped to something that reads as a
// label, are refused with a message that says where it goes.
func TestCEFConstants(t *testing.T) {
	cfg := SyslogConfig{CEF: CEFConfig{
		Extension: map[string]string{"cs1": "rule.name", "suser": "user.name"},
		Constants: map[string]string{"cs1Label": "Detection Rule", "cs2Label": "a=b"},
	}}
	msg := reviewCEFFrame(t, cfg, `{"rule":{"name":"Mimikatz"},"user":{"name":"jdoe"}}`)
	if !strings.Contains(msg, `|cs1=Mimikatz cs1Label=Detection Rule cs2Label=a\=b suser=jdoe`) {
		t.Errorf("extension not as expected: %q", msg)
	}

	for _, tc := range []struct {
		ext, con map[string]string
		want     string
	}{
		{map[string]string{"cs1Label": "rule.name"}, map[string]string{"cs1Label": "x"}, "not both"},
		{map[string]string{"cs1Label": "Detection Rule"}, nil, `under "cef.constants"`},
		{nil, map[string]string{"cs 1": "x"}, "not a CEF key"},
	} {
		c := SyslogConfig{Address: "127.0.0.1:514", Format: "cef", CEF: CEFConfig{Extension: tc.ext, Constants: tc.con}}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: got %v, want an error with %q", tc.ext, tc.con, err, tc.want)
		}
	}
}
