package s3

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

const (
	filePerm = 0o640
	dirPerm  = 0o750
)

// Option changes how New builds a LocalArchive; the zero set of options is
// the production setting.
type Option func(*options)

type options struct {
	now     func() time.Time
	onError func(error)
	sweep   time.Duration

	// LocalArchive as the S3 archive's staging area.
	label      string            // error prefix; default "archive_dir <name>"
	onFinalize func(path string) // called after an object is renamed to its final path
	startLease *startLease

	// S3Archive only.
	s3 s3Options
}

// WithClock replaces time.Now for object creation times ({start}) and object
// age (for tests).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithErrorHandler receives errors that no Write can return: failures to roll
// an object in the background or for another partition (the object then stays
// *.partial and is recovered at the next start), and notices of torn frames
// cut off during recovery. fn is called from any goroutine, possibly
// concurrently, and must not block for long. Default: errors are dropped
// (Close still returns the errors of the rolls it does).
func WithErrorHandler(fn func(error)) Option {
	return func(o *options) {
		if fn != nil {
			o.onError = fn
		}
	}
}

// withSweepInterval sets the age ticker's period (for tests).
func withSweepInterval(d time.Duration) Option {
	return func(o *options) { o.sweep = d }
}

// withLabel sets the prefix of error messages (default "archive_dir <name>").
func withLabel(label string) Option {
	return func(o *options) { o.label = label }
}

// withFinalizeHook has fn called with the final path of every object rolled
// by this LocalArchive (not of those recovered by New: the caller scans for
// those), after the rename. fn is called with the object's lock held, from
// Write, the ticker or Close, and must not block.
func withFinalizeHook(fn func(path string)) Option {
	return func(o *options) { o.onFinalize = fn }
}

// withStartLease keeps {start} from repeating across restarts (see
// startLease); the S3 archive's staging sets it.
func withStartLease(l *startLease) Option {
	return func(o *options) { o.startLease = l }
}

// LocalArchive is the local directory archive ("type: archive_dir"). It
// implements pipeline.Sink. See the package documentation for the file
// format and crash behaviour.
//
// Concurrency: Write is called from many goroutines at once. Grouping and
// compression run without locks; appending a frame holds only that
// partition's object lock, so Writes to different partitions proceed in
// parallel and Writes to one partition append whole frames one after another.
// A short archive-wide mutex guards the table of open objects.
type LocalArchive struct {
	name       string
	label      string // prefix of error messages
	cfg        Config
	dir        string
	layout     *Layout
	ingest     bool
	gz         bool
	now        func() time.Time
	onError    func(error)
	onFinalize func(path string)
	evictions  atomic.Uint64 // objects closed at max_open_objects (lruLocked)

	zenc   *zstd.Encoder
	gzPool sync.Pool // *gzip.Writer at cfg.GzipLevel
	// scratch holds up to pooledScratches idle per-Write scratches. Not a
	// sync.Pool: each holds about a batch's bytes, and a sync.Pool keeps
	// one per P (router run raises GOMAXPROCS above the CPUs), which was
	// ~5 batches of idle memory under the harness.
	scratch chan *scratch

	mu      sync.Mutex
	objects map[Partition]*object
	closed  bool

	// state counts Writes in flight; closedBit is added by Close. drained
	// is closed once both hold: closed and no Write in flight.
	state     atomic.Int64
	drained   chan struct{}
	drainOnce sync.Once

	// startLease, when set (the S3 archive's staging), keeps {start} from
	// repeating across restarts (see startFloor).
	startLease *startLease

	stop chan struct{} // closed by Close: stops the ticker
	done chan struct{} // closed by the ticker when it returns
}

const closedBit = 1 << 62

// enter registers a Write; false after Close.
func (a *LocalArchive) enter() bool {
	if a.state.Add(1) >= closedBit {
		a.exit()
		return false
	}
	return true
}

func (a *LocalArchive) exit() {
	if a.state.Add(-1) == closedBit {
		a.drainOnce.Do(func() { close(a.drained) })
	}
}

var _ pipeline.Sink = (*LocalArchive)(nil)

