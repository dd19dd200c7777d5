package quarantine

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strconv"
	"time"

	"github.com/logrouter/logrouter/internal/lines"
	"github.com/logrouter/logrouter/pipeline"
)

// Record is one quarantined record read back from a file.
type Record struct {
	// Time is when the record was rejected (UTC).
	Time        time.Time
	Reason      string
	Detail      string
	Input       string
	Protocol    string
	Peer        string
	Destination string
	Status      int
	// DefaultSourceType and DefaultIndex are the input's defaults for the
	// record (pipeline.Rejected); empty when it had none, and in records
	// of earlier releases.
	DefaultSourceType, DefaultIndex string
	// SourceType, DefaultHost, DefaultSource and DefaultTime are the other
	// metadata the request gave the record (pipeline.Rejected); empty or
	// zero when it had none.
	SourceType, DefaultHost, DefaultSource string
	DefaultTime                            time.Time
	// RecordTime stands in for the time of an event without its own (a
	// Kafka record's timestamp; pipeline.Rejected); zero when none.
	RecordTime time.Time
	// Raw is the exact original bytes (decoded from "raw" or "raw_base64");
	// nil when the record had none.
	Raw []byte
	// Event is what was written with an event a destination refused
	// ("event"); nil for input records and records of earlier releases.
	Event *pipeline.RejectedEvent
	// seal is the record's "seal" (see SealKey.Verify); nil when it has none.
	seal []byte
}

// Rejected converts r back to the pipeline form (for replay).
func (r Record) Rejected() pipeline.Rejected {
	rj := pipeline.Rejected{
		Raw:         r.Raw,
		Reason:      r.Reason,
		Detail:      r.Detail,
		Input:       r.Input,
		Protocol:    r.Protocol,
		Peer:        r.Peer,
		Destination: r.Destination,
		Status:      r.Status,
		Time:        r.Time.UnixNano(),
		Event:       r.Event,

		DefaultSourceType: r.DefaultSourceType,
		DefaultIndex:      r.DefaultIndex,
		SourceType:        r.SourceType,
		DefaultHost:       r.DefaultHost,
		DefaultSource:     r.DefaultSource,
	}
	if !r.DefaultTime.IsZero() {
		rj.DefaultTime = r.DefaultTime.UnixNano()
	}
	if !r.RecordTime.IsZero() {
		rj.RecordTime = r.RecordTime.UnixNano()
	}
	return rj
}

type wireLine struct {
	Time        string     `json:"time"`
	Reason      string     `json:"reason"`
	Detail      string     `json:"detail"`
	Input       string     `json:"input"`
	Protocol    string     `json:"protocol"`
	Peer        string     `json:"peer"`
	Destination string     `json:"destination"`
	Status      int        `json:"status"`
	DefaultST   string     `json:"default_source_type"`
	DefaultIdx  string     `json:"default_index"`
	SourceType  string     `json:"source_type"`
	DefHost     string     `json:"default_host"`
	DefSource   string     `json:"default_source"`
	DefTime     string     `json:"default_time"`
	RecTime     string     `json:"record_time"`
	Event       *eventLine `json:"event"`
	Raw         *string    `json:"raw"`
	RawBase64   *string    `json:"raw_base64"`
}

// ParseLine parses one quarantine line (with or without its trailing
// newline). The returned Record does not alias line.
func ParseLine(line []byte) (Record, error) {
	var w wireLine
	if err := json.Unmarshal(line, &w); err != nil {
		return Record{}, err
	}
	var r Record
	t, err := time.Parse(time.RFC3339Nano, w.Time)
	if err != nil {
		return Record{}, fmt.Errorf(`"time": %w`, err)
	}
	r.Time = t.UTC()
	r.Reason, r.Detail, r.Input, r.Protocol, r.Peer, r.Destination, r.Status =
		w.Reason, w.Detail, w.Input, w.Protocol, w.Peer, w.Destination, w.Status
	r.DefaultSourceType, r.DefaultIndex = w.DefaultST, w.DefaultIdx
	r.SourceType, r.DefaultHost, r.DefaultSource = w.SourceType, w.DefHost, w.DefSource
	if w.DefTime != "" {
		dt, err := time.Parse(time.RFC3339Nano, w.DefTime)
		if err != nil {
			return Record{}, fmt.Errorf(`"default_time": %w`, err)
		}
		r.DefaultTime = dt.UTC()
	}
	if w.RecTime != "" {
		rt, err := time.Parse(time.RFC3339Nano, w.RecTime)
		if err != nil {
			return Record{}, fmt.Errorf(`"record_time": %w`, err)
		}
		r.RecordTime = rt.UTC()
	}
	if e := w.Event; e != nil {
		ev, err := parseEvent(e)
		if err != nil {
			return Record{}, fmt.Errorf(`"event": %w`, err)
		}
		r.Event = ev
		if e.Seal != "" {
			// A seal that is not one (edited, or of a later format)
			// reads as present but invalid: the record replays
			// normalized again, like any record whose seal fails.
			if r.seal, err = hex.DecodeString(e.Seal); err != nil || len(r.seal) != sealSize {
				r.seal = []byte{}
			}
		}
	}
	switch {
	case w.Raw != nil && w.RawBase64 != nil:
		return Record{}, errors.New(`both "raw" and "raw_base64" are set`)
	case w.Raw != nil:
		r.Raw = []byte(*w.Raw)
	case w.RawBase64 != nil:
		r.Raw, err = base64.StdEncoding.DecodeString(*w.RawBase64)
		if err != nil {
			return Record{}, fmt.Errorf(`"raw_base64": %w`, err)
		}
	}
	return r, nil
}

