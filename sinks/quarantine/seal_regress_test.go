package quarantine

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// TestSealKeyDanglingSymlink: seal.key is a symlink whose target does not
// exist (a key kept on a volume not mounted yet, a restore that missed the
// target). os.ReadFile says ErrNotExist and os.Link ErrExist; this once
// recursed until the stack overflowed, leaving a seal.key.*.tmp file per
// level. It must return an error and leave nothing. Run in a child process,
// bounded.
func TestSealKeyDanglingSymlink(t *testing.T) {
	if dir := os.Getenv("SEAL_KEY_CHILD_DIR"); dir != "" {
		debug.SetMaxStack(8 << 20)
		_, err := LoadOrCreateSealKey(filepath.Join(dir, SealKeyFile))
		if err != nil {
			os.Exit(3) // the wanted outcome: an error
		}
		os.Exit(0)
	}
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(dir, "missing", "seal.key"), filepath.Join(dir, SealKeyFile)); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSealKeyDanglingSymlink$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SEAL_KEY_CHILD_DIR="+dir)
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, SealKeyFile+".*.tmp"))
	if code != 3 || len(tmps) > 0 {
		first := string(out)
		if i := strings.Index(first, "\n\n"); i > 0 {
			first = first[:i]
		}
		t.Errorf("LoadOrCreateSealKey on a dangling seal.key symlink: exit %d (want an error returned), %d seal.key.*.tmp files left behind; child said:\n%.600s",
			code, len(tmps), first)
	}
}

// TestSealRoundTripExtremes: records the router writes with extreme
// but representable values still verify after a read and after the replay
// command re-renders them (Record.AppendTo). (Passes: no false negative
// found.)
func TestSealRoundTripExtremes(t *testing.T) {
	key := testKey(t)
	big := bytes.Repeat([]byte(`{"m":"`+strings.Repeat("x", 1000)+`"}`), 1)
	big = append(big[:len(big)-2], []byte(strings.Repeat("\u2028\u2029é\\\"", 20000)+`"}`)...)
	times := []int64{math.MinInt64, math.MaxInt64, -1, 0, 1, time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC).UnixNano()}
	raws := [][]byte{nil, {}, []byte(`{"a":"\u2028"}`), []byte("{\"a\":\"\u2028\u2029\"}"), []byte("\xff\xfe"), []byte("{\"a\":\"\x00\x01\"}"), big}
	sts := []string{"", "a", "\u2028", "fw\xffx", "é", strings.Repeat("\x01", 10)}
	for _, tm := range times {
		for _, raw := range raws {
			for _, st := range sts {
				for _, p := range []pipeline.Priority{pipeline.PriorityNone, pipeline.P1, pipeline.P3, 9} {
					r := pipeline.Rejected{Raw: raw, Reason: "destination_rejected", Destination: "siem", Time: tm,
						Event: &pipeline.RejectedEvent{Hash: math.MaxUint64, Time: tm, Ingest: tm, SourceType: st, Priority: p}}
					line := key.AppendRecord(nil, &r, time.Now())
					rec, err := ParseLine(line)
					if err != nil {
						t.Fatalf("%v: %s", err, line[:min(len(line), 300)])
					}
					if !key.Verify(rec) {
						t.Fatalf("written record does not verify: time %d st %q p %d raw %.80q", tm, st, p, raw)
					}
					again, err := ParseLine(rec.AppendTo(nil))
					if err != nil || !key.Verify(again) {
						t.Fatalf("re-rendered record does not verify (%v): time %d st %q p %d raw %.80q", err, tm, st, p, raw)
					}
				}
			}
		}
	}
}

// TestSealEditedStillParses: an edited record is "normalized again"; a
// seal edited to anything but 32 hex digits (or a future, longer seal) must
// still parse, or the replay command would list the record as unreadable
// and the router reject it instead.
func TestSealEditedStillParses(t *testing.T) {
	key := testKey(t)
	r := pipeline.Rejected{Raw: []byte(`{"a":1}`), Reason: "destination_rejected", Destination: "siem",
		Event: &pipeline.RejectedEvent{Hash: 1, Time: 1, Ingest: 1, Priority: pipeline.P1}}
	line := string(key.AppendRecord(nil, &r, time.Now()))
	i := strings.Index(line, `"seal":"`) + len(`"seal":"`)
	edited := line[:i] + "zz" + line[i+2:]
	if _, err := ParseLine([]byte(edited)); err != nil {
		t.Errorf("a record with an edited seal does not parse (%v), so it is neither replayed as written nor normalized again", err)
	}
}
