//go:build !unix

package main

// lockForReplay does nothing where flock is missing: run one replay at a
// time (docs/configuration.md says so).
func lockForReplay(string) (unlock func(), held bool, err error) { return func() {}, false, nil }
