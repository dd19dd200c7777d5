package main

// Fault: `router quarantine list --show N` prints a record's "detail" to
// the operator's terminal unescaped. The raw bytes next to it go through
// excerpt() (control characters and invalid UTF-8 escaped), but the detail
// does not, and the detail carries attacker-controlled bytes: an
// OpenSearch 400 reason quotes the refused document ("Preview of field's
// value: '...'"), and input parse errors quote what was sent. A sender
// who gets one event quarantined can therefore put ESC sequences (OSC 52
// clipboard writes, title changes, screen clears, hidden text, cursor moves
// that forge or hide other lines of the listing) onto the terminal of the
// security analyst who inspects the quarantine - the very person the
// quarantine is for.
//
// Fixed (termSafe; excerpt also escapes C1 controls and bidi overrides). Was: render the detail (and, for defence in depth, reason, input and
// destination) with the same escaping excerpt() applies to raw bytes.

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

func TestQuarantineListShowEscapesDetail(t *testing.T) {
	dir := t.TempDir()
	clk := func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }
	q, err := quarantine.New(quarantine.Config{Dir: filepath.Join(dir, "os")}, quarantine.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	// What the OpenSearch sink records for a mapping refusal of an event
	// whose field value the sender chose.
	evil := "\x1b]52;c;cm0gLXJmIH4K\x07\x1b[2J\x1b[1A"
	rec := pipeline.Rejected{
		Raw:         []byte(`{"n":"` + strings.ReplaceAll(evil, "\x1b", `\u001b`) + `"}`),
		Reason:      "destination_rejected",
		Detail:      "opensearch 400 mapper_parsing_exception: failed to parse field [n] of type [long]. Preview of field's value: '" + evil + "'",
		Destination: "os",
		Status:      400,
		Event:       &pipeline.RejectedEvent{Hash: 1, Time: 1, Ingest: 1, Priority: pipeline.P2},
	}
	if err := q.Put(context.Background(), []pipeline.Rejected{rec}); err != nil {
		t.Fatal(err)
	}
	_ = q.Close(context.Background())
	var out bytes.Buffer
	if err := listQuarantine(&out, []string{dir}, listFilter{}, 5, false); err != nil {
		t.Fatal(err)
	}
	if i := bytes.IndexByte(out.Bytes(), 0x1b); i >= 0 || bytes.IndexByte(out.Bytes(), 0x07) >= 0 {
		t.Errorf("quarantine list --show wrote terminal control bytes (ESC/BEL) from a record's detail to the terminal:\n%q", out.String())
	}
}
