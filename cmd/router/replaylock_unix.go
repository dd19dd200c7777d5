//go:build unix

package main

import (
	"errors"
	"os"
	"syscall"
)

// lockForReplay takes an exclusive advisory lock (flock) on the quarantine
// file path for one replay run, so that two runs at once cannot both send
// its records; held reports that another run holds it. The router does not
// take the lock: it goes on appending. unlock releases it.
func lockForReplay(path string) (unlock func(), held bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, true, nil
		}
		return nil, false, err
	}
	return func() { _ = f.Close() }, false, nil // closing releases the lock
}
