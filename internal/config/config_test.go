package config

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

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
		c.Inputs.HTTP.MaxBodyBytes != 32<<20 || c.Normalize == nil || len(c.Normalize.TimestampFields) == 0 || c.Node == "" {
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
		{strings.Replace(minimal, "name: archive", "name: ../archive", 1), `destinations[0] (../archive).name: "../archive" is not a usable name`},
		{strings.Replace(minimal, "name: archive", "name: a/b", 1), `"a/b" is not a usable name`},
		{strings.Replace(minimal, "name: archive", "name: .hidden", 1), `".hidden" is not a usable name`},
		{strings.Replace(minimal, "name: archive", "name: seal.key", 1), `"seal.key" is not a usable name`},
		// quarantine replay groups input records as "input" (a review
		// found a destination of that name replayed through the whole
		// pipeline, or refused by /admin/replay/written)
		{strings.Replace(minimal, "name: archive", "name: input", 1), `"input" is not a usable name`},
		{strings.Replace(minimal, "name: archive", "name: 'arch ive'", 1), `"arch ive" is not a usable name`},
		{strings.Replace(minimal, "name: archive", "name: "+strings.Repeat("a", 65), 1), `is not a usable name`},
	} {
		_, err := Parse("c.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want error containing %q, got %v", tc.want, err)
		}
	}
}

// TestExpandEnv: ${VAR} and ${VAR:-default} are expanded in values, also
// inside a longer, quoted or flow-collection value; an empty variable takes
// the default; "$${" is a literal "${"; keys are left as written, comments
// unexpanded, text that looks like maskEnv's tokens alone; an unset variable
// without default is an error naming it and its line.
func TestExpandEnv(t *testing.T) {
	t.Setenv("LR_TOKEN", "abc")
	t.Setenv("LR_EMPTY", "")
	src := "a: ${LR_TOKEN}\nb: ${LR_UNSET:-def}\nc: ${LR_EMPTY:-fallback}\nd: $${LR_TOKEN}\n" +
		"# ${NOT_EXPANDED_IN_COMMENTS}\ne: '#${LR_TOKEN}' # ${ALSO_NOT}\nf: https://${LR_TOKEN}:8088/$$${LR_TOKEN}\n" +
		"${LR_TOKEN}: [x${LR_TOKEN}, {g: ${LR_UNSET:-}, h: ${LR_UNSET:-{x}}]\ni: LRENV0_${LR_TOKEN}\n"
	masked, env := maskEnv([]byte(src))
	var doc yaml.Node
	if err := yaml.Unmarshal(masked, &doc); err != nil {
		t.Fatal(err)
	}
	if err := expandEnv(&doc, env); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := doc.Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a": "abc", "b": "def", "c": "fallback", "d": "${LR_TOKEN}", "e": "#abc",
		"f": "https://abc:8088/$${LR_TOKEN}", "${LR_TOKEN}": []any{"xabc", map[string]any{"g": nil, "h": "{x"}}, "i": "LRENV0_abc",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}

	_, err := Parse("c.yaml", []byte(minimal+"node: ${LR_DEFINITELY_UNSET}\nlog: {level: '${LR_EMPTY}'}\n"))
	for _, want := range []string{
		"c.yaml:12: environment variable LR_DEFINITELY_UNSET is not set or empty; set it, or give a default: ${LR_DEFINITELY_UNSET:-value}",
		"c.yaml:13: environment variable LR_EMPTY is not set or empty",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want error containing %q, got %v", want, err)
		}
	}
}

