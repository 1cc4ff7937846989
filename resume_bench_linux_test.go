package bt

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// dropCache asks the kernel to forget the cached pages of the files under
// root (our own files only), so the next read comes from the disk.
func dropCache(root string) error {
	return filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := f.Sync(); err != nil {
			return err
		}
		return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	})
}
