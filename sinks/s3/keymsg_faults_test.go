package s3

import (
	"strings"
	"testing"
)

// The validation message for a key_template segment past 255 bytes still
// tells the user to do "as the default source={source_type}/", a default
// cac83a4 changed to source_type={source_type}/ (config.go:198).
func TestSegmentMessageNamesDefault(t *testing.T) {
	c := Config{Dir: t.TempDir(), KeyTemplate: "{prefix}/dt={date}/{source_type}-{source_type}-{source_type}-{source_type}-{node}-{start}-{seq}.ndjson.zst"}
	err := c.Validate()
	if err == nil {
		t.Fatal("no error for a file name of a 200-byte source type and a 64-byte node")
	}
	if strings.Contains(err.Error(), "default source={source_type}") {
		t.Errorf("message names the old default key: %v", err)
	}
}