// object is one open archive object: the file <key>.partial.
type object struct {
	sem     chan struct{} // the object lock; a mutex whose Lock honours ctx
	part    Partition     // map key (SourceType is an owned copy)
	created time.Time

	lastWrite atomic.Int64 // unix ns of the last append, for LRU eviction
	retired   atomic.Bool  // removed from the table; no new appends

	// Guarded by sem.
	f       *os.File
	key     string
	path    string // final path, dir/<key>
	partial string // path + ".partial"
	size    int64  // uncompressed bytes appended
	off     int64  // file size: compressed bytes appended
}

func (o *object) lock(ctx context.Context) error {
	select {
	case o.sem <- struct{}{}:
		return nil
	default:
	}
	select {
	case o.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (o *object) unlock() { <-o.sem }

// group collects the events of one partition within one Write.
type group struct {
	part  Partition
	size  int    // bytes of its NDJSON
	buf   []byte // Raw + '\n' per event: its part of scratch.buf
	frame []byte // buf compressed
}

// scratch is the per-Write working memory, pooled.
type scratch struct {
	groups []group
	index  map[Partition]int
	of     []int32 // the group of each event of the batch
	buf    []byte  // every group's NDJSON, one group after another
	frame  []byte
}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// maxPooled bounds buffers kept in pools, so that one huge batch does not pin
// its memory forever.
const maxPooled = 32 << 20

// maxPooledGroups bounds the per-partition buffers a pooled scratch keeps.
const maxPooledGroups = 256

// New validates cfg, finalizes *.partial files left under cfg.Dir by an
// earlier process (see the package documentation), and starts the age ticker
// that Close stops. name is the destination name reported by Name.
//
// New fails when the directory cannot be created or walked, or when a
// leftover partial file cannot be recovered (the error names it).
// resolveRoot returns dir with symbolic links resolved when it exists (a
// staging or archive directory linked to a larger volume is common):
// filepath.WalkDir does not follow a root that is a link, so recovery and
// the staging scan would see nothing under it, and every path the archive
// makes must be relative to the same root.
func resolveRoot(dir string) (string, error) {
	r, err := filepath.EvalSymlinks(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return dir, nil
	}
	return r, err
}

func New(name string, cfg Config, opts ...Option) (*LocalArchive, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	o := options{now: time.Now, onError: func(error) {}}
	for _, opt := range opts {
		opt(&o)
	}
	label := o.label
	if label == "" {
		label = "archive_dir " + name
	}
	layout, err := NewLayout(cfg.Layout())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("%s: dir: %w", label, err)
	}
	mkdir := func() error { return os.MkdirAll(dir, dirPerm) }
	if cfg.fsync() { // a new root durable too: its objects are only as durable as its entry
		mkdir = func() error { return wal.EnsureDir(wal.OS, dir) }
	}
	if err := mkdir(); err != nil {
		return nil, fmt.Errorf("%s: create dir: %w", label, err)
	}
	if dir, err = resolveRoot(dir); err != nil {
		return nil, fmt.Errorf("%s: dir: %w", label, err)
	}
	if err := recoverPartials(dir, cfg.fsync(), o.onError); err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	onFinalize := o.onFinalize
	if onFinalize == nil {
		onFinalize = func(string) {}
	}
	a := &LocalArchive{
		name:       name,
		label:      label,
		cfg:        cfg,
		dir:        dir,
		layout:     layout,
		ingest:     cfg.TimeSource == TimeSourceIngest,
		gz:         cfg.Compression == CompressionGzip,
		now:        o.now,
		onError:    o.onError,
		onFinalize: onFinalize,
		startLease: o.startLease,
		objects:    make(map[Partition]*object),
		drained:    make(chan struct{}),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	a.scratch = make(chan *scratch, pooledScratches)
	if a.gz {
		level := cfg.GzipLevel
		a.gzPool.New = func() any {
			w, _ := gzip.NewWriterLevel(nil, level) // level validated
			return w
		}
	} else {
		// EncodeAll is safe for concurrent use; it keeps up to
		// compressors() encoder states (about 2.3 MiB each with a 1 MiB
		// window, made on first use) and starts no goroutines. A frame holds one
		// batch's share of a partition, so a larger window would cost
		// memory per core for little ratio.
		level := zstd.SpeedFastest
		switch cfg.ZstdLevel {
		case ZstdLevelDefault:
			level = zstd.SpeedDefault
		case ZstdLevelBetter:
			level = zstd.SpeedBetterCompression
		}
		a.zenc, err = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(level),
			zstd.WithWindowSize(1<<20),
			zstd.WithEncoderConcurrency(compressors()),
			zstd.WithEncoderCRC(true),
		)
		if err != nil {
			return nil, fmt.Errorf("%s: zstd: %w", label, err)
		}
	}
	period := o.sweep
	if period <= 0 {
		period = min(max(cfg.MaxObjectAge/10, 50*time.Millisecond), 10*time.Second)
	}
	go a.ticker(period)
	return a, nil
}

// Name returns the destination name given to New.
func (a *LocalArchive) Name() string { return a.name }

// Layout returns the key layout in use.
func (a *LocalArchive) Layout() *Layout { return a.layout }

// Dir returns the absolute archive root.
func (a *LocalArchive) Dir() string { return a.dir }

// Write archives b. It groups the events by Partition: priority, source type
// and the hour of Event.Time (of Batch.Meta.IngestTime with "time_source:
// ingest" or when Event.Time is 0; of the current time when that is 0 too).
// It compresses each group once into one zstd frame or gzip member holding
// the events' Raw bytes, each followed by '\n', and appends each frame with
// one write(2) to the partition's open object, rolling objects by size, age
// and the open-object cap.
//
// Nil means every frame was written with write(2), and fsynced when "fsync:
// true". An error is an IO error (retryable, never Permanent), ctx's error,
// or pipeline.ErrClosed after Close. On error the frames of partitions
// before the failing one may already be archived, so a retry can duplicate
// them (at-least-once; Event.Hash identifies duplicates downstream); the
// failing frame itself is truncated away, so no object holds a torn frame.
//
// ctx is checked before each partition and bounds waits for a partition's
// lock; a write(2) in progress is not interrupted. Write does not retain b
// or any Event.Raw. An empty batch is a no-op.
func (a *LocalArchive) Write(ctx context.Context, b *pipeline.Batch) error {
	if !a.enter() {
		return pipeline.ErrClosed
	}
	defer a.exit()
	if err := ctx.Err(); err != nil {
		return err
	}
	if b == nil || len(b.Events) == 0 {
		return nil
	}
	sc := a.getScratch()
	defer a.putScratch(sc)
	a.group(sc, b)
	a.compressGroups(sc)
	for i := range sc.groups {
		if err := ctx.Err(); err != nil {
			return err
		}
		g := &sc.groups[i]
		if err := a.appendFrame(ctx, g.part, g.frame, int64(len(g.buf))); err != nil {
			return err
		}
	}
	return nil
}

// compressors is how many frames the archive compresses at once: the CPUs
// the process may use. Not GOMAXPROCS: `router run` raises that above the
// CPU count so that goroutines blocked in fsync do not starve the others,
// and compressing on more goroutines than CPUs only costs encoder memory.
func compressors() int {
	return max(1, min(runtime.GOMAXPROCS(0), runtime.NumCPU()))
}

// parallelAbove is the batch size from which the groups of a batch are
// compressed in parallel.
const parallelAbove = 256 << 10

// compressGroups compresses every group into its frame; a large batch
// spanning several partitions on up to compressors() goroutines. Compression
// is most of the archive's cost, and a destination's queue drains on one
// goroutine: on a saturated node, that goroutine alone would get too small
// a share of the CPUs for the archive to keep up with the inputs. Frames
// are appended in group order afterwards, so objects are the same.
func (a *LocalArchive) compressGroups(sc *scratch) {
	total := 0
	for i := range sc.groups {
		total += len(sc.groups[i].buf)
	}
	workers := min(len(sc.groups), compressors())
	if workers < 2 || total < parallelAbove {
		for i := range sc.groups {
			g := &sc.groups[i]
			g.frame = a.compressTo(g.frame[:0], g.buf)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(sc.groups) {
					return
				}
				g := &sc.groups[i]
				g.frame = a.compressTo(g.frame[:0], g.buf)
			}
		})
	}
	wg.Wait()
}

