// Package quarantine stores rejected records (pipeline.Rejected) as NDJSON
// evidence files for inspection and later replay ("router quarantine replay").
//
// Files are <dir>/quarantine-<YYYYMMDDTHH>.ndjson (UTC hour at the time of
// writing), rotated like the file destination: on hour change, before a file
// would grow past max_file_bytes (quarantine-<hour>.<N>.ndjson), and at every
// process start. Each line is one record:
//
//	{"time":"2024-05-01T13:00:00.123456789Z","reason":"invalid_json","detail":"...",
//	 "input":"http","protocol":"hec","peer":"10.0.0.1:5123","destination":"siem",
//	 "raw":"<the original bytes as a JSON string>"}
//
// An input record keeps what its input gave it for a replay: the token's or
// topic's "default_source_type" and "default_index", and what the request
// set ("source_type", "default_host", "default_source", "default_time": the
// HEC endpoints' ?sourcetype=&host=&source=&time=).
//
// A record of an event a destination refused also carries what was written
// with it, so that replay can send it as it was:
//
//	"event":{"hash":"9f86d081884c7d65","time":"...","ingest":"...",
//	         "source_type":"aws.cloudtrail","priority":"P2"}
//
// and "key" (16 hex digits) when its dedup key is not its hash
// (dedup.key_fields), which a replay as written keeps (the Kafka
// destination's message key, and so its partition).
//
// Empty fields are omitted. When Raw is not valid UTF-8 it is stored as
// "raw_base64" (standard encoding, with padding) instead of "raw", so the
// exact bytes survive; so is Raw whose JSON escaping would be longer than
// its base64 (mostly control characters), so that a record costs the
// quarantine's disk at most 4/3 of its size. ReadFile and Read parse such files back.
package quarantine

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/file"
)

// DefaultMaxFileBytes is the default for Config.MaxFileBytes (256 MiB).
const DefaultMaxFileBytes = file.DefaultMaxFileBytes

// fileBase is the file name stem: quarantine-<hour>.ndjson.
const fileBase = "quarantine"

// Config configures the quarantine directory.
type Config struct {
	// Dir is the directory the quarantine files are written to; created if
	// missing. Required.
	Dir string `yaml:"dir"`
	// MaxFileBytes rotates a file before it would grow past this size.
	// 0 means DefaultMaxFileBytes (256 MiB).
	MaxFileBytes int64 `yaml:"max_file_bytes"`
	// Fsync makes every Put fsync before returning. Unset (nil) means true:
	// quarantine volume is small and the records are evidence. Set
	// "fsync: false" to return after write(2) only.
	Fsync *bool `yaml:"fsync"`
	// MaxTotalBytes bounds the quarantine files in Dir together (0: no
	// bound), and in the other directories sharing its Budget (the
	// router's: the inputs' directory and each destination's): past it
	// Put refuses (ErrFull), so that a flood of bad records cannot fill a
	// volume the queues share; the senders of those records are told to
	// retry until an operator replays or removes files.
	MaxTotalBytes int64 `yaml:"max_total_bytes"`
}

// ErrFull is returned (wrapped) by Put when max_total_bytes would be exceeded.
var ErrFull = errors.New("quarantine full")

// Validate reports configuration errors; the messages name the yaml key
// (relative to the block, whose path the caller prefixes) and say how to fix
// it.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Dir) == "" {
		errs = append(errs, errors.New(`"dir" is required: set it to the directory rejected records are stored in`))
	}
	if c.MaxFileBytes < 0 {
		errs = append(errs, fmt.Errorf(`"max_file_bytes" must not be negative (got %d): omit it for the default of 256 MiB or give a size in bytes`, c.MaxFileBytes))
	}
	if c.MaxTotalBytes < 0 {
		errs = append(errs, fmt.Errorf(`"max_total_bytes" must not be negative (got %d): omit it for no bound or give a size in bytes`, c.MaxTotalBytes))
	}
	return errors.Join(errs...)
}

// Option changes how New builds a Dir.
type Option func(*options)

type options struct {
	now    func() time.Time
	key    *SealKey
	budget *Budget
}

// WithBudget makes the Dir count its files against b, shared with the
// other Dirs made with it, instead of a bound of its own
// (Config.MaxTotalBytes is then b's).
func WithBudget(b *Budget) Option {
	return func(o *options) { o.budget = b }
}

// WithSealKey seals the records of refused events with key (see SealKey).
func WithSealKey(key *SealKey) Option {
	return func(o *options) { o.key = key }
}

