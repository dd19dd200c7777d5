package s3

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/logrouter/logrouter/internal/backoff"
	"github.com/logrouter/logrouter/pipeline"
)

// Upload retry and housekeeping defaults.
const (
	defaultBackoffMin = time.Second
	defaultBackoffMax = time.Minute
	// sweepInterval is how often unfinished multipart uploads of this node
	// are looked for after the start-up sweep (a CreateMultipartUpload whose
	// answer was lost leaves one that nobody knows the ID of).
	sweepInterval = time.Hour
	// abortTimeout bounds one AbortMultipartUpload.
	abortTimeout = 30 * time.Second
)

// Content types of uploaded objects.
const (
	contentTypeZstd = "application/zstd" // RFC 8878
	contentTypeGzip = "application/gzip" // RFC 6713
)

// s3Options are the options that only S3Archive uses.
type s3Options struct {
	log          *slog.Logger
	clientOpts   []func(*awss3.Options)
	backoffMin   time.Duration
	backoffMax   time.Duration
	noStartDelay bool
}

// WithLogger sets the logger for the S3 archive's life events: what start-up
// found and cleaned up, and what Close leaves staged. Default slog.Default().
// Errors go to the error handler (WithErrorHandler), which logs them to this
// logger when none is set.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.s3.log = l
		}
	}
}

// WithS3ClientOptions adjusts the S3 client after the configuration is
// applied (its HTTP client, retryer, endpoint resolution...). Mostly for
// tests.
func WithS3ClientOptions(fns ...func(*awss3.Options)) Option {
	return func(o *options) { o.s3.clientOpts = append(o.s3.clientOpts, fns...) }
}

// withBackoff sets the upload retry backoff bounds (for tests).
func withBackoff(lo, hi time.Duration) Option {
	return func(o *options) { o.s3.backoffMin, o.s3.backoffMax = lo, hi }
}

// withoutStartDelay skips the wait for the next second in NewS3Archive (for
// tests, whose processes never restart).
func withoutStartDelay() Option {
	return func(o *options) { o.s3.noStartDelay = true }
}

// UploadError is what the error handler receives when an attempt to upload a
// staged object fails. The object stays staged and is retried, with jittered
// exponential backoff (1s to 1m), for as long as it takes.
type UploadError struct {
	Destination string
	Bucket      string
	Key         string
	// Attempt counts this object's failed attempts, from 1.
	Attempt int
	// Permanent is set for errors that retrying alone will not fix:
	// credentials, permissions, a missing bucket, Object Lock or KMS
	// settings the bucket refuses. Someone must act: the backlog grows.
	Permanent bool
	Err       error
}

func (e *UploadError) Error() string {
	what := "retrying"
	if e.Permanent {
		what = "fix the bucket, credentials or settings: objects wait in staging_dir and the upload is retried"
	}
	return fmt.Sprintf("s3 %s: upload s3://%s/%s failed (attempt %d): %v; %s", e.Destination, e.Bucket, e.Key, e.Attempt, e.Err, what)
}

func (e *UploadError) Unwrap() error { return e.Err }

// permanentCodes are S3 error codes that no retry fixes by itself.
var permanentCodes = map[string]bool{
	"AccessDenied": true, "AllAccessDisabled": true, "AccountProblem": true,
	"InvalidAccessKeyId": true, "SignatureDoesNotMatch": true, "InvalidToken": true,
	"AuthorizationHeaderMalformed": true, "PermanentRedirect": true,
	"NoSuchBucket": true, "InvalidBucketName": true, "InvalidBucketState": true,
	"InvalidRequest": true, "InvalidArgument": true, "InvalidStorageClass": true,
	"InvalidObjectState": true, "MethodNotAllowed": true, "NotImplemented": true,
	"KMS.DisabledException": true, "KMS.NotFoundException": true,
	"KMS.KMSInvalidStateException": true, "KMS.AccessDeniedException": true,
	"InvalidEncryptionAlgorithmError": true, "MissingSecurityHeader": true,
}