func (a *LocalArchive) putScratch(sc *scratch) {
	for i := range sc.groups {
		g := &sc.groups[i]
		g.part.SourceType = "" // do not retain the batch's strings
		g.buf = nil
		if cap(g.frame) > maxPooled {
			g.frame = nil
		}
	}
	if cap(sc.buf) > maxPooled {
		sc.buf = nil
	}
	if cap(sc.of) > maxPooled/4 {
		sc.of = nil
	}
	if len(sc.groups) > maxPooledGroups {
		sc.groups = nil
	}
	sc.groups = sc.groups[:0]
	if len(sc.index) > maxPooledGroups {
		sc.index = make(map[Partition]int)
	} else {
		clear(sc.index)
	}
	if cap(sc.frame) > maxPooled {
		sc.frame = nil
	}
	select {
	case a.scratch <- sc:
	default: // enough idle ones: let the GC have it
	}
}

// pooledScratches bounds the idle scratches an archive keeps: its queue
// delivers max_in_flight (default 2) batches at once.
const pooledScratches = 4

func (a *LocalArchive) getScratch() *scratch {
	select {
	case sc := <-a.scratch:
		return sc
	default:
		return &scratch{index: make(map[Partition]int)}
	}
}

// group fills sc.groups with the batch's events, one group per partition, in
// order of first appearance, each group's NDJSON a contiguous part of one
// buffer (so the scratch holds about one batch's bytes, however the events
// spread over partitions). Two passes: the first finds each event's group and
// the groups' sizes, the second copies every event to its group's place. It
// allocates nothing once the pooled buffers have grown: consecutive events
// of one partition take the fast path, others a lookup in the reused index
// map.
func (a *LocalArchive) group(sc *scratch, b *pipeline.Batch) {
	last := -1
	var lastPart Partition
	ingest := b.Meta.IngestTime
	if ingest == 0 {
		ingest = a.now().UnixNano()
	}
	batchHour := HourOf(ingest)
	sc.of = slices.Grow(sc.of[:0], len(b.Events))[:len(b.Events)]
	for i := range b.Events {
		ev := &b.Events[i]
		h, in := batchHour, ingest
		if ev.Ingest != 0 {
			h, in = HourOf(ev.Ingest), ev.Ingest
		}
		if !a.ingest && ev.Time != 0 && inProjection(ev.Time, in) {
			h = HourOf(ev.Time)
		}
		p := Partition{Priority: ev.Priority, SourceType: ev.SourceType, Hour: h}
		gi := last
		if gi < 0 || p != lastPart {
			var ok bool
			gi, ok = sc.index[p]
			if !ok {
				gi = len(sc.groups)
				if gi < cap(sc.groups) {
					sc.groups = sc.groups[:gi+1]
				} else {
					sc.groups = append(sc.groups, group{})
				}
				sc.groups[gi].part = p
				sc.groups[gi].size = 0
				sc.index[p] = gi
			}
			last, lastPart = gi, p
		}
		sc.of[i] = int32(gi)
		sc.groups[gi].size += len(ev.Raw) + 1
	}
	total := 0
	for i := range sc.groups {
		total += sc.groups[i].size
	}
	sc.buf = slices.Grow(sc.buf[:0], total)[:total]
	off := 0
	for i := range sc.groups {
		g := &sc.groups[i]
		g.buf = sc.buf[off : off : off+g.size]
		off += g.size
	}
	for i := range b.Events {
		g := &sc.groups[sc.of[i]]
		g.buf = append(g.buf, b.Events[i].Raw...) // within its capacity: no copy of the buffer
		g.buf = append(g.buf, '\n')
	}
}