// WithClock replaces time.Now, which decides the hour in the file name and
// the time stored for records whose Rejected.Time is zero (for tests).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// Dir is a quarantine stored in a local directory. It implements
// pipeline.Quarantine. Put may be called from many goroutines at once; each
// Put renders its records without a lock and appends them with one write(2).
type Dir struct {
	rf  *file.RotatingFile
	now func() time.Time
	key *SealKey
	*Budget
}

// Budget is max_total_bytes over the quarantine directories that share
// it (WithBudget): a router's inputs' directory and each destination's
// count together, so that the bound is what they may take of the volume
// they share, however many destinations there are. Its methods are safe
// for concurrent use.
type Budget struct {
	maxTotal int64
	// recount: Puts write under its read lock and settle their
	// reservation before releasing it; a recount takes it exclusively, so
	// no write is between the files and the counts while it lists them.
	recount  sync.RWMutex
	mu       sync.Mutex
	dirs     []string  // the directories counted
	onDisk   int64     // bytes of their quarantine files when last counted, plus what Puts wrote since
	inflight int64     // reserved by Puts that have not written yet (a recount does not see them)
	counted  time.Time // when the files were last counted (files removed by an operator show then)
}

// NewBudget returns a budget of maxTotal bytes (0: no bound).
func NewBudget(maxTotal int64) *Budget { return &Budget{maxTotal: maxTotal} }

// Max is the bound in bytes (0: none).
func (b *Budget) Max() int64 { return b.maxTotal }