// IsPermanentS3Error reports whether err is an S3 error that retrying alone
// will not fix (see UploadError.Permanent).
func IsPermanentS3Error(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if permanentCodes[ae.ErrorCode()] {
			return true
		}
		if ae.ErrorCode() == "NoSuchUpload" {
			// The multipart upload was aborted under it (another
			// writer's janitor): sending the object again fixes it.
			return false
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed:
			return true
		}
	}
	return false
}

// errVanished marks a staged object deleted by someone else.
var errVanished = errors.New("staged object vanished")

// S3Archive is the S3 archive ("type: s3"), the compliant long-term copy of
// every event. It implements pipeline.Sink.
//
// Write appends to a LocalArchive in staging_dir with fsync on, so nil from
// Write means the events are fsynced in an object that will be uploaded, and
// the queue in front may forget them. Objects roll by the LocalArchive rules
// (max_object_bytes, max_object_age, max_open_objects) into final files
// staging_dir/<key>; an uploader (upload_concurrency workers) puts each to
// s3://bucket/<key>, then deletes the local file. The key is the staged
// file's relative path, fixed when the object was opened, so a retried
// upload overwrites the same key and never makes a second object. Uploads
// stream from the file through the transfer manager: one PutObject up to
// part_size, a multipart upload above, about three parts in memory per
// upload. Each upload carries a CRC32C checksum, Content-Type
// application/zstd or application/gzip (no Content-Encoding: an HTTP
// client would decode the file on download), and the configured
// Object Lock retention (upload time + retain_days), legal hold,
// server-side encryption and storage class.
//
// Failed uploads are retried forever with jittered exponential backoff (1s
// to 1m, shared by the workers: after a failure a single upload probes S3
// once per backoff until one succeeds, so S3 down means no request storm);
// objects wait on disk meanwhile, see Backlog. Every failed attempt
// is reported to the error handler as an *UploadError, Permanent for
// configuration and permission errors (still retried: the data is
// precious).
//
// Multipart uploads that fail are aborted (by the transfer manager, and again
// here if that failed); unfinished uploads of this node (file name
// "{node}-{start}...", the timestamp parsed, so that node "a" spares node
// "a-b"; and as deep as this layout's keys, so that prefix "logs" spares
// a writer under "logs/eu") under the key prefix are aborted at start-up and hourly, as a crash
// or a lost answer can leave them. A bucket lifecycle rule
// AbortIncompleteMultipartUpload (7 days) is still a good idea.
//
// At start, NewS3Archive finalizes *.partial files a crash left (see the
// package documentation) and queues every staged object for upload. Close
// rolls every open object and uploads everything staged within its context;
// what remains stays on disk for the next start.
//
// Keys must never repeat, or an upload would replace an archived object (a
// new version, with Object Lock). They embed {node}, {start} (the second the
// object was opened) and {seq}, which starts at 1 in every process; so
// {start} never goes back across restarts: the staging directory keeps a
// lease (startLeaseFile) past every {start} used, and a new process starts
// after it, even when the clock was stepped back meanwhile (an NTP step, a
// VM restored from a snapshot). NewS3Archive also waits for the next
// second to begin. Each node name must have one writer per bucket and
// prefix.
type S3Archive struct {
	name    string
	cfg     S3Config // with defaults
	local   *LocalArchive
	dir     string
	layout  *Layout
	client  *awss3.Client
	tm      *transfermanager.Client
	tr      *http.Transport
	log     *slog.Logger
	onError func(error)
	now     func() time.Time
	bmin    time.Duration
	bmax    time.Duration

	mu       sync.Mutex
	files    map[string]*stagedFile // by key: queued or being uploaded
	queue    []*stagedFile          // waiting, oldest first
	bytes    int64                  // size of files
	changed  chan struct{}          // closed and replaced on every change
	failures int                    // consecutive failed uploads
	inflight int                    // uploads in progress
	probe    *stagedFile            // the upload taken to probe S3 after a failure, nil when none is out
	retryAt  time.Time              // no new upload before (wall clock)
	draining bool                   // Close: workers exit when the queue is empty
	running  int                    // live workers
	idle     chan struct{}          // closed when running drops to 0
	orphans  []orphan               // multipart uploads to abort
	runCtx   context.Context
	cancel   context.CancelFunc

	closeMu     sync.Mutex
	closed      atomic.Bool // Close was called: Write returns pipeline.ErrClosed
	janitorDone chan struct{}
}

