package config

import (
	"strings"
	"testing"
)

// TestAdminToken: admin.token guards event injection into every
// destination, so a short one, or one an Authorization header cannot carry
// as is, is refused with what to do; none at all is valid (POST
// /admin/replay then answers loopback peers only).
func TestAdminToken(t *testing.T) {
	for _, tc := range []struct{ token, want string }{
		{"", ""},
		{"${ADMIN_TOKEN}", ""},
		{"${ADMIN_TOKEN_UNSET:-}", ""},
		{"short", "admin.token: 5 characters is too short"},
		{`"0123456789abcdef 0123"`, "admin.token: contains a space or control character"},
	} {
		t.Setenv("ADMIN_TOKEN", "0123456789abcdef0123456789abcdef")
		c, err := Parse("c.yaml", []byte(minimal+"admin: {token: "+tc.token+"}\n"))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("token %s: %v", tc.token, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("token %s: got %v, want an error containing %q", tc.token, err, tc.want)
		case err == nil && c.Admin.Address != ":8686":
			t.Errorf("token %s: admin.address %q", tc.token, c.Admin.Address)
		}
	}
	if _, err := Parse("c.yaml", []byte(minimal+"admin: {token: ${ADMIN_TOKEN_UNSET}}\n")); err == nil || !strings.Contains(err.Error(), "ADMIN_TOKEN_UNSET is not set") {
		t.Errorf("unset ${VAR} for admin.token: %v", err)
	}
}
