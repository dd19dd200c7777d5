package wal

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// countingReader is a bytes.Reader that counts the bytes ReadAt copies.
type countingReader struct {
	*bytes.Reader
	read int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.Reader.ReadAt(p, off)
	c.read += int64(n)
	return n, err
}

// TestWindowGet reads random ranges, in order as a Reader does (small
// headers, large payloads, occasional seeks back), and checks every byte
// against the file, and that forward reads never read a byte twice.
func TestWindowGet(t *testing.T) {
	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	r := &countingReader{Reader: bytes.NewReader(data)}
	var w window
	w.reset(r)
	rng := rand.New(rand.NewPCG(1, 2))
	limit := int64(len(data))
	off := int64(0)
	for off < limit-recHeaderSize {
		for _, n := range []int{recHeaderSize, int(rng.Int64N(3 << 20))} {
			n = int(min(int64(n), limit-off))
			got, err := w.get(off, n, limit)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data[off:off+int64(n)]) {
				t.Fatalf("get(%d, %d) returned the wrong bytes", off, n)
			}
			off += int64(n)
		}
	}
	if r.read > limit {
		t.Errorf("read %d bytes to scan %d forward: some were read twice", r.read, limit)
	}
	// Seeking back still returns the right bytes.
	for _, o := range []int64{0, 100, 5 << 20} {
		got, err := w.get(o, 1000, limit)
		if err != nil || !bytes.Equal(got, data[o:o+1000]) {
			t.Fatalf("get(%d, 1000) after a seek back: %v", o, err)
		}
	}
}

// TestWindowShrinks checks that a buffer grown for a large record is kept
// while large records keep coming and released after a run of small reads.
func TestWindowShrinks(t *testing.T) {
	data := make([]byte, 64<<20)
	var w window
	w.reset(bytes.NewReader(data))
	limit := int64(len(data))
	if _, err := w.get(0, 2<<20, limit); err != nil {
		t.Fatal(err)
	}
	big := cap(w.buf)
	off := int64(2 << 20)
	for i := 0; i < shrinkAfter; i++ { // small reads, each past the window
		if _, err := w.get(off, recHeaderSize, limit); err != nil {
			t.Fatal(err)
		}
		off += 2 * readChunk
	}
	if cap(w.buf) != big {
		t.Fatalf("buffer reallocated before %d small reads in a row (cap %d, was %d)", shrinkAfter, cap(w.buf), big)
	}
	if _, err := w.get(off, recHeaderSize, limit); err != nil {
		t.Fatal(err)
	}
	if cap(w.buf) > readChunk {
		t.Fatalf("buffer of %d bytes kept after %d small reads", cap(w.buf), shrinkAfter+1)
	}
}
