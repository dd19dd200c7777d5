package jsonscan

import "fmt"

// What a record costs fastjson grows with its values, not its length: the
// parser keeps its values in one slice grown by append, and an array's
// elements point into every backing array the slice had, so all of them
// stay live while the record is used: about ValueBytes a value, some 200
// times the size of an array of "0,". A record longer than CostScanBytes
// is counted (Values) and charged at that rate by its reader; one longer
// than DenseBytes with a value every MaxValueDensity bytes or less is not
// parsed (ErrTooManyValues): within a 1 MiB record a parse then holds at
// most ~70 MiB. Real log records average a value every 8 bytes or more (an
// osquery snapshot of string columns: 15; a log line's JSON: tens); the
// refused shapes are arrays of tiny numbers, empty strings or brackets.
const (
	CostScanBytes   = 8 << 10
	DenseBytes      = 64 << 10
	MaxValueDensity = 6
	ValueBytes      = 420
	// KeepParserBytes: a pooled parser whose largest parse cost more is
	// dropped, not pooled again (its value slice would stay with it).
	KeepParserBytes = 4 << 20
)

// ErrTooManyValues refuses a record too dense in values (ParseCost).
var ErrTooManyValues = fmt.Errorf("record longer than %d KiB holds a value every %d bytes or less on average (a long array of tiny values, the shape of a decompression bomb): not parsed; split it into smaller records", DenseBytes>>10, MaxValueDensity)

// ParseCost returns about what parsing d with fastjson holds of the heap
// (0 for a record of at most CostScanBytes, whose cost is small), or
// ErrTooManyValues when d is too dense in values to parse.
func ParseCost(d []byte) (int64, error) {
	if len(d) <= CostScanBytes {
		return 0, nil
	}
	n := Values(d)
	if len(d) > DenseBytes && n*MaxValueDensity > len(d) {
		return 0, ErrTooManyValues
	}
	return int64(n) * ValueBytes, nil
}
