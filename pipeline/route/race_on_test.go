//go:build race

package route_test

// raceEnabled: the race detector makes sync.Pool drop items at random
// (regexp keeps its matchers in one), so allocation counts are meaningless.
const raceEnabled = true
