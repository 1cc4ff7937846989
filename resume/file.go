package resume

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/bt-go/bt/internal/readlimit"
)

// WriteFile writes data to the file name atomically and durably: to a
// temporary file in the same directory, fsynced, renamed over name, and
// the directory fsynced. After a crash name holds either its old contents or
// data, never a mixture; a temporary file may be left behind (Dir removes
// them).
func WriteFile(name string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, base+tmpInfix+"*")
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("resume: writing %s: %w", tmp, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("resume: syncing %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("resume: closing %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, name); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	return syncDir(dir)
}

// tmpInfix marks WriteFile's temporary files.
const tmpInfix = ".tmp-"

// syncDir makes a rename in dir durable. Windows has no directory fsync
// (its renames are journalled by NTFS).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("resume: syncing directory %s: %w", dir, err)
	}
	return nil
}

// ReadFile reads and decodes the resume file name. A missing file is an
// error satisfying errors.Is(err, fs.ErrNotExist); a bad one wraps
// ErrCorrupt or ErrVersion.
func ReadFile(name string) (*Data, error) {
	p, err := readlimit.File(name, MaxSize)
	if errors.Is(err, readlimit.ErrTooLarge) {
		return nil, fmt.Errorf("resume: %w: %w", ErrCorrupt, err)
	}
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	d, err := Decode(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}
