package opensearch

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"strings"
	"testing"
)

// TestURLWithoutSchemePrintsPassword: a destination whose URL lost
// its scheme, or has a mistyped one, while carrying credentials:
//
//	urls: ["admin:${OPENSEARCH_PASSWORD}@opensearch-1:9200"]   # or "htps://admin:...@..."
//
// parses without error (url.Parse reads "admin" or "htps" as the scheme),
// so Validate takes the `must start with http:// or https://` branch, which
// prints the value as written: the expanded password ends up in the output
// of `router validate` and in the start-up error of `router run` (logs,
// Kubernetes events). The diff added redact.URL to keep URLs' secrets out of
// error messages, but applied it only to the branch where url.Parse fails;
// the scheme branch (and the no-host branch) still print s. Every branch
// that echoes the URL should pass it through redact.URL.
func TestURLWithoutSchemePrintsPassword(t *testing.T) {
	const secret = "s3cretPassw0rd"
	for _, u := range []string{
		"admin:" + secret + "@opensearch-1:9200",
		"htps://admin:" + secret + "@opensearch-1:9200",
	} {
		err := Config{URLs: []string{u}}.Validate()
		if err == nil {
			t.Fatalf("%q was accepted", u)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Validate's error prints the password of %q: %v", u, err)
		}
	}
}
