package storage

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"slices"
	"time"
)

// Sync makes every byte written so far durable: it fsyncs each file written
// since the last Sync (and the part file), creates the wanted zero-length
// files once anything has been written, and fsyncs the directories in which
// files were created. The engine calls Sync before it records a piece as
// complete (in resume data), so a crash never leaves a piece recorded but
// not on disk.
func (s *Store) Sync() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.sync()
}

// Dirty reports whether anything written since the last Sync may not be
// durable yet: a file written or a directory created that no Sync has
// flushed.
func (s *Store) Dirty() bool {
	for i := range s.dirty {
		if s.dirty[i].Load() {
			return true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.created) > 0
}

func (s *Store) sync() error {
	// A concurrent Sync may have taken a file's dirty flag and still be in
	// its fsync; waiting for it keeps the promise that data written before
	// this call is durable when it returns.
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	if s.wrote.Load() {
		keep(s.createEmpty())
	}
	for i := range s.dirty {
		if !s.dirty[i].Swap(false) {
			continue
		}
		name := s.partName
		if i < len(s.files) {
			name = s.files[i].path
		}
		if err := s.syncSlot(i, name); err != nil {
			s.dirty[i].Store(true)
			keep(err)
		}
	}
	s.mu.Lock()
	dirs := make([]string, 0, len(s.created))
	for d := range s.created {
		dirs = append(dirs, d)
	}
	clear(s.created)
	s.mu.Unlock()
	slices.Sort(dirs)
	for _, d := range dirs {
		if err := s.syncDir(d); err != nil {
			s.mu.Lock()
			s.created[d] = true
			s.mu.Unlock()
			keep(err)
		}
	}
	return first
}

func (s *Store) syncSlot(i int, name string) error {
	h, err := s.pool.acquire(i, false, s.opener(name, -1))
	if i == s.partSlot && errors.Is(err, fs.ErrNotExist) {
		return nil // the part file was removed: nothing left to sync
	}
	if err != nil {
		return wrapErr("open", name, err)
	}
	err = h.f.Sync()
	s.pool.release(h)
	if err != nil {
		return &Error{Op: "sync", Path: name, Err: err}
	}
	return nil
}

func (s *Store) syncDir(d string) error {
	f, err := s.fsys.OpenFile(d, os.O_RDONLY, 0)
	if err != nil {
		return &Error{Op: "open", Path: d, Err: err}
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return &Error{Op: "sync", Path: d, Err: err}
	}
	return nil
}

// createEmpty creates the wanted zero-length files that do not exist yet.
// They never receive a write, so this is where they come into being.
func (s *Store) createEmpty() error {
	for _, f := range s.files {
		if f.length != 0 || f.pad || f.symlink || f.prio.Load() == 0 {
			continue
		}
		if _, err := s.fsys.Stat(f.path); err == nil || !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if dir := path.Dir(f.path); dir != "." {
			if err := s.fsys.MkdirAll(dir, 0o755); err != nil {
				return &Error{Op: "mkdir", Path: dir, Err: err}
			}
		}
		h, err := s.fsys.OpenFile(f.path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return &Error{Op: "create", Path: f.path, Err: err}
		}
		h.Close()
		s.noteCreated(f.path)
	}
	return nil
}

// Close syncs what was written (see Sync) and closes every file. Handles in
// use by I/O still running are closed when that I/O ends; later calls fail
// with ErrClosed. Close returns the first error met.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	err := s.sync()
	s.pool.close()
	if cerr := s.fsys.Close(); err == nil {
		err = cerr
	}
	return err
}

// DropHandles closes the cached handles of all files, so the next access
// opens each file afresh and sees it as it is on disk now (a file deleted or
// replaced under a seeding torrent). Check does this itself.
func (s *Store) DropHandles() { s.pool.drop(-1) }

// FileStat describes one file of the layout on disk, for resume data.
type FileStat struct {
	Index   int       // index into Layout.Files
	Path    string    // slash-separated, under the download directory
	Exists  bool      // the real file exists
	Size    int64     // its size on disk, when it exists
	ModTime time.Time // its modification time, when it exists
	InPart  bool      // skipped and not on disk: its bytes are in the part file
}

// PartStat describes the part file (Index -1) for resume data: if it
// changed or vanished, the pieces shared with skipped files must be checked
// again.
func (s *Store) PartStat() (FileStat, error) {
	if s.closed.Load() {
		return FileStat{}, ErrClosed
	}
	st := FileStat{Index: -1, Path: s.partName}
	fi, err := s.fsys.Stat(s.partName)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, &Error{Op: "stat", Path: s.partName, Err: err}
	}
	st.Exists, st.Size, st.ModTime = true, fi.Size(), fi.ModTime()
	return st, nil
}

// Stat describes every file of the layout as it is on disk now. Pad files
// are reported with an empty Path and Exists false.
func (s *Store) Stat() ([]FileStat, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	out := make([]FileStat, len(s.files))
	for i, f := range s.files {
		f.modeMu.RLock()
		out[i] = FileStat{Index: i, Path: f.path, InPart: f.inPart}
		f.modeMu.RUnlock()
		if f.pad {
			continue
		}
		fi, err := s.fsys.Stat(f.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, &Error{Op: "stat", Path: f.path, Err: err}
		}
		out[i].Exists, out[i].Size, out[i].ModTime = true, fi.Size(), fi.ModTime()
	}
	return out, nil
}
