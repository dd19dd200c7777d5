// Package yamlerr rewrites go.yaml.in/yaml/v3 decoding errors as
// "file:line: problem" lines that say what to do.
package yamlerr

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
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
			lines = append(lines, fmt.Sprintf("%s:%s: %s%s", name, l[m[2]:m[3]], l[m[1]:], advice(l)))
			continue
		}
		lines = append(lines, name+": "+l)
	}
	return strings.Join(lines, "\n")
}

// advice is what to write instead, for the type errors whose Go type name
// alone does not say it ("cannot unmarshal !!int `30` into time.Duration").
func advice(l string) string {
	switch {
	case strings.HasSuffix(l, "into time.Duration"):
		return ": write a duration with its unit, like 30s, 5m or 1h"
	case strings.HasSuffix(l, "into int64"), strings.HasSuffix(l, "into int"), strings.HasSuffix(l, "into uint64"):
		return ": write a whole number (sizes are a number of bytes, like 1073741824 for 1 GiB)"
	case strings.HasSuffix(l, "into bool"):
		return ": write true or false"
	}
	return ""
}

// NoFurtherDocument returns an error naming the line of the first document
// after the one dec has decoded, if it has content: what (for example "the
// configuration", "a rule file") is one document, and keys after "---"
// would otherwise be silently ignored. An empty trailing document (a last
// "---", perhaps followed by comments) is accepted.
func NoFurtherDocument(name string, dec *yaml.Decoder, what string) error {
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return errors.New(Format(name, err))
		}
		if !emptyDocument(&doc) {
			return fmt.Errorf("%s:%d: a second YAML document starts here; %s is one document: remove this \"---\" and move what follows it into the first document, or into a file of its own", name, doc.Line, what)
		}
	}
}

// emptyDocument reports whether doc holds nothing: no value, tag or anchor.
func emptyDocument(doc *yaml.Node) bool {
	if len(doc.Content) != 1 {
		return len(doc.Content) == 0
	}
	n := doc.Content[0]
	return n.Kind == yaml.ScalarNode && n.Style == 0 && n.Value == "" && n.Anchor == ""
}
