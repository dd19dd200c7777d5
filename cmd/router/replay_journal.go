package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/logrouter/logrouter/internal/wal"
)

// journalSuffix names the journal that continues a quarantine file's replay
// progress snapshot (<file>.replay.json).
const journalSuffix = ".replay.log"

// journalCompactBytes is the least a journal grows to before the snapshot
// takes it in (more when the snapshot is larger: see progressJournal). A
// variable for tests.
var journalCompactBytes int64 = 1 << 20

// progressSnapshots counts snapshots written (saveProgress), for tests.
var progressSnapshots atomic.Int64

// progressDelta is one journal entry: what one accepted chunk changed.
type progressDelta struct {
	// Replayed lists the lines of records accepted whole.
	Replayed []int `json:"replayed,omitempty"`
	// Parts lists [line, raw lines accepted] of records accepted in part.
	Parts [][2]int `json:"parts,omitempty"`
}

// progressJournal records replay progress between snapshots. Rewriting the
// whole snapshot after every accepted chunk cost what the file's progress
// weighs, so a large file replayed with a filter (its replayed lines
// fragmented into many ranges) cost quadratic I/O; an entry costs what its
// chunk changed. The journal's first line names the snapshot it continues
// ({"journal":"<id>"}, the snapshot's Journal field); loadProgress folds the
// entries of the journal its snapshot names and ignores any other (a stale
// one, whose facts a newer snapshot holds, or one left after the snapshot
// was moved away to replay the file again). Its facts only ever grow (a
// line replayed, more lines of a record accepted), so folding an entry
// twice changes nothing. Once the journal is larger than both
// journalCompactBytes and the snapshot, a new snapshot takes it in
// (amortized linear); the last one of a run does too.
type progressJournal struct {
	path    string
	id      string // of the snapshot it continues
	f       *os.File
	size    int64
	entries int
	broken  bool // an append failed: see append
}

func journalPath(side string) string {
	return strings.TrimSuffix(side, progressSuffix) + journalSuffix
}

// newJournalID returns a fresh snapshot/journal id.
func newJournalID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// restart starts a new, empty journal for the snapshot id, just written:
// the old journal (its entries are in that snapshot) is removed.
func (j *progressJournal) restart(id string) error {
	j.close()
	j.id, j.size, j.entries, j.broken = id, 0, 0, false
	if err := os.Remove(j.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// append records d durably (written and fsynced, with the journal's
// directory entry) before it returns. After a failed append the journal
// takes no more (reopening would truncate it); the caller records a
// snapshot instead.
func (j *progressJournal) append(d progressDelta) error {
	if j.broken {
		return errors.New("the replay journal failed earlier")
	}
	line, err := json.Marshal(d)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	fresh := j.f == nil
	if fresh {
		f, err := os.OpenFile(j.path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
		if err != nil {
			return err
		}
		head, _ := json.Marshal(map[string]string{"journal": j.id})
		line = append(append(head, '\n'), line...)
		j.f = f
	}
	n, err := j.f.Write(line)
	j.size += int64(n)
	if err == nil {
		err = j.f.Sync()
	}
	if err == nil && fresh {
		err = wal.OS.SyncDir(filepath.Dir(j.path))
	}
	if err != nil {
		j.close() // a torn entry is ignored when read
		j.broken = true
		return err
	}
	j.entries++
	return nil
}

func (j *progressJournal) close() {
	if j.f != nil {
		_ = j.f.Close()
		j.f = nil
	}
}

// foldJournal adds to p (the snapshot read from side) the entries of the
// journal that continues it. A journal naming another snapshot is stale and
// ignored; an incomplete last line (a write cut by a crash) is ignored;
// any other line that does not parse, or names a line outside p, is
// damage (bad).
func foldJournal(p *replayProgress, side string, bad func(string) error) error {
	b, err := os.ReadFile(journalPath(side))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read replay journal: %w", err)
	}
	if p.Journal == "" {
		return nil
	}
	head, rest, ok := bytes.Cut(b, []byte("\n"))
	if !ok {
		return nil // even the header is torn: nothing was recorded in it
	}
	var h struct {
		Journal string `json:"journal"`
	}
	if json.Unmarshal(head, &h) != nil || h.Journal != p.Journal {
		return nil // not this snapshot's
	}
	done, left := newLineSet(p.Replayed), newLineSet(p.Left)
	parts := map[int]int{}
	for _, r := range p.Parts {
		parts[r[0]] = r[1]
	}
	inFile := func(line int) bool { return line >= 1 && int64(line) <= p.Bytes }
	for n := 2; len(rest) > 0; n++ {
		var line []byte
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			break // torn by a crash: this chunk was not recorded
		}
		var d progressDelta
		if err := json.Unmarshal(line, &d); err != nil {
			return bad(fmt.Sprintf("journal %s line %d: %v", journalPath(side), n, err))
		}
		for _, l := range d.Replayed {
			if !inFile(l) {
				return bad(fmt.Sprintf("journal %s line %d: line %d is past the file's %d bytes", journalPath(side), n, l, p.Bytes))
			}
			done.add(l)
			delete(parts, l)
		}
		for _, r := range d.Parts {
			if !inFile(r[0]) || r[1] < 1 {
				return bad(fmt.Sprintf("journal %s line %d: part %v is past the file's %d bytes or empty", journalPath(side), n, r, p.Bytes))
			}
			if !done.has(r[0]) && !left.has(r[0]) {
				parts[r[0]] = max(parts[r[0]], r[1])
			}
		}
	}
	p.Replayed = done.ranges()
	p.Parts = p.Parts[:0]
	for line, k := range parts {
		p.Parts = append(p.Parts, [2]int{line, k})
	}
	sort.Slice(p.Parts, func(i, k int) bool { return p.Parts[i][0] < p.Parts[k][0] })
	return nil
}
