// Package redact keeps secrets out of error messages.
package redact

import "strings"

// URL returns s, a URL as configured, with any user information (what
// comes between "scheme://" and the last "@" before the path) replaced
// by "REDACTED", for error messages about a value that may not parse as a
// URL at all: a password with '#', '/', '?' or '%' is exactly what makes
// url.Parse fail, so the value cannot be cleaned by parsing it.
func URL(s string) string {
	rest := s
	prefix := ""
	if i := strings.Index(s, "://"); i >= 0 {
		prefix, rest = s[:i+3], s[i+3:]
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return s
	}
	return prefix + "REDACTED" + rest[at:]
}
