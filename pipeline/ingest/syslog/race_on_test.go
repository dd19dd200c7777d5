//go:build race

package syslog

// raceEnabled: the race detector slows byte loops ~20x; big streams shrink.
const raceEnabled = true
