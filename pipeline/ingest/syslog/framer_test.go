package syslog

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// chunkReader returns data in random small chunks, and optionally a
// timeout error every few reads (which must not lose data).
type chunkReader struct {
	data     []byte
	rng      *rand.Rand
	timeouts bool
	reads    int
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func (r *chunkReader) Read(p []byte) (int, error) {
	r.reads++
	if r.timeouts && r.reads%3 == 0 {
		return 0, timeoutErr{}
	}
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := 1 + r.rng.IntN(min(len(p), 17))
	n = min(n, len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

type frameOut struct {
	msg string
	cut frameCut
}

func frames(t *testing.T, input string, max int, timeouts bool) []frameOut {
	t.Helper()
	f := newFramer(&chunkReader{data: []byte(input), rng: rand.New(rand.NewPCG(1, 2)), timeouts: timeouts}, max)
	var out []frameOut
	for i := 0; i < 10000; i++ {
		fr, tr, err := f.next()
		var te timeoutErr
		if errors.As(err, &te) {
			continue
		}
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, frameOut{string(fr), tr})
	}
	t.Fatal("framer did not finish")
	return nil
}

func TestFramer(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		name string
		in   string
		max  int
		want []frameOut
	}{
		{"lf", "<13>a\n<13>b\r\n\n<13>c", 64, []frameOut{{"<13>a", frameWhole}, {"<13>b", frameWhole}, {"", frameWhole}, {"<13>c", frameWhole}}},
		{"octet", "5 <13>a6 <13>bc", 64, []frameOut{{"<13>a", frameWhole}, {"<13>bc", frameWhole}}},
		{"octet with trailing newline inside (rsyslog)", "6 <13>a\n6 <13>b\n", 64, []frameOut{{"<13>a", frameWhole}, {"<13>b", frameWhole}}},
		{"lf message starting with digits is not a length", "2026 log line\n12 more\n", 64, []frameOut{{"2026 log line", frameWhole}, {"12 more", frameWhole}}},
		{"octet stream tolerates a LF frame", "5 <13>a<13>plain\n5 <13>b", 64, []frameOut{{"<13>a", frameWhole}, {"<13>plain", frameWhole}, {"<13>b", frameWhole}}},
		{"oversized lf truncated, stream survives", long + "\n<13>ok\n", 10, []frameOut{{long[:10], frameTruncated}, {"<13>ok", frameWhole}}},
		{"oversized octet truncated, stream survives", "100 <" + long[:99] + "5 <13>k", 10, []frameOut{{"<" + long[:9], frameTruncated}, {"<13>k", frameWhole}}},
		{"empty", "", 64, nil},
		{"octet frame cut by the end of the stream", "5 <13>a30 <13>1 2024-01-01T00:00:00Z h", 64, []frameOut{{"<13>a", frameWhole}, {"<13>1 2024-01-01T00:00:00Z h", frameIncomplete}}},
		{"lf frame at the end of an octet stream", "5 <13>a<13>no newline", 64, []frameOut{{"<13>a", frameWhole}, {"<13>no newline", frameWhole}}},
	}
	for _, tt := range tests {
		for _, timeouts := range []bool{false, true} {
			got := frames(t, tt.in, tt.max, timeouts)
			if len(got) != len(tt.want) {
				t.Errorf("%s (timeouts %v): got %+v, want %+v", tt.name, timeouts, got, tt.want)
				continue
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("%s (timeouts %v) frame %d: got %+v, want %+v", tt.name, timeouts, i, got[i], tt.want[i])
				}
			}
		}
	}
}

// zeroReader is an endless stream of 'a' with no newline.
type zeroReader struct{ left int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), z.left))
	for i := range p[:n] {
		p[i] = 'a'
	}
	z.left -= int64(n)
	return n, nil
}

// TestGiBWithoutNewlineIsBounded: 1 GiB with no newline yields one frame of
// max bytes; the framer's memory never grows past its buffer.
func TestGiBWithoutNewlineIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 1 GiB")
	}
	const max = 64 << 10
	stream := int64(1 << 30)
	if raceEnabled {
		stream = 64 << 20 // same code path; the race detector makes 1 GiB take a minute
	}
	f := newFramer(io.MultiReader(&zeroReader{left: stream}, strings.NewReader("\n<13>after\n")), max)
	size := cap(f.buf)
	fr, tr, err := f.next()
	if err != nil || tr != frameTruncated || len(fr) != max {
		t.Fatalf("first frame: %d bytes, truncated %v, %v", len(fr), tr, err)
	}
	fr, tr, err = f.next()
	if err != nil || tr != frameWhole || string(fr) != "<13>after" {
		t.Fatalf("after the giant line: %q %v %v", fr, tr, err)
	}
	if cap(f.buf) != size {
		t.Fatalf("buffer grew from %d to %d", size, cap(f.buf))
	}
}

func FuzzFramer(f *testing.F) {
	for _, s := range []string{"5 <13>a6 <13>bc", "<13>a\n<13>b", "99999999999 <", "0 <1>\n", "12", "3 ab\n\n\n"} {
		f.Add([]byte(s), uint8(8))
	}
	f.Fuzz(func(t *testing.T, in []byte, max uint8) {
		m := int(max) + 1
		fr := newFramer(bytes.NewReader(in), m)
		total := 0
		for i := 0; i < len(in)+2; i++ {
			b, _, err := fr.next()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > m {
				t.Fatalf("frame of %d bytes over max %d", len(b), m)
			}
			total += len(b)
		}
		t.Fatalf("framer did not reach EOF on %d bytes", len(in))
	})
}