// maxAhead is how far past its ingestion an event's own time may lie and
// still decide its partition: the DDL projects dt up to NOW+2DAYS (ddl.go),
// and a query runs after the ingestion.
const maxAhead = 48 * time.Hour

// inProjection reports whether an event of time t, ingested at ingest, is
// filed under its own hour: only a time from 1970-01-01 (the start of the
// DDL's projected range) to maxAhead past its ingestion. Athena builds the
// partitions it reads from projection.dt.range alone, so an object keyed
// outside it (a device clock reset to 1969, or a month fast) would be in
// the bucket, under Object Lock, and in no query's result. Such events go
// under their ingest hour; they keep their own @timestamp.
func inProjection(t, ingest int64) bool {
	return t >= 0 && t <= ingest+int64(maxAhead)
}

// compress returns src as one zstd frame or gzip member, in sc.frame.
func (a *LocalArchive) compress(sc *scratch, src []byte) []byte {
	sc.frame = a.compressTo(sc.frame[:0], src)
	return sc.frame
}

// compressTo appends src as one zstd frame or gzip member to dst. Safe for
// concurrent use (the zstd encoder's EncodeAll is; gzip writers are pooled).
func (a *LocalArchive) compressTo(dst, src []byte) []byte {
	if !a.gz {
		return a.zenc.EncodeAll(src, dst)
	}
	zw := a.gzPool.Get().(*gzip.Writer)
	out := appendWriter{b: dst}
	zw.Reset(&out)
	// Writes to memory cannot fail.
	_, _ = zw.Write(src)
	_ = zw.Close()
	zw.Reset(nil)
	a.gzPool.Put(zw)
	return out.b
}

