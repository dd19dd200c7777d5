//go:build unix

package wal

import "golang.org/x/sys/unix"

// FreeBytes implements SpaceFS: statfs(2)'s blocks available to
// unprivileged users.
func (osFS) FreeBytes(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil //nolint:unconvert // Bsize's type differs by OS
}
