// Package yamlerr rewrites go.yaml.in/yaml/v3 decoding errors as
// "file:line: problem" lines that say what to do.
package yamlerr

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	unknownField = regexp.MustCompile(`line (\d+): field (\S+) not found in type (\S+)`)
	lineRef      = regexp.MustCompile(`line (\d+): `)
)

// Format returns err (from a yaml Decoder with KnownFields) as one line per
// problem, each prefixed with name and the line number.
func Format(name string, err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var lines []string
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "unmarshal errors") {
			continue
		}
		if m := unknownField.FindStringSubmatch(l); m != nil {
			lines = append(lines, fmt.Sprintf("%s:%s: unknown key %q (in %s); check its spelling and indentation", name, m[1], m[2], m[3]))
			continue
		}
		if m := lineRef.FindStringSubmatchIndex(l); m != nil {
			lines = append(lines, fmt.Sprintf("%s:%s: %s", name, l[m[2]:m[3]], l[m[1]:]))
			continue
		}
		lines = append(lines, name+": "+l)
	}
	return strings.Join(lines, "\n")
}
