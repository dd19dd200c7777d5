package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// TestStatsWithoutConfigReadsAdminEnv: `router run` without -c listens where
// LOGROUTER_ADMIN_ADDR says (the embedded config's admin.address); `router
// stats` without -c asked :8686 whatever it said, and printed another
// router's ledger, or none, without a word.
func TestStatsWithoutConfigReadsAdminEnv(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/admin/stats" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"inputs":[{"input":"from-env"}]}`))
	}))
	defer srv.Close()
	t.Setenv("LOGROUTER_ADMIN_ADDR", strings.TrimPrefix(srv.URL, "http://"))
	out, err := run(t, "", "stats", "--json")
	if err != nil || !strings.Contains(out, "from-env") {
		t.Fatalf("stats without -c and LOGROUTER_ADMIN_ADDR=%s: %v\n%s", srv.URL, err, out)
	}
}

// TestMissingRulesDirSaysWhere: a rules directory that does not exist (a
// configuration copied away from its rules/, rules.dir being relative to
// it) was reported as "read directory .": neither where it looked nor why.
func TestMissingRulesDirSaysWhere(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rules")
	_, err := run(t, "", "rules", "test", "--rules", dir)
	if err == nil || !strings.Contains(err.Error(), dir+" does not exist") || !strings.Contains(err.Error(), "relative to the configuration file") {
		t.Fatalf("rules test --rules %s: %v", dir, err)
	}
}