// maxLine bounds one line so that a corrupt file cannot exhaust memory.
const maxLine = 1 << 30

// ReadFile calls fn for every record in the quarantine file at path, in file
// order. Blank lines are skipped. It stops at the first error from fn and
// returns it unchanged. A line that does not parse stops the read with an
// error naming the path and line number; when that line is the file's last
// and lacks its newline, the error also wraps io.ErrUnexpectedEOF (a write
// torn by a crash), after fn has seen every complete record before it.
func ReadFile(path string, fn func(Record) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 256<<10)
	var buf []byte
	for lineNo := 1; ; lineNo++ {
		var n int
		var rerr error
		buf, n, rerr = lines.Read(br, buf, maxLine+1)
		if n > maxLine {
			return fmt.Errorf("%s:%d: line longer than %d bytes", path, lineNo, maxLine)
		}
		if rerr != nil && rerr != io.EOF {
			return fmt.Errorf("%s: %w", path, rerr)
		}
		if len(bytes.TrimSpace(buf)) > 0 {
			rec, err := ParseLine(buf)
			if err != nil {
				if rerr == io.EOF {
					return fmt.Errorf("%s:%d: incomplete last line (torn write?): %w: %v", path, lineNo, io.ErrUnexpectedEOF, err)
				}
				return fmt.Errorf("%s:%d: %w", path, lineNo, err)
			}
			if err := fn(rec); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
	}
}

// Read returns an iterator over the records of the quarantine file at path.
// It yields (record, nil) per record; on a read or parse error it yields
// (Record{}, err) once and stops. See ReadFile for the error cases.
func Read(path string) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		stop := errors.New("stop")
		err := ReadFile(path, func(r Record) error {
			if !yield(r, nil) {
				return stop
			}
			return nil
		})
		if err != nil && err != stop {
			yield(Record{}, err)
		}
	}
}

func parseEvent(e *eventLine) (*pipeline.RejectedEvent, error) {
	h, err := strconv.ParseUint(e.Hash, 16, 64)
	if err != nil || len(e.Hash) != 16 {
		return nil, fmt.Errorf(`"hash" %q is not 16 hex digits`, e.Hash)
	}
	t, err := time.Parse(time.RFC3339Nano, e.Time)
	if err != nil {
		return nil, fmt.Errorf(`"time": %w`, err)
	}
	ing, err := time.Parse(time.RFC3339Nano, e.Ingest)
	if err != nil {
		return nil, fmt.Errorf(`"ingest": %w`, err)
	}
	p, err := pipeline.ParsePriority(e.Priority)
	if err != nil {
		return nil, fmt.Errorf(`"priority": %w`, err)
	}
	st := e.SourceType
	if e.SourceTypeBase64 != "" {
		b, err := base64.StdEncoding.DecodeString(e.SourceTypeBase64)
		if err != nil || st != "" {
			return nil, fmt.Errorf(`"source_type_base64": not base64, or "source_type" set too`)
		}
		st = string(b)
	}
	var key uint64
	if e.Key != "" {
		if key, err = strconv.ParseUint(e.Key, 16, 64); err != nil || len(e.Key) != 16 {
			return nil, fmt.Errorf(`"key" %q is not 16 hex digits`, e.Key)
		}
	}
	return &pipeline.RejectedEvent{Hash: h, Key: key, Time: t.UnixNano(), Ingest: ing.UnixNano(), SourceType: st, Priority: p}, nil
}
