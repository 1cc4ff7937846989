package resume

import (
	"fmt"
	"os"
	"path/filepath"
)

// PendingFile is one file of a WriteFiles batch.
type PendingFile struct {
	Name string
	Data []byte
	Perm os.FileMode
}

// batchSyncfs is the batch size from which WriteFiles makes the batch
// durable with one syncfs of the file system (where there is one) rather
// than an fsync per file: syncfs also flushes other programs' dirty data,
// which costs more than a few fsyncs.
const batchSyncfs = 8

// WriteFiles writes a batch of files as WriteFile writes one, atomically and
// durably, but with one sync for the whole batch: every file goes to a
// temporary file first, the batch is made durable (one syncfs on Linux for
// a large batch, else an fsync per file), then every file is renamed over
// its name and each directory fsynced once. It returns one error per file
// (nil for those written).
func WriteFiles(files []PendingFile) []error {
	errs := make([]error, len(files))
	tmps := make([]*os.File, len(files))
	defer func() {
		for i, f := range tmps {
			if f != nil {
				f.Close()
				if errs[i] != nil {
					os.Remove(f.Name())
				}
			}
		}
	}()
	for i, pf := range files {
		dir, base := filepath.Split(pf.Name)
		if dir == "" {
			dir = "."
		}
		f, err := os.CreateTemp(dir, base+tmpInfix+"*")
		if err != nil {
			errs[i] = fmt.Errorf("resume: %w", err)
			continue
		}
		tmps[i] = f
		if _, err := f.Write(pf.Data); err != nil {
			errs[i] = fmt.Errorf("resume: writing %s: %w", f.Name(), err)
		} else if err := f.Chmod(pf.Perm); err != nil {
			errs[i] = fmt.Errorf("resume: %w", err)
		}
	}
	synced := false
	if len(files) >= batchSyncfs {
		for _, f := range tmps {
			if f != nil {
				synced = syncfs(f) == nil
				break
			}
		}
	}
	dirs := map[string]bool{}
	for i, f := range tmps {
		if f == nil || errs[i] != nil {
			continue
		}
		if !synced {
			if err := f.Sync(); err != nil {
				errs[i] = fmt.Errorf("resume: syncing %s: %w", f.Name(), err)
				continue
			}
		}
		if err := f.Close(); err != nil {
			errs[i] = fmt.Errorf("resume: closing %s: %w", f.Name(), err)
			continue
		}
		tmps[i] = nil
		if err := os.Rename(f.Name(), files[i].Name); err != nil {
			os.Remove(f.Name())
			errs[i] = fmt.Errorf("resume: %w", err)
			continue
		}
		dir := filepath.Dir(files[i].Name)
		dirs[dir] = true
	}
	for dir := range dirs {
		if err := syncDir(dir); err != nil {
			for i := range files {
				if errs[i] == nil && filepath.Dir(files[i].Name) == dir {
					errs[i] = err
				}
			}
		}
	}
	return errs
}
