// Package conservation is the harness that proves logrouter's promise:
// every acknowledged event arrives at every destination it was routed to.
//
// A Sender makes sequence-numbered NDJSON events and records which ones a
// router acknowledged; Count reads what a destination holds (NDJSON files,
// zstd or gzip objects, recursively) and Check compares: missing
// acknowledged events are failures, duplicates are allowed and counted
// (delivery is at-least-once).
package conservation

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fastjson"
)

// Sender hands out sequence numbers and remembers acknowledgements. Safe for
// concurrent use.
type Sender struct {
	Run string // distinguishes this run's events from others in a destination

	mu    sync.Mutex
	next  uint64
	acked map[uint64]bool
}

// NewSender returns a Sender whose events carry run.
func NewSender(run string) *Sender {
	return &Sender{Run: run, acked: map[uint64]bool{}}
}

// Body returns n events as an NDJSON body and their sequence numbers. extra
// is spliced into every event (for example `"sourcetype":"x"`), may be "".
func (s *Sender) Body(n int, extra string) ([]byte, []uint64) {
	s.mu.Lock()
	first := s.next
	s.next += uint64(n)
	s.mu.Unlock()
	var b bytes.Buffer
	ids := make([]uint64, n)
	for i := 0; i < n; i++ {
		ids[i] = first + uint64(i)
		fmt.Fprintf(&b, `{"run":%q,"seq":%d,"message":"conservation event %d"`, s.Run, ids[i], ids[i])
		if extra != "" {
			b.WriteByte(',')
			b.WriteString(extra)
		}
		b.WriteString("}\n")
	}
	return b.Bytes(), ids
}

// Ack records that ids were acknowledged (HTTP 2xx).
func (s *Sender) Ack(ids []uint64) {
	s.mu.Lock()
	for _, id := range ids {
		s.acked[id] = true
	}
	s.mu.Unlock()
}

// Acked returns the acknowledged sequence numbers.
func (s *Sender) Acked() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]uint64, 0, len(s.acked))
	for id := range s.acked {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Sent returns how many sequence numbers were handed out.
func (s *Sender) Sent() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

// Count reads every NDJSON line under dir (files ending .ndjson, .zst, .gz,
// and unfinished .partial objects) and counts the events of run by seq.
func Count(dir, run string) (map[uint64]int, error) {
	counts := map[uint64]int{}
	dec, _ := zstd.NewReader(nil)
	defer dec.Close()
	var p fastjson.Parser
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(path, ".partial")
		switch {
		case strings.HasSuffix(name, ".zst"):
			if data, err = dec.DecodeAll(data, nil); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		case strings.HasSuffix(name, ".gz"):
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		case !strings.HasSuffix(name, ".ndjson"):
			return nil
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 64<<20)
		consumed := 0
		for sc.Scan() {
			consumed += len(sc.Bytes()) + 1
			v, err := p.ParseBytes(sc.Bytes())
			if err != nil {
				// A kill -9 in the middle of a large write(2) can leave the
				// last line of a file torn (the queue redelivers its events
				// after the restart); anywhere else it is corruption.
				if consumed >= len(data) && !bytes.HasSuffix(data, []byte("\n")) {
					break
				}
				return fmt.Errorf("%s: invalid JSON line: %w", path, err)
			}
			if err := countEvent(counts, v, run); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
		return sc.Err()
	})
	return counts, err
}

// CountDocs counts the events of run among docs (each one JSON event, as a
// fake destination stores them).
func CountDocs(run string, docs [][]byte) (map[uint64]int, error) {
	counts := map[uint64]int{}
	var p fastjson.Parser
	for i, d := range docs {
		v, err := p.ParseBytes(d)
		if err != nil {
			return nil, fmt.Errorf("document %d: invalid JSON: %w", i, err)
		}
		if err := countEvent(counts, v, run); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
	}
	return counts, nil
}

func countEvent(counts map[uint64]int, v *fastjson.Value, run string) error {
	if string(v.GetStringBytes("run")) != run {
		return nil
	}
	seq := v.Get("seq")
	if seq == nil {
		return fmt.Errorf("event of run %s without seq", run)
	}
	if seq.Type() == fastjson.TypeString { // typed as text by a key=value source
		n, err := strconv.ParseUint(string(seq.GetStringBytes()), 10, 64)
		if err != nil {
			return fmt.Errorf("seq %q: %w", seq.GetStringBytes(), err)
		}
		counts[n]++
	} else {
		counts[seq.GetUint64()]++
	}
	return nil
}

// Report is the outcome of Check.
type Report struct {
	Acked      int
	Missing    []uint64 // acknowledged but not delivered: a broken promise
	Duplicates int      // extra copies (allowed: at-least-once)
	Unacked    int      // delivered without an acknowledgement (allowed)
}

// Check compares the acknowledged ids with what a destination holds.
func Check(acked []uint64, got map[uint64]int) Report {
	r := Report{Acked: len(acked)}
	isAcked := make(map[uint64]bool, len(acked))
	for _, id := range acked {
		isAcked[id] = true
		switch n := got[id]; {
		case n == 0:
			r.Missing = append(r.Missing, id)
		case n > 1:
			r.Duplicates += n - 1
		}
	}
	for id, n := range got {
		if !isAcked[id] {
			r.Unacked++
			r.Duplicates += n - 1
		}
	}
	return r
}

func (r Report) String() string {
	return fmt.Sprintf("acked %d, missing %d, duplicates %d, delivered without ack %d", r.Acked, len(r.Missing), r.Duplicates, r.Unacked)
}
