package redact

import "testing"

func TestURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://os-1:9200", "https://os-1:9200"},
		{"https://admin:s3cr#t@os-1:9200", "https://REDACTED@os-1:9200"},
		{"https://admin:a/b@c@os-1:9200/x", "https://REDACTED@os-1:9200/x"},
		{"admin:pw@host", "REDACTED@host"},
		{"", ""},
	} {
		if got := URL(c.in); got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
