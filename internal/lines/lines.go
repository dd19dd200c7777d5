// Package lines reads newline-delimited records of bounded size from a
// bufio.Reader: the one line reader of the quarantine file readers and the
// replay endpoint, so that a corrupt or hostile line costs bounded memory.
package lines

import (
	"bufio"
	"bytes"
)

// Read reads the next line of br into buf (reusing its memory, which the
// returned line aliases until the next call) and returns it with its "\n"
// when it has one. Of a line longer than keep bytes only the first keep are
// returned; n is always the whole line's length (with its "\n"), so a caller
// tells a cut line by n > len(line) and a long line costs no more memory
// than keep. err is io.EOF at the end of the input (the last line may then
// lack its "\n", and n is 0 when there was none), or the read error, with
// what was read of the line before it.
func Read(br *bufio.Reader, buf []byte, keep int) (line []byte, n int, err error) {
	buf = buf[:0]
	for {
		chunk, rerr := br.ReadSlice('\n')
		n += len(chunk)
		if room := keep - len(buf); room > 0 {
			buf = append(buf, chunk[:min(room, len(chunk))]...)
		}
		if rerr == bufio.ErrBufferFull {
			continue
		}
		return buf, n, rerr
	}
}

// TrimEOL returns line without its trailing "\n" or "\r\n".
func TrimEOL(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r"))
}
