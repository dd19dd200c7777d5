package kafkain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"

	"github.com/logrouter/logrouter/internal/backoff"
)

// The broker bounds a fetch by its compressed size (fetch_max_bytes) and
// the input bounds a record (max_message_bytes) only once kafka-go returns
// it, but kafka-go decompresses a whole compressed record batch into memory
// first, without a limit. A producer allowed to write a consumed topic (an
// edge's credentials are enough) could send a few KiB of zstd that expand
// to gigabytes: every replica owning the partition would be OOM-killed,
// read the same batch again after its restart, and never get past it.
//
// So the process's Kafka codecs decompress through a bounded reader: past
// max_batch_bytes it fails with errBatchTooLarge, which kafka-go's reader
// logs and retries (the partition stops there, its memory bounded), and
// the input then finds the batch's offsets and skips them, quarantining a
// note of what it skipped (partition.skipBatch). Compressing (the Kafka
// destination) is not affected.
//
// The codecs are kafka-go's global table (compress.Codecs), wrapped once at
// package init, before any goroutine can read it; the bound is the largest
// max_batch_bytes of the inputs running (or DefaultMaxBatchBytes).

// errBatchTooLarge is returned by a decompressing reader that passed the
// bound.
var errBatchTooLarge = errors.New("a compressed record batch decompresses to more than inputs.kafka.max_batch_bytes")

// DefaultMaxBatchBytes is max_batch_bytes unless fetch_max_bytes asks for
// more (four times it).
const DefaultMaxBatchBytes = 64 << 20

var bound struct {
	mu     sync.Mutex
	limits map[*Source]int64
	cur    int64
}

func init() {
	bound.cur = DefaultMaxBatchBytes
	for i, c := range compress.Codecs {
		if c != nil {
			compress.Codecs[i] = boundedCodec{c}
		}
	}
}

// batchLimit returns the bound now in force.
func batchLimit() int64 {
	bound.mu.Lock()
	defer bound.mu.Unlock()
	return bound.cur
}

// setBatchLimit registers s's bound (0: s stopped) and recomputes the
// process-wide one: the largest of the running inputs'.
func setBatchLimit(s *Source, n int64) {
	bound.mu.Lock()
	defer bound.mu.Unlock()
	if bound.limits == nil {
		bound.limits = map[*Source]int64{}
	}
	if n > 0 {
		bound.limits[s] = n
	} else {
		delete(bound.limits, s)
	}
	bound.cur = 0
	for _, v := range bound.limits {
		bound.cur = max(bound.cur, v)
	}
	if bound.cur == 0 {
		bound.cur = DefaultMaxBatchBytes
	}
}

// boundedCodec is a kafka-go codec whose readers stop at batchLimit.
type boundedCodec struct{ compress.Codec }

func (b boundedCodec) NewReader(r io.Reader) io.ReadCloser {
	return &boundedReader{rc: b.Codec.NewReader(r), left: batchLimit()}
}

// boundedReader reads at most left bytes from rc; one byte more is
// errBatchTooLarge.
type boundedReader struct {
	rc   io.ReadCloser
	left int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// At the bound: the batch is legal only if nothing follows.
		var one [1]byte
		for range 100 {
			n, err := b.rc.Read(one[:])
			if n > 0 {
				return 0, errBatchTooLarge
			}
			if err != nil {
				return 0, err // io.EOF: exactly the bound
			}
		}
		return 0, io.ErrNoProgress
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *boundedReader) Close() error { return b.rc.Close() }

// skipOversized handles a reader stopped at a batch past max_batch_bytes:
// it finds the batch's offsets (batchEnd), quarantines a note naming them
// (skipBatch) and moves the reader past them. Called when every record
// before the batch has been fetched (the fetch came back empty). On an
// error it returns to be called again.
func (p *partition) skipOversized(ctx context.Context, r *kafka.Reader) {
	// r.Offset is the next offset to read; before the first record, the
	// start_offset sentinel (FirstOffset, LastOffset), which batchEnd
	// resolves.
	x, y, err := p.s.batchEnd(ctx, p.topic, p.id, r.Offset())
	if err != nil {
		if ctx.Err() == nil {
			p.s.log.Warn("kafka: cannot find the offsets of the batch past max_batch_bytes; trying again", "partition", p.label, "offset", r.Offset(), "err", err)
			backoff.Sleep(ctx, time.Second)
		}
		return
	}
	p.oversized.Store(false)
	if x < 0 || y <= x {
		return // not (or no longer) at such a batch: a report from before a seek
	}
	p.skipBatch(x, y)
	p.flush(ctx)
	if err := r.SetOffset(y); err != nil {
		p.s.log.Error("kafka: cannot seek past the skipped batch", "partition", p.label, "offset", y, "err", err)
	}
}

