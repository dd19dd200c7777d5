package httpin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/jsonscan"
)

// errTooLarge is returned when a body exceeds the configured limit.
var errTooLarge = errors.New("body too large")

// errEncoding is returned for an unsupported Content-Encoding.
type errEncoding struct{ enc string }

func (e errEncoding) Error() string {
	return fmt.Sprintf("unsupported Content-Encoding %q: send identity, gzip, deflate or zstd", e.enc)
}

// errRead is a failure of the connection itself while the body was being
// read: the server's read_timeout on a slow sender, a reset or a body cut
// short. The data may well be fine, so the sender must retry, not drop it.
type errRead struct{ err error }

func (e errRead) Error() string { return "reading the request body: " + e.err.Error() }
func (e errRead) Unwrap() error { return e.err }

// connReader keeps the first error of the request's own reader, so that
// readBody tells a failing connection (errRead) from corrupt compressed data:
// a decoder reports both from its Read.
type connReader struct {
	r   io.Reader
	err error
	// head keeps the body's first bytes as read (a zstd frame header, to
	// tell a frame past max_body_bytes from one past the window bound).
	head  [zstdHeaderMax]byte
	headN int
}

func (c *connReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.headN < len(c.head) {
		c.headN += copy(c.head[c.headN:], p[:n])
	}
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// failed returns errRead when the connection failed, else err.
func (c *connReader) failed(err error) error {
	if c.err != nil {
		return errRead{c.err}
	}
	return err
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

const maxPooledBuf = 16 << 20

func putBuf(b *[]byte) {
	if cap(*b) > maxPooledBuf {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

var (
	gzipPool sync.Pool
	zstdPool sync.Pool
)

// readBody reads r (decoded per encoding) into a pooled buffer, failing with
// errTooLarge past limit bytes of decoded data, so a compression bomb costs at
// most limit bytes of memory. An error of r itself (the connection) is
// returned as errRead; any other error means the data is bad. The caller
// returns the buffer with putBuf.
//
// The buffer's capacity is taken from c (max_inflight_bytes; nil for no
// bound) as it grows; errBusy when c cannot take it.
func readBody(body io.Reader, encoding string, limit int64, sizeHint int64, c *charge) (*[]byte, error) {
	bp := bufPool.Get().(*[]byte)
	r := &connReader{r: body}
	var src io.Reader
	switch enc := strings.ToLower(strings.TrimSpace(encoding)); enc {
	case "", "identity":
		src = r
	case "gzip", "x-gzip":
		zr, _ := gzipPool.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(r)
		} else {
			err = zr.Reset(r)
		}
		if err != nil {
			putBuf(bp)
			return nil, r.failed(fmt.Errorf("gzip body: %w", err))
		}
		defer gzipPool.Put(zr)
		src = zr
	case "deflate", "x-deflate":
		// HTTP's deflate is a zlib stream (RFC 9110 8.4.1.2; Vector's
		// compression = "zlib"); some clients send raw deflate. The zlib
		// header (CM 8, header checksum) tells them apart.
		br := bufio.NewReader(r)
		var fr io.Reader
		if h, err := br.Peek(2); err == nil && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
			zr, err := zlib.NewReader(br)
			if err != nil {
				putBuf(bp)
				return nil, r.failed(fmt.Errorf("deflate body: %w", err))
			}
			fr = zr
		} else {
			fr = flate.NewReader(br)
		}
		src = fr
	case "zstd":
		// The decoder allocates the window a frame declares up front, so
		// it is bounded; but a streaming encoder declares its window
		// whatever the body's size (zstd -3: 2 MiB, klauspost/compress's
		// default: 8 MiB), so the bound is never below zstdMinWindow even
		// when max_body_bytes is. Decoded bytes are bounded below.
		window := zstdWindow(limit)
		pz, _ := zstdPool.Get().(*pooledZstd)
		var err error
		if pz == nil || pz.window != window {
			var zr *zstd.Decoder
			zr, err = zstd.NewReader(r, zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderMaxMemory(window), zstd.WithDecoderLowmem(true))
			pz = &pooledZstd{zr, window}
		} else {
			err = pz.dec.Reset(r)
		}
		if err != nil {
			putBuf(bp)
			return nil, r.failed(fmt.Errorf("zstd body: %w", err))
		}
		defer func() { _ = pz.dec.Reset(nil); zstdPool.Put(pz) }()
		src = pz.dec
	default:
		putBuf(bp)
		return nil, errEncoding{enc}
	}
	buf := *bp
	if encoding == "" && sizeHint > 0 && sizeHint <= limit && int64(cap(buf)) < sizeHint+1 {
		if !c.to(sizeHint + 1) {
			putBuf(bp)
			return nil, errBusy
		}
		buf = make([]byte, 0, sizeHint+1)
	}
	if !c.to(int64(cap(buf))) {
		putBuf(bp)
		return nil, errBusy
	}
	for {
		if len(buf) == cap(buf) {
			// Take the grown buffer's share before it is allocated
			// (append grows large slices by ~1.25x).
			if !c.to(int64(cap(buf)) + int64(cap(buf))/4 + 1) {
				*bp = buf
				putBuf(bp)
				return nil, errBusy
			}
			buf = append(buf, 0)[:len(buf)]
			if !c.to(int64(cap(buf))) {
				*bp = buf
				putBuf(bp)
				return nil, errBusy
			}
		}
		n, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			*bp = buf
			putBuf(bp)
			return nil, errTooLarge
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			*bp = buf
			putBuf(bp)
			switch {
			case errors.Is(err, zstd.ErrDecoderSizeExceeded) && (uint64(limit)+1 <= zstdWindow(limit) || zstdDeclaresMore(r.head[:r.headN], uint64(limit))):
				return nil, errTooLarge // a frame that declares more than max_body_bytes
			case errors.Is(err, zstd.ErrDecoderSizeExceeded):
				// A one-frame body whose declared size (its window) is past
				// the window bound but maybe not past max_body_bytes: not
				// "too large", and raising max_body_bytes would not help.
				err = fmt.Errorf("a zstd frame declares more than %d bytes (its window); send a streaming frame (levels up to 19, without --long) or frames of at most that size: %w", zstdWindow(limit), err)
			case errors.Is(err, zstd.ErrWindowSizeExceeded):
				err = fmt.Errorf("%w (at most %d bytes here: compress with zstd levels up to 19, without --long)", err, zstdWindow(limit))
			}
			return nil, r.failed(fmt.Errorf("read body: %w", err))
		}
	}
	*bp = buf
	if c != nil {
		c.body = int64(cap(buf))
	}
	return bp, nil
}

// zstdMinWindow is the smallest zstd window a request may declare whatever
// max_body_bytes is: what zstd levels up to 19 and klauspost/compress's
// default encoder use.
const zstdMinWindow = 8 << 20

// zstdMaxWindow bounds the window a request may declare however large
// max_body_bytes is: the decoder allocates the declared window at the
// first block and keeps it while pooled, outside max_inflight_bytes, so
// the bound is what it was with the former 10 MiB default (bodies past it
// are compressed in several frames or with levels up to 19 by senders).
const zstdMaxWindow = 10<<20 + 1

// zstdWindow is the largest window (and, for streaming, decoded size
// bound of the decoder) a body of at most limit bytes may declare.
func zstdWindow(limit int64) uint64 {
	return max(min(uint64(limit)+1, zstdMaxWindow), zstdMinWindow)
}

// zstdHeaderMax is the longest zstd frame header before its content
// size ends: magic 4, descriptor 1, window 1, dictionary id 4, size 8.
const zstdHeaderMax = 18

// zstdDeclaresMore reports whether h, the start of a zstd frame, declares
// a content size past limit (RFC 8878 3.1.1.1: Frame_Header_Descriptor,
// then Window_Descriptor unless single-segment, Dictionary_ID and
// Frame_Content_Size). It reports false when h does not say.
func zstdDeclaresMore(h []byte, limit uint64) bool {
	if len(h) < 5 || h[0] != 0x28 || h[1] != 0xB5 || h[2] != 0x2F || h[3] != 0xFD {
		return false
	}
	fhd := h[4]
	single := fhd&0x20 != 0
	pos := 5
	if !single {
		pos++
	}
	pos += [4]int{0, 1, 2, 4}[fhd&3]
	size := [4]int{0, 2, 4, 8}[fhd>>6]
	if size == 0 && single {
		size = 1
	}
	if size == 0 || len(h) < pos+size {
		return false
	}
	var fcs uint64
	for i := size - 1; i >= 0; i-- {
		fcs = fcs<<8 | uint64(h[pos+i])
	}
	if size == 2 {
		fcs += 256
	}
	return fcs > limit
}

// pooledZstd is a pooled decoder and the window bound it was made with.
type pooledZstd struct {
	dec    *zstd.Decoder
	window uint64
}

// skipWS returns b without leading JSON whitespace.
func skipWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// nextEnvelope splits the next JSON object off rest (which starts with
// it, after white space) and parses it with p: raw is its bytes, v its
// value. splitErr means no object could be delimited (the whole of rest is
// bad); err, that raw does not parse.
//
// Shippers send one envelope per line. While *byLine holds, the line up to
// the next newline is tried first: when it parses as one object, those are
// exactly the bounds nextObject would find (JSON strings cannot hold a raw
// newline), found with a vectorized IndexByte instead of a byte-by-byte
// scan. The first line that is not one whole object turns *byLine off for
// the rest of the body, which then goes through nextObject.
func nextEnvelope(p *fastjson.Parser, rest []byte, byLine *bool, max int) (raw []byte, v *fastjson.Value, splitErr, err error) {
	if *byLine {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i]
		}
		for n := len(line); n > 0 && (line[n-1] == '\r' || line[n-1] == ' ' || line[n-1] == '\t'); n-- {
			line = line[:n-1]
		}
		// A line over max is not parsed: nextObject finds its bounds (it
		// may hold several envelopes).
		if len(line) <= max && len(line) >= 2 && line[0] == '{' && line[len(line)-1] == '}' && !jsonscan.TooDeep(line, jsonscan.MaxDepth) && !tooDense(line) {
			if v, err := p.ParseBytes(line); err == nil && v.Type() == fastjson.TypeObject {
				return line, v, nil, nil
			}
		}
		*byLine = false
	}
	n, splitErr := nextObject(rest)
	if splitErr != nil {
		return nil, nil, splitErr, nil
	}
	raw = rest[:n]
	v, err = parseBounded(p, raw, max)
	return raw, v, nil, err
}

