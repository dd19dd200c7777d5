package lines

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestRead(t *testing.T) {
	long := strings.Repeat("x", 100)
	in := "a\n\n" + long + "\nb\r\nlast"
	type got struct {
		line string
		n    int
		eof  bool
	}
	want := []got{{"a\n", 2, false}, {"\n", 1, false}, {long[:10], 101, false}, {"b\r\n", 3, false}, {"last", 4, true}}
	// A 16-byte buffer makes the long line arrive in several slices.
	br := bufio.NewReaderSize(strings.NewReader(in), 16)
	var buf []byte
	for i, w := range want {
		line, n, err := Read(br, buf, 10)
		buf = line
		if string(line) != w.line || n != w.n || (err == io.EOF) != w.eof || (err != nil && err != io.EOF) {
			t.Fatalf("line %d: got (%q, %d, %v), want (%q, %d, eof %v)", i, line, n, err, w.line, w.n, w.eof)
		}
	}
	if line, n, err := Read(br, buf, 10); len(line) != 0 || n != 0 || err != io.EOF {
		t.Fatalf("after the end: (%q, %d, %v)", line, n, err)
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	br := bufio.NewReaderSize(io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(boom)), 16)
	line, n, err := Read(br, nil, 10)
	if !errors.Is(err, boom) || string(line) != "ab" || n != 2 {
		t.Fatalf("got (%q, %d, %v), want the bytes before the error and it", line, n, err)
	}
}

func TestTrimEOL(t *testing.T) {
	for in, want := range map[string]string{"a\r\n": "a", "a\n": "a", "a": "a", "a\r": "a", "\r\n": "", "a\n\n": "a\n"} {
		if got := string(TrimEOL([]byte(in))); got != want {
			t.Errorf("TrimEOL(%q) = %q, want %q", in, got, want)
		}
	}
}
