package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfileNoTrailingComments: a Dockerfile comment is a line that
// starts with "#"; a "#" after an instruction is part of its argument
// (BuildKit's parser, frontend/dockerfile/parser: USER and WORKDIR take the
// rest of the line as one string). `USER 65532:65532   # nonroot ...` makes
// the image's user "65532:65532   # nonroot, numeric ...": `docker run`
// then fails to find a group of that name.
func TestDockerfileNoTrailingComments(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	// Instructions whose argument is taken as written (no shell to strip a
	// comment): a trailing "# ..." ends up in the image.
	instr := regexp.MustCompile(`(?i)^\s*(USER|WORKDIR|EXPOSE|ENTRYPOINT|CMD|ENV|LABEL|STOPSIGNAL|FROM|COPY|ADD|ARG|VOLUME)\s`)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if !instr.MatchString(line) {
			continue
		}
		if i := strings.Index(line, " #"); i >= 0 {
			t.Errorf("Dockerfile:%d: %q: the trailing %q is part of the instruction's argument, not a comment", n, line, strings.TrimSpace(line[i:]))
		}
	}
}
