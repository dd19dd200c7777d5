//go:build race

package normalize

// raceEnabled: sync.Pool (used by regexp, hence by detect expressions that
// match patterns) drops items at random under the race detector, so
// allocation counts are only checked without it.
const raceEnabled = true
