package syslog

import (
	"errors"
	"io"
)

// framing modes of a stream (RFC 6587).
const (
	modeUnknown = iota
	modeOctet   // "LEN SP MSG"
	modeLF      // MSG "\n"
	modeRELP    // "TXNR SP open SP ...": rsyslog's omrelp, not syslog (errRELP)
)

// errRELP: the stream is a RELP session (rsyslog's omrelp), which the
// syslog input does not speak. Its session offer is no log message: the
// connection is refused, not its commands ingested as events.
var errRELP = errors.New("the peer speaks RELP (rsyslog omrelp), which logrouter does not: configure omfwd with TCP (octet-counted framing) and a disk-assisted queue, or TLS")

// framer cuts a byte stream into syslog messages. It owns its buffer, so a
// read that fails with a timeout loses nothing: the caller flushes its batch
// and calls next again. Memory is bounded by max: a frame longer than max is
// returned cut to max bytes with truncated set, and the rest of it is read
// and discarded without being stored (a 1 GiB line costs max bytes).
//
// The framing is detected on the first frame of the stream: a frame that
// starts with digits, a space and '<' is octet-counted, and the stream is
// octet-counted from then on (a frame that does not start with a length is
// still read up to its newline); anything else is newline-delimited, where
// leading digits are never taken as a length.
type framer struct {
	r     io.Reader
	buf   []byte
	start int
	end   int
	max   int
	mode  int

	discard    int64 // octet-counted bytes of an oversized frame still to skip
	discardEOL bool  // skip up to the next newline or NUL (oversized LF frame)
	eof        bool
}

func newFramer(r io.Reader, max int) *framer {
	size := max + 32 // room for a length prefix
	if size < 4096 {
		size = 4096
	}
	return &framer{r: r, buf: make([]byte, size), max: max}
}

// maxTrailer is how many bytes of line ending ("\r\n") a frame may carry
// beyond max_message_bytes and still be whole: the ending is not message.
const maxTrailer = 2

// rest returns, one per call, what the buffer holds when the connection
// ends other than by its sender's clean close (an idle timeout, the
// shutdown, a reset): the same frames a clean end would give, an
// octet-counted frame cut short as frameIncomplete and a last line without
// its newline as a frame. ok is false once nothing is left. Nothing more is
// read from the connection.
func (f *framer) rest() (frame []byte, cut frameCut, ok bool) {
	f.eof = true
	frame, cut, err := f.next()
	return frame, cut, err == nil
}

// errFrameTooLong never escapes; oversize frames come back truncated.
var errStreamEnd = io.EOF

// frameCut says how a frame returned by next ended.
type frameCut uint8

const (
	frameWhole      frameCut = iota
	frameTruncated           // longer than max: its first max bytes; the rest is skipped
	frameIncomplete          // the stream ended inside an octet-counted frame: the bytes that came, without the length
)

// next returns the next frame (valid until the following call), how it
// ended, or an error from the reader (io.EOF at a clean end; a final frame
// without newline is returned before EOF).
func (f *framer) next() (frame []byte, cut frameCut, err error) {
	for {
		if f.discard > 0 || f.discardEOL {
			if err := f.skip(); err != nil {
				return nil, frameWhole, err
			}
			continue
		}
		data := f.buf[f.start:f.end]
		if len(data) > 0 {
			if fr, tr, ok := f.cut(data); ok {
				return fr, tr, nil
			}
			if f.mode == modeRELP {
				f.start = f.end
				return nil, frameWhole, errRELP
			}
		}
		if f.eof {
			if len(data) == 0 {
				return nil, frameWhole, errStreamEnd
			}
			f.start = f.end
			if f.mode == modeOctet {
				// The connection closed inside an octet-counted frame:
				// what came is not a whole message, and its length is no
				// part of it.
				if n, hdr, ok := octetHeader(data); ok && int64(len(data)-hdr) < n {
					return data[hdr:min(len(data), hdr+f.max)], frameIncomplete, nil
				}
			}
			// A last frame without a newline.
			if len(data) > f.max {
				return trimEOL(data[:f.max]), frameTruncated, nil
			}
			return trimEOL(data), frameWhole, nil
		}
		if err := f.fill(); err != nil {
			if errors.Is(err, io.EOF) {
				f.eof = true
				continue
			}
			return nil, frameWhole, err
		}
	}
}