// TestEnvSecretArrivesByteForByte: a value from the environment is the
// value, never YAML. ${VAR} used to be pasted into the file's text before
// parsing, so token: ${T} with T="s3cr #et" loaded the token "s3cr" (the
// rest read as a comment) without an error, and values starting with "#",
// "&", "!" or holding a newline were emptied, failed with misleading errors
// or injected keys.
func TestEnvSecretArrivesByteForByte(t *testing.T) {
	cfgText := strings.Replace(minimal, "address: 127.0.0.1:0",
		"address: 127.0.0.1:0\n    tokens:\n      - name: t\n        token: ${LR_TEST_TOKEN}\n      - name: q\n        token: \"q-${LR_TEST_TOKEN}\"", 1)
	for _, secret := range []string{
		"s3cr #et", "#s3cret", "&s3cret", "!s3cret", "*s3cret", "[s3cret", "{s3cret", "|s3cret", ">s3cret",
		"'s3cret", `"s3cret`, "%s3cret", "@s3cret", "s3cret: x", "- s3cret", "s3cret\n        name: x",
		"${LR_NESTED}", "LRENV0_", "123", "true", "1e3", " s3cret ",
	} {
		t.Setenv("LR_TEST_TOKEN", secret)
		c, err := Parse("c.yaml", []byte(cfgText))
		if strings.ContainsAny(secret, " \n") {
			// It arrives whole, and an HEC token with white space is
			// refused (senders' tokens are read trimmed: it could never
			// match), not cut or read as YAML.
			if err == nil || !strings.Contains(err.Error(), "tokens[0] (t).token: holds white space") {
				t.Errorf("secret %q: %v, want the white-space refusal", secret, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("secret %q: %v", secret, err)
			continue
		}
		if got := c.Inputs.HTTP.Tokens[0].Token; got != secret {
			t.Errorf("secret %q loaded as %q", secret, got)
		}
		if got := c.Inputs.HTTP.Tokens[1].Token; got != "q-"+secret {
			t.Errorf("quoted secret %q loaded as %q", secret, got)
		}
	}
	// An unquoted reference is typed as YAML types its value: "~" is null,
	// so the token is empty, which the input rejects rather than accept.
	t.Setenv("LR_TEST_TOKEN", "~")
	if _, err := Parse("c.yaml", []byte(cfgText)); err == nil || !strings.Contains(err.Error(), "tokens[0] (t).token: empty") {
		t.Errorf("secret \"~\": %v", err)
	}
}

// TestEnvValueTypedAsWritten: an unquoted value that is, or holds, a
// reference is typed from its expanded text as before (int, bool,
// duration), also inside a flow collection, but never becomes a list, a
// mapping or an alias; a quoted one stays a string. Unknown keys are still
// errors with their line.
func TestEnvValueTypedAsWritten(t *testing.T) {
	t.Setenv("LR_EVENTS", "500")
	t.Setenv("LR_ON", "true")
	t.Setenv("LR_WAIT", "5s")
	t.Setenv("LR_LIST", "[archive]")
	c, err := Parse("c.yaml", []byte(minimal+"queue: {batch_events: ${LR_EVENTS}, batch_bytes: ${LR_EVENTS}000}\n"+
		"dedup: {enabled: ${LR_ON}}\nshutdown_timeout: ${LR_WAIT}\nnode: ${LR_LIST}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Queue.BatchEvents != 500 || c.Queue.BatchBytes != 500000 || !c.Dedup.Enabled || c.ShutdownTimeout != 5*time.Second || c.Node != "[archive]" {
		t.Errorf("batch_events %d, batch_bytes %d, dedup.enabled %v, shutdown_timeout %s, node %q",
			c.Queue.BatchEvents, c.Queue.BatchBytes, c.Dedup.Enabled, c.ShutdownTimeout, c.Node)
	}
	for _, tc := range []struct{ env, yaml, want string }{
		// The value is named by its reference, never printed: it may be a
		// secret (TestTypeErrorPrintsExpandedSecret).
		{"[a, b]", "dedup: {key_fields: ${LR_X}}\n", "c.yaml:12: cannot unmarshal !!str `${LR_X}` (its value not shown) into []string"},
		{"{a: 1}", "dedup: ${LR_X}\n", "c.yaml:12: cannot unmarshal !!str `${LR_X}` (its value not shown) into dedup.Config"},
		{"*a", "queue: ${LR_X}\n", "c.yaml:12: cannot unmarshal !!str `${LR_X}` (its value not shown) into queue.Config"},
		{"500", "queue: {batch_events: '${LR_X}'}\n", "c.yaml:12: cannot unmarshal !!str `${LR_X}` (its value not shown) into int"},
	} {
		t.Setenv("LR_X", tc.env)
		_, err := Parse("c.yaml", []byte(minimal+tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LR_X=%q in %q: want error containing %q, got %v", tc.env, tc.yaml, tc.want, err)
		}
	}
	t.Setenv("LR_X", "1")
	if _, err := Parse("c.yaml", []byte(minimal+"bogus: ${LR_X}\n")); err == nil || !strings.Contains(err.Error(), `c.yaml:12: unknown key "bogus"`) {
		t.Errorf("unknown key next to a reference: %v", err)
	}
}

// TestSecondDocumentIsRejected: everything after a "---" used to be
// silently ignored, as Parse decoded only the first YAML document. A
// leading "---" and an empty last document are still fine.
func TestSecondDocumentIsRejected(t *testing.T) {
	for _, tc := range []struct{ extra, want string }{
		{"---\nbogus_key: 1\nshutdown_timeout: 5s\n", "c.yaml:12: a second YAML document starts here"},
		{"--- ~\n", "c.yaml:12: a second YAML document starts here"},
		{"---\n# old\n---\nnode: x\n", "c.yaml:14: a second YAML document starts here"},
		{"---\nnode: [\n", "c.yaml:13: did not find expected node content"},
	} {
		_, err := Parse("c.yaml", []byte(minimal+tc.extra))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: want error containing %q, got %v", tc.extra, tc.want, err)
		}
	}
	for _, ok := range []string{"---\n" + minimal, minimal + "---\n", minimal + "---\n# nothing\n", minimal + "...\n"} {
		if _, err := Parse("c.yaml", []byte(ok)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
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

// TestDestinationNames: the names operators use pass (the routing table
// then names them).
func TestDestinationNames(t *testing.T) {
	for _, name := range []string{"archive", "SIEM-prod", "s3.archive", "os_2", strings.Repeat("a", 64)} {
		if err := checkDestinationName(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
}