// appendFrame appends frame (holding rawLen uncompressed bytes) to the open
// object of partition p, opening or rolling objects as needed.
func (a *LocalArchive) appendFrame(ctx context.Context, p Partition, frame []byte, rawLen int64) error {
	for {
		o, err := a.acquire(ctx, p)
		if err != nil {
			return err
		}
		now := a.now()
		if now.Sub(o.created) >= a.cfg.MaxObjectAge {
			a.retire(o)
			a.report(a.finalize(o))
			o.unlock()
			continue
		}
		if err := a.appendLocked(o, frame, rawLen); err != nil {
			o.unlock()
			return err
		}
		o.lastWrite.Store(now.UnixNano())
		if o.size >= a.cfg.MaxObjectBytes {
			a.retire(o)
			// The frame is written; a failed roll leaves a .partial that
			// the next start recovers, so it does not fail this Write.
			a.report(a.finalize(o))
		}
		o.unlock()
		return nil
	}
}

// appendLocked writes frame to o's file; o is locked and open. On a write
// error the object is rolled without the failed frame (a partial write is
// truncated away), so the retry starts a fresh object.
func (a *LocalArchive) appendLocked(o *object, frame []byte, rawLen int64) error {
	n, err := o.f.Write(frame)
	if err != nil {
		err = fmt.Errorf("%s: write %s: %w", a.label, o.partial, err)
		a.retire(o)
		if n > 0 {
			if terr := o.f.Truncate(o.off); terr != nil {
				// The torn frame stays at the tail: let the
				// recovery routine cut it off.
				a.abandon(o)
				return fmt.Errorf("%w (truncating the torn frame failed: %v)", err, terr)
			}
		}
		a.report(a.finalize(o))
		return err
	}
	start := o.off
	o.off += int64(n)
	o.size += rawLen
	if a.cfg.fsync() {
		if err := o.f.Sync(); err != nil {
			// After a failed fsync the page cache may have dropped the
			// data while a later fsync succeeds: never trust this file.
			// Cut the frame this Write added first: the caller sends it
			// again, and a finalized copy would archive it twice.
			if terr := o.f.Truncate(start); terr == nil {
				o.off, o.size = start, o.size-rawLen
			}
			a.retire(o)
			a.abandon(o)
			return fmt.Errorf("%s: fsync %s: %w", a.label, o.partial, err)
		}
	}
	return nil
}

// abandon closes o's file and finalizes it the way recovery would: cut a torn
// tail, fsync, rename. If that fails the file stays *.partial for the next
// start. o is locked.
func (a *LocalArchive) abandon(o *object) {
	if o.f == nil {
		return
	}
	_ = o.f.Close()
	o.f = nil
	_, final, err := finalizePartial(o.partial, a.cfg.fsync())
	if err != nil {
		a.report(fmt.Errorf("%s: finalize %s after a write error: %w", a.label, o.partial, err))
		return
	}
	if final != "" {
		a.onFinalize(final)
	}
}