// parseBounded parses one envelope of at most max bytes, of at most
// jsonscan.MaxDepth nesting and not too dense in values
// (errEnvelopeTooLong, errTooDeep, errTooManyValues: not parsed).
func parseBounded(p *fastjson.Parser, raw []byte, max int) (*fastjson.Value, error) {
	if len(raw) > max {
		return nil, errEnvelopeTooLong
	}
	if jsonscan.TooDeep(raw, jsonscan.MaxDepth) {
		return nil, errTooDeep
	}
	if tooDense(raw) {
		return nil, errTooManyValues
	}
	return p.ParseBytes(raw)
}

// parseUnlessDense parses raw with p unless valueCost refuses it.
func parseUnlessDense(p *fastjson.Parser, raw []byte) (*fastjson.Value, error) {
	if tooDense(raw) {
		return nil, errTooManyValues
	}
	return p.ParseBytes(raw)
}

// tooDense reports whether valueCost refuses raw.
func tooDense(raw []byte) bool {
	_, err := valueCost(raw)
	return err != nil
}

// errEnvelopeTooLong: an envelope longer than max_event_bytes, not parsed.
var errEnvelopeTooLong = errors.New("envelope longer than max_event_bytes")

// nextObject returns the length of the JSON object at the start of b (which
// must start with '{'), by matching braces outside strings. It does not
// validate the object; the parser does. It lets a body of concatenated HEC
// events be split without parsing it twice.
func nextObject(b []byte) (int, error) {
	if len(b) == 0 || b[0] != '{' {
		return 0, errors.New("expected '{' at the start of an event")
	}
	return matchBrackets(b)
}

