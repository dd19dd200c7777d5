package config

import (
	"strings"
	"testing"

	"github.com/logrouter/logrouter/pipeline/queue"
)

const minimal = `
inputs:
  http:
    address: 127.0.0.1:0
destinations:
  - name: archive
    type: archive_dir
    archive_dir: {dir: /tmp/x}
routing:
  all: [archive]
quarantine: {dir: /tmp/q}
`

func TestMinimalConfigGetsDefaults(t *testing.T) {
	c, err := Parse("m.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.Admin.Address != ":8686" || c.Rules.Dir != "rules" || c.Rules.DefaultPriority != "P3" ||
		c.Inputs.HTTP.MaxBodyBytes != 10<<20 || c.Normalize == nil || len(c.Normalize.TimestampFields) == 0 || c.Node == "" {
		t.Fatalf("defaults not applied: %+v", c)
	}
}

func TestErrorsNameFileLineAndKey(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{minimal + "bogus: 1\n", `c.yaml:12: unknown key "bogus"`},
		{strings.Replace(minimal, "address: 127.0.0.1:0", "adress: x", 1), `c.yaml:4: unknown key "adress"`},
		{minimal + "routing:\n  P1: [siem]\n", `c.yaml:12: mapping key "routing" already defined`},
		{strings.Replace(minimal, "all: [archive]", "all: [archive]\n  P1: [nope]", 1), `routing.P1: unknown destination "nope"`},
		{strings.Replace(minimal, "type: archive_dir", "type: s4", 1), `destinations[0] (archive).type: "s4" is not one of`},
		{strings.Replace(minimal, "archive_dir: {dir: /tmp/x}", "file: {dir: /tmp/x}", 1), `type archive_dir needs its block (archive_dir: {...})`},
		{minimal + "rules: {default_priority: P7}\n", `rules.default_priority`},
		{minimal + "normalize: {rename: {a: '@timestamp'}}\n", `normalize.rename "a" -> "@timestamp"`},
		{minimal + "shutdown_timeout: soon\n", `c.yaml:12:`},
		{"", "the file is empty"},
	} {
		_, err := Parse("c.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want error containing %q, got %v", tc.want, err)
		}
	}
}

func TestExpandEnv(t *testing.T) {
	t.Setenv("LR_TOKEN", "abc")
	t.Setenv("LR_EMPTY", "")
	out, err := ExpandEnv([]byte("a: ${LR_TOKEN}\nb: ${LR_UNSET:-def}\nc: ${LR_EMPTY:-fallback}\nd: $${LR_TOKEN}\n# ${NOT_EXPANDED_IN_COMMENTS}\ne: '#${LR_TOKEN}' # ${ALSO_NOT}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := "a: abc\nb: def\nc: fallback\nd: ${LR_TOKEN}\n# ${NOT_EXPANDED_IN_COMMENTS}\ne: '#abc' # ${ALSO_NOT}\n"
	if string(out) != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	if _, err := ExpandEnv([]byte("token: ${LR_DEFINITELY_UNSET}\n")); err == nil || !strings.Contains(err.Error(), "LR_DEFINITELY_UNSET") {
		t.Fatalf("unset variable: %v", err)
	}
}

// TestArchiveQueuesDeliverLargerBatches: archive destinations default to
// larger batches, two in flight; a value set in the top-level queue block
// or the destination's wins.
func TestArchiveQueuesDeliverLargerBatches(t *testing.T) {
	withFile := strings.Replace(minimal, "routing:", `  - name: siem
    type: file
    file: {dir: /tmp/f}
routing:`, 1)
	for _, tc := range []struct {
		name, extra           string
		archiveEv, fileEv     int
		archiveBytes, fileByt int64
	}{
		{"defaults", "", queue.ArchiveBatchEvents, queue.DefaultBatchEvents, queue.ArchiveBatchBytes, queue.DefaultBatchBytes},
		{"top-level", "queue: {batch_events: 500}\n", 500, 500, queue.ArchiveBatchBytes, queue.DefaultBatchBytes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(withFile+tc.extra))
			if err != nil {
				t.Fatal(err)
			}
			a, f := c.QueueFor(c.Destinations[0]), c.QueueFor(c.Destinations[1])
			if a.BatchEvents != tc.archiveEv || f.BatchEvents != tc.fileEv || a.BatchBytes != tc.archiveBytes || f.BatchBytes != tc.fileByt {
				t.Errorf("archive %d events %d bytes, file %d events %d bytes", a.BatchEvents, a.BatchBytes, f.BatchEvents, f.BatchBytes)
			}
			if a.MaxInFlight != queue.ArchiveMaxInFlight || f.MaxInFlight != queue.DefaultMaxInFlight {
				t.Errorf("max_in_flight: archive %d, file %d", a.MaxInFlight, f.MaxInFlight)
			}
			if a.BatchWait != queue.ArchiveBatchWait || f.BatchWait != 0 {
				t.Errorf("batch_wait: archive %s, file %s", a.BatchWait, f.BatchWait)
			}
		})
	}
	c, err := Parse("c.yaml", []byte(strings.Replace(minimal, "archive_dir: {dir: /tmp/x}", "archive_dir: {dir: /tmp/x}\n    queue: {batch_bytes: 1048576}", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if q := c.QueueFor(c.Destinations[0]); q.BatchBytes != 1<<20 || q.BatchEvents != queue.ArchiveBatchEvents {
		t.Errorf("destination override: %d events %d bytes", q.BatchEvents, q.BatchBytes)
	}
	if _, err := Parse("c.yaml", []byte(minimal+"queue: {batch_events: -1}\n")); err == nil || !strings.Contains(err.Error(), "batch_events") {
		t.Errorf("negative batch_events: %v", err)
	}
}