type stagedFile struct {
	key, path string
	size      int64
	attempts  int
	uploading bool
}

type orphan struct{ key, id string }

var _ pipeline.Sink = (*S3Archive)(nil)

// NewS3Archive validates cfg, builds the S3 client (credentials from
// access_key_id/secret_access_key, else the AWS default chain), opens the
// staging directory (finalizing *.partial files left by a crash), queues
// every staged object for upload and starts the uploader, which Close stops.
// It does not contact S3: a bucket that is unreachable or misconfigured
// shows up as upload errors, while Writes keep staging. name is the
// destination name reported by Name.
//
// Options: WithErrorHandler (background errors, including every
// *UploadError; default: logged), WithLogger, WithClock (object times and
// retention dates), WithS3ClientOptions.
func NewS3Archive(name string, cfg S3Config, opts ...Option) (*S3Archive, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.s3.log == nil {
		o.s3.log = slog.Default()
	}
	log := o.s3.log.With("destination", name)
	if o.onError == nil {
		o.onError = func(err error) {
			var ue *UploadError
			if errors.As(err, &ue) && !ue.Permanent {
				log.Warn("s3 archive upload failed; retrying", "err", err)
				return
			}
			log.Error("s3 archive error", "err", err)
		}
	}
	if o.s3.backoffMin <= 0 {
		o.s3.backoffMin = defaultBackoffMin
	}
	if o.s3.backoffMax < o.s3.backoffMin {
		o.s3.backoffMax = max(defaultBackoffMax, o.s3.backoffMin)
	}

	var lopts []func(*awsconfig.LoadOptions) error
	if cfg.Region != "" {
		lopts = append(lopts, awsconfig.WithRegion(cfg.Region))
	}
	if cfg.AccessKeyID != "" {
		lopts = append(lopts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background(), lopts...)
	if err != nil {
		return nil, fmt.Errorf("s3 %s: AWS configuration: %w", name, err)
	}
	if awsCfg.Region == "" {
		if cfg.Endpoint == "" {
			return nil, fmt.Errorf(`s3 %s: no AWS region: set "region" (or AWS_REGION, or a region in the shared config's profile)`, name)
		}
		awsCfg.Region = "us-east-1"
	}
	// S3 requests go through a transport of our own (a copy of the one
	// the configuration built, with its CA bundle), so that Close can drop
	// its idle connections.
	var tr *http.Transport
	if bc, ok := awsCfg.HTTPClient.(*awshttp.BuildableClient); ok {
		tr = bc.GetTransport()
	} else {
		tr = awshttp.NewBuildableClient().GetTransport()
	}
	awsCfg.HTTPClient = &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	client := awss3.NewFromConfig(awsCfg, func(so *awss3.Options) {
		if cfg.Endpoint != "" {
			so.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		so.UsePathStyle = cfg.PathStyle
		for _, fn := range o.s3.clientOpts {
			fn(so)
		}
	})
	tm := transfermanager.New(client, func(to *transfermanager.Options) {
		to.PartSizeBytes = cfg.PartSize
		to.MultipartUploadThreshold = cfg.PartSize
		// The parts of one object go one at a time (the next part is
		// read while one is sent); objects go upload_concurrency at a
		// time. An upload holds about three parts in memory.
		to.Concurrency = 1
		to.ChecksumAlgorithm = tmtypes.ChecksumAlgorithmCrc32c
	})

	a := &S3Archive{
		name:        name,
		cfg:         cfg,
		client:      client,
		tm:          tm,
		tr:          tr,
		log:         log,
		onError:     o.onError,
		now:         o.now,
		bmin:        o.s3.backoffMin,
		bmax:        o.s3.backoffMax,
		files:       make(map[string]*stagedFile),
		changed:     make(chan struct{}),
		janitorDone: make(chan struct{}),
	}
	if a.dir, err = filepath.Abs(cfg.StagingDir); err != nil {
		return nil, fmt.Errorf("s3 %s: staging_dir: %w", name, err)
	}
	if a.dir, err = resolveRoot(a.dir); err != nil {
		return nil, fmt.Errorf("s3 %s: staging_dir: %w", name, err)
	}
	staging := cfg.staging()
	staging.Dir = a.dir // the same root for the staging archive's paths and ours
	lease, err := openStartLease(filepath.Join(a.dir, startLeaseFile), o.now())
	if err != nil {
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("s3 %s: staging_dir: %w", name, err)
	}
	a.local, err = New(name, staging, func(dst *options) { *dst = o },
		withLabel("s3 "+name+" staging"), withFinalizeHook(a.enqueue), withStartLease(lease))
	if err != nil {
		tr.CloseIdleConnections()
		return nil, err
	}
	a.layout = a.local.Layout()
	// The finalize hook may already run (the LocalArchive's ticker), so
	// enqueue tolerates files found twice.
	if err := a.scan(); err != nil {
		_ = a.local.Close(context.Background())
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("s3 %s: scan staging_dir: %w", name, err)
	}
	if files, bytes := a.Backlog(); files > 0 {
		log.Info("s3 archive: uploading objects staged by an earlier run", "objects", files, "bytes", bytes, "staging_dir", a.dir)
	}
	a.runCtx, a.cancel = context.WithCancel(context.Background())
	a.mu.Lock()
	a.startWorkersLocked()
	a.mu.Unlock()
	go a.janitor(a.runCtx)

	if !o.s3.noStartDelay {
		// See "Keys must never repeat" above.
		now := time.Now()
		time.Sleep(now.Truncate(time.Second).Add(time.Second).Sub(now))
	}
	return a, nil
}

// Name returns the destination name given to NewS3Archive.
func (a *S3Archive) Name() string { return a.name }

// StagingDir returns the absolute staging directory.
func (a *S3Archive) StagingDir() string { return a.dir }

// Write stages b: see LocalArchive.Write (fsync on). Nil means every event
// is fsynced in an object that will be uploaded. After Close it returns
// pipeline.ErrClosed. While the objects waiting for upload hold
// max_staged_bytes it returns a *StagingFullError and stages nothing: the
// caller (the destination's queue) retries later.
func (a *S3Archive) Write(ctx context.Context, b *pipeline.Batch) error {
	if a.closed.Load() {
		return pipeline.ErrClosed
	}
	a.mu.Lock()
	files, bytes := len(a.files), a.bytes
	a.mu.Unlock()
	if bytes >= a.cfg.MaxStagedBytes {
		return &StagingFullError{Name: a.name, Files: files, Bytes: bytes, Max: a.cfg.MaxStagedBytes}
	}
	return a.local.Write(ctx, b)
}

// StagingFullError refuses a Write while the objects waiting for upload
// hold max_staged_bytes: S3 is slow, down or refusing. It is transient
// (the events stay in the queue in front and are written once uploads
// catch up), never a reason to drop.
type StagingFullError struct {
	Name       string
	Files      int
	Bytes, Max int64
}

func (e *StagingFullError) Error() string {
	return fmt.Sprintf("s3 %s: %d objects (%d bytes) wait in staging_dir for upload, at max_staged_bytes (%d): S3 is slow, down or refusing (see the upload errors); events wait in the queue until uploads catch up, or raise max_staged_bytes if the volume has room",
		e.Name, e.Files, e.Bytes, e.Max)
}

// Backlog returns the staged objects not uploaded yet (waiting or being
// uploaded) and their total compressed size: what sits on disk because S3 is
// slow, down or refusing. Objects still open for writing are not counted.
// Export it as a gauge and alert when it grows.
func (a *S3Archive) Backlog() (files int, bytes int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.files), a.bytes
}

// Evictions is LocalArchive.Evictions of the staging archive.
func (a *S3Archive) Evictions() uint64 { return a.local.Evictions() }

// Close rejects new Writes, rolls every open object (see LocalArchive.Close)
// and uploads everything staged, waiting at most until ctx is done. What is
// not uploaded by then stays in staging_dir, is logged, and is uploaded at
// the next start; Close then returns an error saying so. Close is
// idempotent: a later call retries what an earlier one left (with a new
// ctx), and otherwise returns nil. After Close, Write returns
// pipeline.ErrClosed.
func (a *S3Archive) Close(ctx context.Context) error {
	a.closeMu.Lock()
	defer a.closeMu.Unlock()
	a.closed.Store(true)
	lerr := a.local.Close(ctx)

	a.mu.Lock()
	a.draining = true
	a.broadcastLocked()
	if a.running == 0 && len(a.queue) > 0 && ctx.Err() == nil {
		// An earlier Close gave up: try again with this ctx.
		a.runCtx, a.cancel = context.WithCancel(context.Background())
		a.startWorkersLocked()
	}
	idle, cancel := a.idle, a.cancel
	a.mu.Unlock()

	select {
	case <-idle:
	case <-ctx.Done():
	}
	cancel() // stops uploads in flight and the janitor
	<-idle
	<-a.janitorDone
	a.tr.CloseIdleConnections()

	var uerr error
	if files, bytes := a.Backlog(); files > 0 {
		a.log.Warn("s3 archive closed with objects not uploaded: they stay staged and are uploaded at the next start",
			"objects", files, "bytes", bytes, "staging_dir", a.dir, "err", ctx.Err())
		uerr = fmt.Errorf("s3 %s: %d objects (%d bytes) not uploaded before Close's deadline stay in %s and are uploaded at the next start: %w",
			a.name, files, bytes, a.dir, context.Cause(ctx))
	}
	return errors.Join(lerr, uerr)
}

// startWorkersLocked starts upload_concurrency workers on a.runCtx. a.mu is
// held.
func (a *S3Archive) startWorkersLocked() {
	a.idle = make(chan struct{})
	a.running = a.cfg.UploadConcurrency
	for range a.cfg.UploadConcurrency {
		go a.worker(a.runCtx)
	}
}

func (a *S3Archive) broadcastLocked() {
	close(a.changed)
	a.changed = make(chan struct{})
}

func (a *S3Archive) report(err error) {
	if err != nil {
		a.onError(err)
	}
}

// stagedExt reports whether name is a finalized object's file name. Every
// key a Layout renders ends with its compression's suffix, ".zst" or ".gz":
// the template's own extension when it has one (like ".json.zst"), else
// ".ndjson.zst" or ".ndjson.gz". Any key_template and either compression
// count, so objects staged under an earlier configuration are uploaded too.
func stagedExt(name string) bool {
	return strings.HasSuffix(name, ".zst") || strings.HasSuffix(name, ".gz")
}

// validKey reports whether key is a key this archive could have made: a
// relative path of [A-Za-z0-9._=+-] segments, none empty or starting with '.'.
func validKey(key string) bool {
	if key == "" || len(key) > 1024 || !stagedExt(key) {
		return false
	}
	segStart := true
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '/':
			if segStart {
				return false
			}
			segStart = true
			continue
		case c == '.' && segStart:
			return false
		case !literalByte(c):
			return false
		}
		segStart = false
	}
	return !segStart
}