// matchBrackets returns the length of the JSON object or array at the start
// of b, by matching brackets outside strings (see nextObject).
func matchBrackets(b []byte) (int, error) {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		case '"':
			// skip the string, honouring backslash escapes
			i++
			for {
				j := bytes.IndexByte(b[i:], '"')
				if j < 0 {
					return 0, errors.New("unterminated string")
				}
				i += j
				k := i - 1
				for k >= 0 && b[k] == '\\' {
					k--
				}
				if (i-k-1)%2 == 0 {
					break
				}
				i++
			}
		}
	}
	return 0, errors.New("unterminated object")
}

// arrayElems splits the JSON array b (b[0] is '[') into its elements, one
// per call of next, so that each can be parsed alone: parsing the whole
// array at once holds a parsed value per element before any per-request
// limit can be checked. Like nextObject it only finds bounds, the parser
// validates each element; err says why the array is malformed.
type arrayElems struct {
	rest []byte
	n    int // elements returned so far
	err  error
}

func newArrayElems(b []byte) arrayElems { return arrayElems{rest: skipWS(b[1:])} }

// next returns the next element; false at the closing ']' or when the array
// is malformed (err is set).
func (a *arrayElems) next() ([]byte, bool) {
	b := a.rest
	if len(b) > 0 && b[0] == ']' {
		if len(skipWS(b[1:])) > 0 {
			a.err = errors.New("data after the array's closing ']'")
		}
		a.rest = nil
		return nil, false
	}
	if a.n > 0 {
		if len(b) == 0 || b[0] != ',' {
			a.err = fmt.Errorf("expected ',' or ']' after array element %d", a.n)
			return nil, false
		}
		b = skipWS(b[1:])
	}
	var n int
	var err error
	switch {
	case len(b) == 0:
		err = errors.New("unterminated array")
	case b[0] == '{' || b[0] == '[':
		n, err = matchBrackets(b)
	default:
		n, err = scalarLen(b)
	}
	if err == nil && n == 0 {
		err = fmt.Errorf("expected a value as array element %d", a.n+1)
	}
	if err != nil {
		a.err = err
		return nil, false
	}
	a.n++
	a.rest = skipWS(b[n:])
	return b[:n], true
}

// scalarLen returns the length of the string, number or literal at the
// start of b, without validating it.
func scalarLen(b []byte) (int, error) {
	if b[0] == '"' {
		for i := 1; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			}
		}
		return 0, errors.New("unterminated string")
	}
	i := 0
	for i < len(b) && b[i] != ',' && b[i] != ']' && b[i] != '}' && b[i] != ' ' && b[i] != '\n' && b[i] != '\r' && b[i] != '\t' {
		i++
	}
	return i, nil
}

// nextLine splits off the first line of b (without '\n' or a trailing '\r').
func nextLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		line, rest = b, nil
	} else {
		line, rest = b[:i], b[i+1:]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}
