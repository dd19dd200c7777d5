package jsonscan

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCost(t *testing.T) {
	row := `{"address":"10.244.3.17","family":"2","fd":"12","port":"8080"},`
	for _, c := range []struct {
		name  string
		d     string
		dense bool
		free  bool // under CostScanBytes: not counted
	}{
		{"short", `{"a":[0,0,0]}`, false, true},
		{"zeros", `{"a":[` + strings.Repeat("0,", 40<<10) + `0]}`, true, false},
		{"empty strings", `{"a":[` + strings.Repeat(`"",`, 30<<10) + `""]}`, true, false},
		{"brackets", `[` + strings.Repeat(`[],`, 30<<10) + `[]]`, true, false},
		{"six-digit numbers", `{"p":[` + strings.Repeat("150000,", 20<<10) + `1]}`, false, false},
		{"osquery rows", `{"snapshot":[` + strings.Repeat(row, 2000) + `{}]}`, false, false},
		{"dense but short", `{"a":[` + strings.Repeat("0,", 16<<10) + `0]}`, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			cost, err := ParseCost([]byte(c.d))
			if got := errors.Is(err, ErrTooManyValues); got != c.dense {
				t.Fatalf("%d bytes, %d values: too dense %v, want %v", len(c.d), Values([]byte(c.d)), got, c.dense)
			}
			if !c.dense && (cost == 0) != c.free {
				t.Errorf("cost %d for %d bytes", cost, len(c.d))
			}
			if !c.dense && !c.free && cost != int64(Values([]byte(c.d)))*ValueBytes {
				t.Errorf("cost %d, want %d a value", cost, ValueBytes)
			}
		})
	}
}