// acquire returns the open object of partition p, locked, creating it (and
// evicting the least recently written object at the cap) when there is none.
func (a *LocalArchive) acquire(ctx context.Context, p Partition) (*object, error) {
	for {
		a.mu.Lock()
		if o := a.objects[p]; o != nil {
			a.mu.Unlock()
			if err := o.lock(ctx); err != nil {
				return nil, err
			}
			if o.f == nil || o.retired.Load() {
				o.unlock() // rolled meanwhile; look again
				continue
			}
			return o, nil
		}
		var victim *object
		if len(a.objects) >= a.cfg.MaxOpenObjects {
			victim = a.lruLocked()
			a.retireLocked(victim)
		}
		now := a.now()
		p.SourceType = strings.Clone(p.SourceType) // never keep the batch's memory
		o := &object{sem: make(chan struct{}, 1), part: p, created: now}
		o.lastWrite.Store(now.UnixNano())
		o.sem <- struct{}{} // locked; nobody else has it yet
		a.objects[p] = o
		a.mu.Unlock()

		if victim != nil {
			// Roll the victim before opening, so that at most
			// max_open_objects files are open. Its holder, if any, is
			// finishing one append (or opening it, which waits only
			// for older objects), so the wait is short and not bounded
			// by ctx: the victim must be finalized by someone.
			victim.sem <- struct{}{}
			a.report(a.finalize(victim))
			victim.unlock()
		}
		// o may have been evicted meanwhile by another opener, which
		// waits for o's lock: o still takes this one frame, so every
		// opener makes progress, and is rolled right after.
		if err := a.openFile(o); err != nil {
			a.retire(o)
			o.unlock()
			return nil, err
		}
		return o, nil
	}
}

// lruLocked returns the open object to close at max_open_objects: the
// least recently written one of an hour before the last two (a backfill's
// or a late sender's, which gets few events more), else the least recently
// written of all. A backfill touching more hours than the cap then cuts its
// own objects short, not the live partitions': closing those after every
// batch made one tiny object per batch per partition for as long as the
// backfill ran. Counted in Evictions. a.mu is held.
func (a *LocalArchive) lruLocked() *object {
	live := a.now().Unix()/3600 - 1
	var victim, past *object
	for _, o := range a.objects {
		lw := o.lastWrite.Load()
		if victim == nil || lw < victim.lastWrite.Load() {
			victim = o
		}
		if o.part.Hour < live && (past == nil || lw < past.lastWrite.Load()) {
			past = o
		}
	}
	a.evictions.Add(1)
	if past != nil {
		return past
	}
	return victim
}

// Evictions returns how many objects were closed early because
// max_open_objects were open (logrouter_archive_evictions_total): many mean
// small objects, and that max_open_objects is below priorities x source
// types x hours written at once.
func (a *LocalArchive) Evictions() uint64 { return a.evictions.Load() }

// retire removes o from the table so that no new append finds it.
func (a *LocalArchive) retire(o *object) {
	a.mu.Lock()
	a.retireLocked(o)
	a.mu.Unlock()
}

func (a *LocalArchive) retireLocked(o *object) {
	o.retired.Store(true)
	if a.objects[o.part] == o {
		delete(a.objects, o.part)
	}
}

// openFile creates o's partial file under a fresh, unused key.
func (a *LocalArchive) openFile(o *object) error {
	start := o.created
	if a.startLease != nil {
		var err error
		if start, err = a.startLease.next(start); err != nil {
			return fmt.Errorf("%s: %w", a.label, err)
		}
	}
	for tries := 0; tries < 100; tries++ {
		key := a.layout.Key(o.part, start, NextSeq())
		if !a.layout.hasSeq {
			start = start.Add(time.Second) // next try: the next {start}
		}
		if !filepath.IsLocal(key) { // impossible with a validated layout
			return fmt.Errorf("%s: key %q escapes the archive directory", a.label, key)
		}
		path := filepath.Join(a.dir, filepath.FromSlash(key))
		if err := a.mkdirs(filepath.Dir(path)); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // a parent was removed meanwhile (see S3Archive): again
			}
			return fmt.Errorf("%s: %w", a.label, err)
		}
		if _, err := os.Lstat(path); err == nil {
			continue
		}
		partial := path + partialSuffix
		f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, filePerm)
		if errors.Is(err, fs.ErrExist) || errors.Is(err, fs.ErrNotExist) {
			// ErrNotExist: the S3 uploader removed the directory, empty
			// after an upload, between mkdirs and here: create it again.
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: create %s: %w", a.label, partial, err)
		}
		if a.cfg.fsync() {
			if err := syncDir(filepath.Dir(partial)); err != nil {
				_ = f.Close()
				_ = os.Remove(partial)
				return fmt.Errorf("%s: fsync directory of %s: %w", a.label, partial, err)
			}
		}
		o.f, o.key, o.path, o.partial = f, key, path, partial
		return nil
	}
	return fmt.Errorf("%s: no unused key for partition %s/%s after 100 tries", a.label, o.part.Priority, o.part.SourceType)
}