// cut tries to take one frame from data (the unread part of the buffer).
func (f *framer) cut(data []byte) ([]byte, frameCut, bool) {
	if f.mode == modeUnknown {
		if m, decided := detect(data); decided {
			f.mode = m
			if m == modeRELP {
				return nil, frameWhole, false
			}
		} else if len(data) < 48 && !f.eof { // LEN SP '<' of RFC 6587; RELP's offer (relpOffer)
			return nil, frameWhole, false // need more bytes to decide
		} else {
			f.mode = modeLF
		}
	}
	if f.mode == modeOctet {
		if n, hdr, ok := octetHeader(data); ok {
			// Senders may count their trailer (rsyslog and syslog-ng add
			// "\n" inside the count): up to two bytes of it are not part of
			// the message max bounds.
			if n > int64(f.max)+maxTrailer {
				// Oversized: return the first max bytes, skip the rest.
				avail := len(data) - hdr
				if f.eof && int64(avail) < n {
					// The stream ended inside it: incomplete (next), not a
					// message cut to the limit.
					return nil, frameWhole, false
				}
				if avail < f.max && !f.eof {
					if f.start > 0 {
						f.compact()
						return nil, frameWhole, false
					}
					if f.end < len(f.buf) {
						return nil, frameWhole, false
					}
				}
				take := min(avail, f.max)
				frame := data[hdr : hdr+take]
				f.start += hdr + take
				f.discard = n - int64(take)
				return trimEOL(frame), frameTruncated, true
			}
			if int64(len(data)-hdr) < n {
				if f.start > 0 && f.start+hdr+int(n) > len(f.buf) {
					f.compact()
				}
				return nil, frameWhole, false
			}
			frame := trimEOL(data[hdr : hdr+int(n)])
			f.start += hdr + int(n)
			if len(frame) > f.max {
				return frame[:f.max], frameTruncated, true
			}
			return frame, frameWhole, true
		} else if len(data) < 12 && !f.eof && allDigits(data) {
			return nil, frameWhole, false // a length prefix still arriving
		}
		// Not a length prefix: read this frame up to its newline.
	}
	for i, c := range data {
		// LF or NUL ends a frame: RFC 6587 3.4.2 names both trailers
		// (Juniper NetScreen and Graylog's syslog output send NUL).
		if c == '\n' || c == 0 {
			frame := trimEOL(data[:i]) // "\r\n" is a trailer, not message
			f.start += i + 1
			if len(frame) > f.max {
				return frame[:f.max], frameTruncated, true
			}
			return frame, frameWhole, true
		}
	}
	if len(data) > f.max+1 { // max bytes and a "\r" may still be a whole line
		// No newline within max bytes: return the head, skip to the newline.
		frame := data[:f.max]
		f.start = f.end
		f.discardEOL = true
		return frame, frameTruncated, true
	}
	if f.start > 0 {
		f.compact()
	}
	return nil, frameWhole, false
}

func (f *framer) compact() {
	n := copy(f.buf, f.buf[f.start:f.end])
	f.start, f.end = 0, n
}

func (f *framer) fill() error {
	if f.end == len(f.buf) {
		if f.start == 0 {
			// Full buffer without a frame: cut handles it next round.
			return nil
		}
		f.compact()
	}
	n, err := f.r.Read(f.buf[f.end:])
	f.end += n
	if n > 0 {
		return nil
	}
	return err
}

// skip consumes the rest of an oversized frame without storing it.
func (f *framer) skip() error {
	for {
		data := f.buf[f.start:f.end]
		if f.discard > 0 {
			k := min(int64(len(data)), f.discard)
			f.start += int(k)
			f.discard -= k
			if f.discard == 0 {
				return nil
			}
		} else if f.discardEOL {
			for i, c := range data {
				if c == '\n' || c == 0 {
					f.start += i + 1
					f.discardEOL = false
					return nil
				}
			}
			f.start = f.end
		} else {
			return nil
		}
		f.start, f.end = 0, 0
		if f.eof {
			f.discard, f.discardEOL = 0, false
			return nil
		}
		if err := f.fill(); err != nil {
			if errors.Is(err, io.EOF) {
				f.eof = true
				continue
			}
			return err
		}
	}
}

// detect decides the framing from the start of a stream.
func detect(data []byte) (mode int, decided bool) {
	i := 0
	for i < len(data) && i < 10 && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	switch {
	case i == 0:
		return modeLF, true
	case i == len(data):
		return 0, false
	case data[i] != ' ' || data[0] == '0':
		return modeLF, true
	case i+1 == len(data):
		return 0, false
	case data[i+1] == '<':
		return modeOctet, true
	}
	// RELP's first frame: "1 open 86 relp_version=0\n..." (a line that
	// only starts "3 open ..." is syslog without a header: not RELP).
	if relp, decided := relpOffer(data[i+1:]); decided {
		if relp {
			return modeRELP, true
		}
		return modeLF, true
	}
	return 0, false
}

// relpOffer matches "open SP DATALEN SP relp_version=" (what follows a RELP
// frame's "TXNR SP"); decided is false while b is a prefix of it.
func relpOffer(b []byte) (relp, decided bool) {
	const open, ver = "open ", " relp_version="
	prefix := func(want string) (matched, short bool) {
		n := min(len(b), len(want))
		if string(b[:n]) != want[:n] {
			return false, false
		}
		if n < len(want) {
			return false, true
		}
		b = b[n:]
		return true, false
	}
	if ok, short := prefix(open); !ok {
		return false, !short
	}
	j := 0
	for j < len(b) && j < 10 && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	if j == len(b) {
		return false, j >= 10
	}
	if j == 0 {
		return false, true
	}
	b = b[j:]
	if ok, short := prefix(ver); !ok {
		return false, !short
	}
	return true, true
}

// octetHeader parses "LEN SP" at the start of data.
func octetHeader(data []byte) (n int64, hdr int, ok bool) {
	i := 0
	for i < len(data) && i < 10 && data[i] >= '0' && data[i] <= '9' {
		n = n*10 + int64(data[i]-'0')
		i++
	}
	if i == 0 || i >= len(data) || data[i] != ' ' || data[0] == '0' {
		return 0, 0, false
	}
	return n, i + 1, true
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// trimEOL drops a trailing "\n" or "\r\n" (rsyslog and syslog-ng put one
// inside octet-counted frames) and trailing NULs some devices send.
func trimEOL(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case '\n', '\r', 0:
			b = b[:len(b)-1]
			continue
		}
		break
	}
	return b
}
