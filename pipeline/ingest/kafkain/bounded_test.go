package kafkain

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestBoundedReader(t *testing.T) {
	for _, tc := range []struct {
		n, limit int
		err      error
	}{
		{10, 10, nil}, // exactly the bound: a legal batch
		{9, 10, nil},
		{11, 10, errBatchTooLarge},
		{1 << 20, 4096, errBatchTooLarge},
	} {
		r := &boundedReader{rc: io.NopCloser(bytes.NewReader(make([]byte, tc.n))), left: int64(tc.limit)}
		var buf bytes.Buffer
		_, err := buf.ReadFrom(r)
		if !errors.Is(err, tc.err) && !(tc.err == nil && err == nil) {
			t.Errorf("%d bytes, bound %d: err %v, want %v", tc.n, tc.limit, err, tc.err)
		}
		if buf.Len() > tc.limit {
			t.Errorf("%d bytes, bound %d: read %d", tc.n, tc.limit, buf.Len())
		}
	}
}

func TestBatchLimitIsTheLargestRunning(t *testing.T) {
	a, b := &Source{}, &Source{}
	setBatchLimit(a, 8<<20)
	setBatchLimit(b, 128<<20)
	if got := batchLimit(); got != 128<<20 {
		t.Errorf("limit %d, want the larger input's", got)
	}
	setBatchLimit(b, 0)
	if got := batchLimit(); got != 8<<20 {
		t.Errorf("limit %d after the larger input stopped", got)
	}
	setBatchLimit(a, 0)
	if got := batchLimit(); got != DefaultMaxBatchBytes {
		t.Errorf("limit %d with no input running, want the default", got)
	}
}