// skipBatch quarantines a note for offsets [x, y), records kafka-go could
// not decompress within max_batch_bytes, and takes them into the batch so
// that the commit passes them (every dropped record is counted: the
// input's quarantine counts the note under batch_too_large, and the log
// says how many offsets it stands for).
func (p *partition) skipBatch(x, y int64) {
	p.open(x)
	p.hi = y - 1
	m := kafka.Message{Topic: p.topic, Partition: p.id, Offset: x}
	note := fmt.Appendf(nil, `{"message":"kafka records skipped: their compressed batch decompresses past inputs.kafka.max_batch_bytes","kafka":{"topic":%q,"partition":%d,"first_offset":%d,"last_offset":%d}}`,
		p.topic, p.id, x, y-1)
	err := fmt.Errorf("offsets %d-%d of %s were skipped: their compressed record batch decompresses to more than inputs.kafka.max_batch_bytes (%d). "+
		"If the producer is legitimate, raise max_batch_bytes and read them again (reset the group's offset of the partition to %d); "+
		"if not, find who can produce to the topic", x, y-1, p.label, p.s.cfg.MaxBatchBytes, x)
	p.reject(&m, note, "batch_too_large", err)
	p.s.log.Error("kafka: "+err.Error(), "partition", p.label, "records", y-x)
}

// maxProbes bounds the fetches batchEnd makes for one batch (a batch of
// 2^31 offsets takes 62).
const maxProbes = 64

// batchEnd returns x (a sentinel resolved: the partition's first offset
// for FirstOffset, its end for LastOffset) and the first offset after the
// record batch holding it (x itself when no batch past max_batch_bytes
// holds x): the smallest y > x whose fetch does not meet that batch, found
// by doubling the distance and then bisecting, each probe one fetch of the
// batch holding the offset.
func (s *Source) batchEnd(ctx context.Context, topic string, part int, x int64) (start, end int64, err error) {
	leader := s.leaderDial(topic, part)
	first, last, err := s.offsets(ctx, topic, part)
	if err != nil {
		return 0, 0, err
	}
	switch {
	case x == kafka.FirstOffset || (x >= 0 && x < first):
		x = first
	case x == kafka.LastOffset:
		// start_offset latest, unresolved (consume resolves it when the
		// broker answers): where the reader began is unknown here.
		return 0, 0, errors.New("the partition's start (start_offset latest) was not resolved; it is at the next assignment")
	case x > last:
		return x, x, nil
	}
	probes := 0
	oversized := func(off int64) (bool, error) {
		if off >= last {
			return false, nil
		}
		if probes++; probes > maxProbes {
			return false, fmt.Errorf("more than %d fetches to find the batch's end", maxProbes)
		}
		var over bool
		err := s.dialAny(ctx, leader, func(c *kafka.Conn) error {
			if _, err := c.Seek(off, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
				return err
			}
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			b := c.ReadBatch(1, s.cfg.FetchMaxBytes)
			_, err := b.ReadMessage()
			if errors.Is(err, errBatchTooLarge) {
				// Not b.Close: kafka-go's count of the response's bytes
				// left is wrong after a failed decompression, and Close
				// would wait for them until the deadline. The
				// connection is dropped instead (dialAny closes it).
				over = true
				return nil
			}
			if cerr := b.Close(); err == nil || errors.Is(err, io.EOF) {
				if errors.Is(cerr, errBatchTooLarge) {
					over = true
				}
				return nil
			}
			return err
		})
		return over, err
	}
	if over, err := oversized(x); err != nil || !over {
		return x, x, err
	}
	lo, step := x, int64(1) // lo: oversized; hi: not
	hi := x + step
	for {
		over, err := oversized(hi)
		if err != nil {
			return 0, 0, err
		}
		if !over {
			break
		}
		lo, step = hi, step*2
		hi = min(x+step, last)
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		over, err := oversized(mid)
		if err != nil {
			return 0, 0, err
		}
		if over {
			lo = mid
		} else {
			hi = mid
		}
	}
	return x, hi, nil
}