// enqueue queues the final staged file at path for upload, once. It is the
// LocalArchive's finalize hook, so it must not block.
func (a *S3Archive) enqueue(path string) {
	rel, err := filepath.Rel(a.dir, path)
	key := filepath.ToSlash(rel)
	if err != nil || !validKey(key) {
		a.report(fmt.Errorf("s3 %s: %s is not an archive object (name outside [A-Za-z0-9._=+-/] or not *.zst/*.gz): not uploaded; move it out of staging_dir", a.name, path))
		return
	}
	st, err := os.Lstat(path)
	if err != nil {
		a.report(fmt.Errorf("s3 %s: staged object %s: %w (not uploaded)", a.name, path, err))
		return
	}
	a.mu.Lock()
	if _, ok := a.files[key]; !ok {
		f := &stagedFile{key: key, path: path, size: st.Size()}
		a.files[key] = f
		a.queue = append(a.queue, f)
		a.bytes += f.size
		a.broadcastLocked()
	}
	a.mu.Unlock()
}

// scan queues the final objects in the staging directory (left by an earlier
// run) and removes empty directories.
func (a *S3Archive) scan() error {
	var dirs []string
	err := filepath.WalkDir(a.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		switch {
		case d.IsDir():
			if path != a.dir {
				dirs = append(dirs, path)
			}
		case strings.HasSuffix(name, partialSuffix):
			// Open objects of this run (LocalArchive recovered the
			// old ones before).
		case d.Type().IsRegular() && stagedExt(name):
			a.enqueue(path)
		case path == filepath.Join(a.dir, startLeaseFile), path == filepath.Join(a.dir, startLeaseFile+".tmp"):
			// The key lease (and its next version, if a crash cut its write).
		default:
			a.report(fmt.Errorf("s3 %s: unexpected file %s in staging_dir: not uploaded; move it away", a.name, path))
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = os.Remove(dirs[i]) // only empty ones go
	}
	return err
}

// pruneDirs removes dir and its parents below the staging root while they
// are empty. LocalArchive tolerates a directory disappearing under it.
func (a *S3Archive) pruneDirs(dir string) {
	root := a.dir
	for dir != root && strings.HasPrefix(dir, root+string(filepath.Separator)) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// worker uploads queued objects until ctx is done, or until Close drains
// the queue.
func (a *S3Archive) worker(ctx context.Context) {
	defer func() {
		a.mu.Lock()
		a.running--
		if a.running == 0 {
			close(a.idle)
		}
		a.mu.Unlock()
	}()
	for {
		f := a.next(ctx)
		if f == nil {
			return
		}
		err := a.upload(ctx, f)
		a.finish(ctx, f, err)
	}
}

// next returns the next object to upload, waiting for one and for the
// backoff; nil when ctx is done or when draining and nothing is queued.
func (a *S3Archive) next(ctx context.Context) *stagedFile {
	for {
		a.mu.Lock()
		if ctx.Err() != nil {
			a.mu.Unlock()
			return nil
		}
		wait := time.Duration(-1)
		if len(a.queue) > 0 {
			// After a failure one upload at a time probes S3 until one
			// succeeds: the probe, taken once the backoff ended. Uploads
			// that were in flight before the failure are no probe: their
			// ending does not gate the next one (a slow one would hold
			// every retry).
			probing := a.failures > 0 && a.probe != nil
			if wait = time.Until(a.retryAt); wait <= 0 && !probing {
				f := a.queue[0]
				a.queue[0] = nil
				a.queue = a.queue[1:]
				f.uploading = true
				uploadsInFlight.Store(a.flightKey(f.key), struct{}{})
				a.inflight++
				if a.failures > 0 {
					a.probe = f
				}
				a.mu.Unlock()
				return f
			}
			if probing {
				wait = -1 // until the probe ends
			}
		} else if a.draining {
			a.mu.Unlock()
			return nil
		}
		changed := a.changed
		a.mu.Unlock()
		var timer *time.Timer
		var expired <-chan time.Time
		if wait > 0 {
			timer = time.NewTimer(wait)
			expired = timer.C
		}
		select {
		case <-changed:
		case <-expired:
		case <-ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// finish records the outcome of an upload of f.
func (a *S3Archive) finish(ctx context.Context, f *stagedFile, err error) {
	a.mu.Lock()
	f.uploading = false
	uploadsInFlight.Delete(a.flightKey(f.key))
	a.inflight--
	if a.probe == f {
		a.probe = nil
	}
	var report error
	switch {
	case err == nil || errors.Is(err, errVanished):
		delete(a.files, f.key)
		a.bytes -= f.size
		if err == nil {
			a.failures = 0
			a.retryAt = time.Time{}
		} else {
			report = fmt.Errorf("s3 %s: staged object %s was deleted before its upload: %w", a.name, f.path, err)
		}
	case ctx.Err() != nil:
		// Stopped by Close: the object stays staged.
		a.queue = append(a.queue, f)
	default:
		f.attempts++
		a.failures++
		a.retryAt = time.Now().Add(a.backoff(a.failures))
		a.queue = append(a.queue, f)
		report = &UploadError{Destination: a.name, Bucket: a.cfg.Bucket, Key: f.key, Attempt: f.attempts, Permanent: IsPermanentS3Error(err), Err: err}
	}
	a.broadcastLocked()
	a.mu.Unlock()
	a.report(report)
}

// backoff returns the wait after n consecutive failures: exponential from
// bmin to bmax, jittered to [d/2, d].
func (a *S3Archive) backoff(n int) time.Duration {
	d := a.bmax
	if n <= 30 {
		d = min(a.bmin<<(n-1), a.bmax)
	}
	return backoff.Jitter(d)
}

// upload puts one staged object to S3 and deletes the local file.
func (a *S3Archive) upload(ctx context.Context, f *stagedFile) error {
	fh, err := os.Open(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return errVanished
	}
	if err != nil {
		return err
	}
	defer fh.Close()
	// A stalled connection must not hold a worker forever.
	uctx, cancel := context.WithTimeout(ctx, 5*time.Minute+time.Duration(f.size>>20)*time.Second)
	defer cancel()
	out, err := a.tm.UploadObject(uctx, a.input(f.key, fh))
	if err == nil && aws.ToString(out.ETag) == "" {
		// S3 answers CompleteMultipartUpload 200 at once and can still
		// fail it after; the SDK takes a 200 whose body holds no XML
		// (whitespace, then a closed connection) for success. A stored
		// object always has an ETag: without one, nothing is confirmed,
		// and the staged file must stay for the retry.
		err = fmt.Errorf("the upload of %s was answered without an ETag (an interrupted CompleteMultipartUpload?): not confirmed, retried", f.key)
	}
	if err != nil {
		// The transfer manager aborts a failed multipart upload; abort
		// again in case that failed (NoSuchUpload then is fine).
		var mpe transfermanager.MultipartUploadError
		if errors.As(err, &mpe) && mpe.UploadID() != "" {
			a.abort(ctx, f.key, mpe.UploadID())
		}
		return err
	}
	if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		a.report(fmt.Errorf("s3 %s: uploaded %s but cannot delete the staged file: %w (it is uploaded again, to the same key, at the next start)", a.name, f.key, err))
		return nil
	}
	a.pruneDirs(filepath.Dir(f.path))
	return nil
}

// input returns the upload request for key, reading body.
func (a *S3Archive) input(key string, body *os.File) *transfermanager.UploadObjectInput {
	// The object is a compressed file (.ndjson.zst, .ndjson.gz), and says
	// so in its Content-Type. No Content-Encoding: over HTTP (a presigned
	// URL, the console's download, curl --compressed, DuckDB's httpfs) it
	// would be decoded on the way, and the saved .gz would hold plain
	// NDJSON that gunzip and extension-led readers refuse.
	ct := contentTypeZstd
	if strings.HasSuffix(key, ".gz") {
		ct = contentTypeGzip
	}
	in := &transfermanager.UploadObjectInput{
		Bucket:            aws.String(a.cfg.Bucket),
		Key:               aws.String(key),
		Body:              body,
		ContentType:       aws.String(ct),
		ChecksumAlgorithm: tmtypes.ChecksumAlgorithmCrc32c,
	}
	if a.cfg.StorageClass != "" {
		in.StorageClass = tmtypes.StorageClass(a.cfg.StorageClass)
	}
	if a.cfg.SSE != "" {
		in.ServerSideEncryption = tmtypes.ServerSideEncryption(a.cfg.SSE)
		if a.cfg.KMSKeyID != "" {
			in.SSEKMSKeyID = aws.String(a.cfg.KMSKeyID)
		}
	}
	if ol := a.cfg.ObjectLock; ol.Mode != "" {
		in.ObjectLockMode = tmtypes.ObjectLockMode(ol.Mode)
		until := a.now().UTC().Add(time.Duration(ol.RetainDays) * 24 * time.Hour).Truncate(time.Second)
		in.ObjectLockRetainUntilDate = &until
	}
	if a.cfg.ObjectLock.LegalHold {
		in.ObjectLockLegalHoldStatus = tmtypes.ObjectLockLegalHoldStatusOn
	}
	return in
}

func isNoSuchUpload(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "NoSuchUpload"
}

// abort aborts the multipart upload id of key; on failure the janitor tries
// again later.
func (a *S3Archive) abort(ctx context.Context, key, id string) {
	if ctx.Err() == nil {
		actx, cancel := context.WithTimeout(ctx, abortTimeout)
		_, err := a.client.AbortMultipartUpload(actx, &awss3.AbortMultipartUploadInput{
			Bucket: aws.String(a.cfg.Bucket), Key: aws.String(key), UploadId: aws.String(id),
		})
		cancel()
		if err == nil || isNoSuchUpload(err) {
			return
		}
	}
	a.mu.Lock()
	a.orphans = append(a.orphans, orphan{key, id})
	a.mu.Unlock()
}

// uploading reports whether key is being uploaded now.
func (a *S3Archive) uploading(key string) bool {
	a.mu.Lock()
	f := a.files[key]
	mine := f != nil && f.uploading
	a.mu.Unlock()
	// Another s3 destination of this process may write under the same
	// bucket and prefix (and node): its uploads in flight are spared too.
	_, other := uploadsInFlight.Load(a.flightKey(key))
	return mine || other
}

// uploadsInFlight holds the objects being uploaded by every S3Archive of the
// process (flightKey), for the janitors' sweeps.
var uploadsInFlight sync.Map

func (a *S3Archive) flightKey(key string) string {
	return a.cfg.Endpoint + "\x00" + a.cfg.Bucket + "\x00" + key
}

// sweep aborts the unfinished multipart uploads of this node under the
// key prefix, except those of objects being uploaded now, and retries the
// aborts that failed before. It returns how many it aborted.
func (a *S3Archive) sweep(ctx context.Context) (int, error) {
	a.mu.Lock()
	retry := a.orphans
	a.orphans = nil
	a.mu.Unlock()
	n := 0
	for i, o := range retry {
		actx, cancel := context.WithTimeout(ctx, abortTimeout)
		_, err := a.client.AbortMultipartUpload(actx, &awss3.AbortMultipartUploadInput{
			Bucket: aws.String(a.cfg.Bucket), Key: aws.String(o.key), UploadId: aws.String(o.id),
		})
		cancel()
		if err != nil && !isNoSuchUpload(err) {
			a.mu.Lock()
			a.orphans = append(a.orphans, retry[i:]...)
			a.mu.Unlock()
			return n, err
		}
		n++
	}
	in := &awss3.ListMultipartUploadsInput{Bucket: aws.String(a.cfg.Bucket), Prefix: aws.String(a.layout.staticPrefix())}
	for {
		out, err := a.client.ListMultipartUploads(ctx, in)
		if isNoSuchUpload(err) { // some S3-compatible stores, when there are none
			return n, nil
		}
		if err != nil {
			return n, err
		}
		for _, u := range out.Uploads {
			key, id := aws.ToString(u.Key), aws.ToString(u.UploadId)
			if !a.layout.ownsKey(key) || a.uploading(key) {
				continue
			}
			actx, cancel := context.WithTimeout(ctx, abortTimeout)
			_, err := a.client.AbortMultipartUpload(actx, &awss3.AbortMultipartUploadInput{
				Bucket: aws.String(a.cfg.Bucket), Key: aws.String(key), UploadId: aws.String(id),
			})
			cancel()
			if err != nil && !isNoSuchUpload(err) {
				return n, err
			}
			n++
			a.log.Info("s3 archive: aborted an unfinished multipart upload of this node", "key", key, "upload_id", id)
		}
		if !aws.ToBool(out.IsTruncated) {
			return n, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// janitor sweeps unfinished multipart uploads at start (retrying, with a
// backoff growing to sweepInterval, until it succeeds) and then every
// sweepInterval.
func (a *S3Archive) janitor(ctx context.Context) {
	defer close(a.janitorDone)
	failures := 0
	for {
		wait := sweepInterval
		if _, err := a.sweep(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			a.report(fmt.Errorf("s3 %s: cleaning up unfinished multipart uploads of this node (needs s3:ListBucketMultipartUploads and s3:AbortMultipartUpload): %w (retrying)", a.name, err))
			d := sweepInterval
			if failures <= 20 {
				d = min(a.bmin<<failures, sweepInterval)
			}
			wait = backoff.Jitter(d)
		} else {
			failures = 0
		}
		if !backoff.Sleep(ctx, wait) {
			return
		}
	}
}
