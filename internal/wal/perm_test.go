//go:build unix

package wal

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFilesNotWorldReadable: a queue holds raw logs (credentials in
// command lines, personal data); its directories and segments are created
// owner and group only (0750/0640 before the umask), as the file sink's
// are. They used to be 0755/0644.
func TestFilesNotWorldReadable(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "q", "p1")
	l, _, err := Open(OS, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, _, err := l.Append([]byte("x"), 1); err != nil {
		t.Fatal(err)
	}
	err = filepath.Walk(filepath.Dir(dir), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().Perm()&0o007 != 0 {
			t.Errorf("%s is %v: readable by others", p, fi.Mode().Perm())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
