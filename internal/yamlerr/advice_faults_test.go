package yamlerr

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestTypeErrorsSayWhatToWrite: Format turns an unknown key into
// "file:line: unknown key ...; check its spelling and indentation", but
// passes yaml.v3's type errors through as they are. The two mistakes the
// documentation warns about ("Durations are Go durations (30s, 5m); sizes
// are bytes") then read
//
//	config.yaml:3: cannot unmarshal !!int `30` into time.Duration
//	config.yaml:4: cannot unmarshal !!str `1GiB` into int64
//
// which name Go types, not the fix: nothing says a duration needs a unit
// or that a size is a plain number of bytes. The package promises lines
// "that say what to do"; Format should recognise these errors and add it
// (e.g. `write a duration with its unit, like 30s or 5m` and `sizes are a
// number of bytes, like 1073741824`).
func TestTypeErrorsSayWhatToWrite(t *testing.T) {
	var cfg struct {
		Timeout  time.Duration `yaml:"shutdown_timeout"`
		MaxBytes int64         `yaml:"max_bytes"`
	}
	src := "# config\n\nshutdown_timeout: 30\nmax_bytes: 1GiB\n"
	dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
	dec.KnownFields(true)
	err := dec.Decode(&cfg)
	if err == nil {
		t.Fatal("both values were accepted")
	}
	msg := Format("config.yaml", err)
	lines := strings.Split(msg, "\n")
	var dur, size string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "config.yaml:3:"):
			dur = l
		case strings.HasPrefix(l, "config.yaml:4:"):
			size = l
		}
	}
	if dur == "" || size == "" {
		t.Fatalf("the errors do not name both lines:\n%s", msg)
	}
	if !strings.Contains(dur, "30s") && !strings.Contains(dur, "unit") {
		t.Errorf("the duration error does not say to write a unit (30s, 5m): %s", dur)
	}
	if !strings.Contains(size, "bytes") {
		t.Errorf("the size error does not say that sizes are a number of bytes: %s", size)
	}
}