// Bytes is what the directories hold, with what Puts have reserved (0
// without a bound: nothing is counted). The files are counted again when
// the last count is recountEvery old, so that files an operator removed
// show (the gauge of it goes down once a replayed quarantine is cleared).
func (b *Budget) Bytes() int64 {
	if b.maxTotal <= 0 {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if time.Since(b.counted) >= recountEvery {
		b.recountLocked()
	}
	return b.onDisk + b.inflight
}

// recountLocked counts the directories' files again; b.mu is held on
// entry and on return (released while the files are listed, under the
// recount lock, which waits for writes in progress to settle).
func (b *Budget) recountLocked() {
	b.counted = time.Now()
	dirs := b.dirs
	b.mu.Unlock()
	b.recount.Lock() // no write in progress: the files hold exactly what onDisk counts
	var onDisk int64
	var err error
	for _, dir := range dirs {
		var n int64
		if n, err = filesBytes(dir); errors.Is(err, fs.ErrNotExist) {
			// Removed by an operator freeing the quarantine: it holds
			// nothing (the next record creates it again).
			err = nil
			continue
		} else if err != nil {
			break
		}
		onDisk += n
	}
	if err == nil {
		b.mu.Lock()
		b.onDisk = onDisk
		b.mu.Unlock()
	}
	b.recount.Unlock()
	b.mu.Lock()
}

// add counts dir's files in the budget.
func (b *Budget) add(dir string) error {
	if b.maxTotal <= 0 {
		return nil
	}
	n, err := filesBytes(dir)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dirs = append(b.dirs, dir)
	b.onDisk += n
	b.counted = time.Now()
	return nil
}

// recountEvery bounds how often a full quarantine counts its files again.
const recountEvery = time.Second

var _ pipeline.Quarantine = (*Dir)(nil)

// New validates cfg and returns a Dir. The directory is created if missing;
// no file is created before the first Put.
func New(cfg Config, opts ...Option) (*Dir, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if cfg.MaxFileBytes == 0 {
		cfg.MaxFileBytes = DefaultMaxFileBytes
	}
	fsync := cfg.Fsync == nil || *cfg.Fsync
	rf, err := file.NewRotatingFile(cfg.Dir, fileBase, cfg.MaxFileBytes, fsync, o.now)
	if err != nil {
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	if o.budget == nil {
		o.budget = NewBudget(cfg.MaxTotalBytes)
	}
	if err := o.budget.add(cfg.Dir); err != nil {
		_ = rf.Close(context.Background())
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	return &Dir{rf: rf, now: o.now, key: o.key, Budget: o.budget}, nil
}

// filesBytes sums the sizes of the quarantine files in dir.
func filesBytes(dir string) (int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, fileBase+"-") || !strings.HasSuffix(name, ".ndjson") {
			continue
		}
		if fi, err := e.Info(); err == nil { // removed meanwhile: not counted
			n += fi.Size()
		}
	}
	return n, nil
}

// reserve takes n bytes of max_total_bytes, counting the files again (at
// most every recountEvery) before it refuses.
func (b *Budget) reserve(n int64) error {
	if b.maxTotal <= 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.onDisk+b.inflight+n > b.maxTotal && time.Since(b.counted) >= recountEvery {
		b.recountLocked()
	}
	// An empty quarantine takes any batch: refusing one larger than the
	// bound would refuse it forever.
	if used := b.onDisk + b.inflight; used > 0 && used+n > b.maxTotal {
		where := b.dirs[0]
		if len(b.dirs) > 1 {
			where = fmt.Sprintf("the quarantine (%s)", strings.Join(b.dirs, ", "))
		}
		return fmt.Errorf("%w: %s holds %d bytes of records and max_total_bytes is %d: see them with router quarantine list, replay them (router quarantine replay) and remove the files, or raise quarantine.max_total_bytes; until then batches with records to quarantine are refused and retried",
			ErrFull, where, used, b.maxTotal)
	}
	b.inflight += n
	return nil
}

// written settles a reservation of n bytes: on disk if ok, else given back.
func (b *Budget) written(n int64, ok bool) {
	if b.maxTotal > 0 {
		b.mu.Lock()
		b.inflight -= n
		if ok {
			b.onDisk += n
		}
		b.mu.Unlock()
	}
}

// line is the on-disk shape of one record; field order is the line's order.
type line struct {
	Time        string `json:"time"`
	Reason      string `json:"reason,omitempty"`
	Detail      string `json:"detail,omitempty"`
	Input       string `json:"input,omitempty"`
	Protocol    string `json:"protocol,omitempty"`
	Peer        string `json:"peer,omitempty"`
	Destination string `json:"destination,omitempty"`
	Status      int    `json:"status,omitempty"`
	// The input's defaults for the record (pipeline.Rejected).
	DefaultSourceType string `json:"default_source_type,omitempty"`
	DefaultIndex      string `json:"default_index,omitempty"`
	// The rest the request gave the record (pipeline.Rejected).
	SourceType    string     `json:"source_type,omitempty"`
	DefaultHost   string     `json:"default_host,omitempty"`
	DefaultSource string     `json:"default_source,omitempty"`
	DefaultTime   string     `json:"default_time,omitempty"`
	RecordTime    string     `json:"record_time,omitempty"`
	Event         *eventLine `json:"event,omitempty"`
	Raw           string     `json:"raw,omitempty"`
	RawBase64     string     `json:"raw_base64,omitempty"`
}

// eventLine is pipeline.RejectedEvent on disk: the hash as 16 hex digits (a
// JSON number loses precision past 2^53), times as RFC 3339 with
// nanoseconds (exact).
type eventLine struct {
	Hash string `json:"hash"`
	// Key is the dedup key, 16 hex digits, when it is not the hash.
	Key        string `json:"key,omitempty"`
	Time       string `json:"time"`
	Ingest     string `json:"ingest"`
	SourceType string `json:"source_type,omitempty"`
	// SourceTypeBase64 holds a source type that is not valid UTF-8 (a HEC
	// sourcetype is taken as sent), which "source_type" would change.
	SourceTypeBase64 string `json:"source_type_base64,omitempty"`
	Priority         string `json:"priority"`
	// Seal is the router's MAC of the record (see SealKey), when it was
	// written with a key.
	Seal string `json:"seal,omitempty"`
}

type encBuf struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var encPool = sync.Pool{New: func() any {
	e := &encBuf{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

// AppendRecord appends the NDJSON line (with its trailing '\n') for r to dst.
// A zero r.Time is stored as now.
func AppendRecord(dst []byte, r *pipeline.Rejected, now time.Time) []byte {
	return appendRendered(dst, r, now, nil, nil)
}

// appendRendered appends the line appendLine renders (see there for key and
// seal) to dst.
func appendRendered(dst []byte, r *pipeline.Rejected, now time.Time, key *SealKey, seal []byte) []byte {
	e := encPool.Get().(*encBuf)
	e.buf.Reset()
	appendLine(e, r, now, key, seal)
	dst = append(dst, e.buf.Bytes()...)
	putEnc(e)
	return dst
}

func putEnc(e *encBuf) {
	if e.buf.Cap() <= 16<<20 {
		encPool.Put(e)
	}
}

// appendLine encodes r into e. A record with Event is sealed: with seal when
// given (a record read back), else computed with key when given.
func appendLine(e *encBuf, r *pipeline.Rejected, now time.Time, key *SealKey, seal []byte) {
	t := now
	if r.Time != 0 {
		t = time.Unix(0, r.Time)
	}
	l := line{
		Time:        t.UTC().Format(time.RFC3339Nano),
		Reason:      r.Reason,
		Detail:      r.Detail,
		Input:       r.Input,
		Protocol:    r.Protocol,
		Peer:        r.Peer,
		Destination: r.Destination,
		Status:      r.Status,
		// Names from configuration (a token's) or a request header,
		// as UTF-8 as the other labels.
		DefaultSourceType: r.DefaultSourceType,
		DefaultIndex:      r.DefaultIndex,
		SourceType:        r.SourceType,
		DefaultHost:       r.DefaultHost,
		DefaultSource:     r.DefaultSource,
	}
	if r.DefaultTime != 0 {
		l.DefaultTime = time.Unix(0, r.DefaultTime).UTC().Format(time.RFC3339Nano)
	}
	if r.RecordTime != 0 {
		l.RecordTime = time.Unix(0, r.RecordTime).UTC().Format(time.RFC3339Nano)
	}
	if ev := r.Event; ev != nil {
		l.Event = &eventLine{
			Hash:       fmt.Sprintf("%016x", ev.Hash),
			Time:       time.Unix(0, ev.Time).UTC().Format(time.RFC3339Nano),
			Ingest:     time.Unix(0, ev.Ingest).UTC().Format(time.RFC3339Nano),
			SourceType: ev.SourceType,
			Priority:   ev.Priority.String(),
		}
		if ev.Key != 0 {
			l.Event.Key = fmt.Sprintf("%016x", ev.Key)
		}
		if !utf8.ValidString(ev.SourceType) {
			l.Event.SourceType, l.Event.SourceTypeBase64 = "", base64.StdEncoding.EncodeToString([]byte(ev.SourceType))
		}
		p := ev.Priority
		if p < pipeline.P1 || p > pipeline.P3 {
			p = pipeline.P3 // unprioritized counts as P3, as in the queues
			l.Event.Priority = p.String()
		}
		switch {
		case seal != nil:
			l.Event.Seal = hex.EncodeToString(seal)
		case key != nil:
			s := key.seal(r.Destination, ev, p, r.Raw)
			l.Event.Seal = hex.EncodeToString(s[:])
		}
	}
	if utf8.Valid(r.Raw) && !escapesLong(r.Raw) {
		l.Raw = string(r.Raw)
	} else {
		l.RawBase64 = base64.StdEncoding.EncodeToString(r.Raw)
	}
	// Strings always encode: the only failure mode of Encode is an
	// unsupported type. Invalid UTF-8 in the metadata fields is replaced by
	// U+FFFD, which is acceptable for labels and messages.
	if err := e.enc.Encode(&l); err != nil {
		panic("quarantine: encode: " + err.Error())
	}
}

// escapesLong reports whether b, as a JSON string, would be longer than in
// base64: control characters take 6 bytes each (\u0001), so a record of
// them would fill the quarantine's disk six times faster than it came in;
// encoding/json also writes U+2028 and U+2029 (3 bytes) as 6.
func escapesLong(b []byte) bool {
	n := len(b)
	for i, c := range b {
		switch {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
			n++
		case c < 0x20:
			n += 5
		case c == 0xe2 && i+2 < len(b) && b[i+1] == 0x80 && (b[i+2] == 0xa8 || b[i+2] == 0xa9):
			n += 3 // U+2028, U+2029
		}
	}
	return n > (len(b)+2)/3*4
}

// Put appends one line per record with a single write(2), fsynced unless
// "fsync: false".
//
// Nil means every record is stored (the caller may acknowledge upstream); an
// error means none of them are (see file.RotatingFile.Write) and is an IO
// error worth retrying, or ctx's error when waiting for the file lock outlived
// it. Put does not retain recs or their bytes. After Close it returns
// pipeline.ErrClosed. Records with a zero Time are stamped with the current
// time.
func (d *Dir) Put(ctx context.Context, recs []pipeline.Rejected) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(recs) == 0 {
		return d.rf.Write(ctx, nil) // reports ErrClosed after Close
	}
	e := encPool.Get().(*encBuf)
	e.buf.Reset()
	now := d.now()
	for i := range recs {
		appendLine(e, &recs[i], now, d.key, nil)
	}
	n := int64(e.buf.Len())
	if err := d.reserve(n); err != nil {
		putEnc(e)
		return err // "quarantine full: ..."
	}
	if d.maxTotal > 0 {
		d.recount.RLock()
	}
	err := d.rf.Write(ctx, e.buf.Bytes())
	putEnc(e)
	d.written(n, err == nil)
	if d.maxTotal > 0 {
		d.recount.RUnlock()
	}
	if err != nil && !errors.Is(err, pipeline.ErrClosed) && ctx.Err() == nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	return err
}

// Close fsyncs and closes the current file. It is idempotent; ctx bounds the
// wait for Puts in flight. After Close, Put returns pipeline.ErrClosed.
func (d *Dir) Close(ctx context.Context) error {
	if err := d.rf.Close(ctx); err != nil {
		return fmt.Errorf("quarantine: close: %w", err)
	}
	return nil
}