// mkdirs creates dir (below a.dir) and, with fsync, makes each new entry
// durable by fsyncing its parent.
func (a *LocalArchive) mkdirs(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if !a.cfg.fsync() {
		return os.MkdirAll(dir, dirPerm)
	}
	rel, err := filepath.Rel(a.dir, dir)
	if err != nil {
		return err
	}
	cur := a.dir
	for _, seg := range strings.Split(rel, string(filepath.Separator)) {
		next := filepath.Join(cur, seg)
		err := os.Mkdir(next, dirPerm)
		if err == nil {
			if err := syncDir(cur); err != nil {
				return err
			}
		} else if !errors.Is(err, fs.ErrExist) {
			return err
		}
		cur = next
	}
	return nil
}

// finalize rolls o: fsync, close, rename <key>.partial to <key> (fsyncing the
// directory with "fsync: true"). An object with no bytes is removed. If the
// fsync fails the file is left as *.partial for recovery. o is locked;
// finalizing twice is a no-op.
func (a *LocalArchive) finalize(o *object) error {
	f := o.f
	if f == nil {
		return nil
	}
	o.f = nil
	serr := f.Sync()
	cerr := f.Close()
	if o.off == 0 {
		_ = os.Remove(o.partial)
		return nil
	}
	if serr != nil || cerr != nil {
		return fmt.Errorf("%s: roll %s: %w (left as .partial for recovery at the next start)", a.label, o.partial, errors.Join(serr, cerr))
	}
	if err := os.Rename(o.partial, o.path); err != nil {
		return fmt.Errorf("%s: roll %s: %w", a.label, o.partial, err)
	}
	var err error
	if a.cfg.fsync() {
		if err = syncDir(filepath.Dir(o.path)); err != nil {
			err = fmt.Errorf("%s: fsync directory of %s: %w", a.label, o.path, err)
		}
	}
	a.onFinalize(o.path)
	return err
}

func (a *LocalArchive) report(err error) {
	if err != nil {
		a.onError(err)
	}
}

// ticker rolls objects that reached max_object_age while idle.
func (a *LocalArchive) ticker(period time.Duration) {
	defer close(a.done)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
			a.sweep()
		}
	}
}

// sweep rolls every object older than max_object_age.
func (a *LocalArchive) sweep() {
	now := a.now()
	var expired []*object
	a.mu.Lock()
	for _, o := range a.objects {
		if now.Sub(o.created) >= a.cfg.MaxObjectAge {
			a.retireLocked(o)
			expired = append(expired, o)
		}
	}
	a.mu.Unlock()
	for _, o := range expired {
		o.sem <- struct{}{}
		a.report(a.finalize(o))
		o.unlock()
	}
}

// Close rejects new Writes, waits for the Writes in flight, stops the age
// ticker and rolls every open object (fsync, close, rename). It is
// idempotent: a second call only finishes what a first call left behind (for
// example when its ctx expired while a Write was still in flight) and
// otherwise returns nil. ctx bounds the waits; objects not rolled in time
// stay *.partial and are recovered at the next start. After Close, Write
// returns pipeline.ErrClosed.
func (a *LocalArchive) Close(ctx context.Context) error {
	a.mu.Lock()
	first := !a.closed
	a.closed = true
	a.mu.Unlock()
	if first {
		close(a.stop)
		if a.state.Add(closedBit) == closedBit {
			a.drainOnce.Do(func() { close(a.drained) })
		}
	}
	select {
	case <-a.drained:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-a.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	a.mu.Lock()
	objs := make([]*object, 0, len(a.objects))
	for _, o := range a.objects {
		objs = append(objs, o)
	}
	a.mu.Unlock()
	var errs []error
	for _, o := range objs {
		if err := o.lock(ctx); err != nil {
			errs = append(errs, err)
			break
		}
		a.retire(o)
		errs = append(errs, a.finalize(o))
		o.unlock()
	}
	return errors.Join(errs...)
}
