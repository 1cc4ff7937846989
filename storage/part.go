package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// Part file.
//
// A skipped file (priority 0) still shares its first and last pieces with
// the files next to it, and those pieces must be downloaded whole to be
// verified. The skipped file's share of them goes to the part file rather
// than into a file the user did not ask for. The part file is a sparse image
// of the torrent: a byte at torrent offset off is stored at offset off of the
// part file, so it needs no index (the piece is its own index), survives a
// crash as consistently as the real files, and occupies disk space only for
// the bytes written to it. (On a file system without sparse files it would
// take the space of every byte before its last written one.)
//
// A file is in part mode when it has priority 0 and does not exist on disk:
// data a user already has stays where it is. When the priority of a file in
// part mode is raised, its bytes are copied from the part file into the real
// file (zeros are not copied: the real file is sparse), the real file is
// synced, and the file leaves part mode. When no file is left in part mode
// the part file is removed.

// copyChunk is the unit of the part-file copy.
const copyChunk = 1 << 20

// FilePriority returns the priority of file f.
func (s *Store) FilePriority(f int) int {
	return int(s.files[f].prio.Load())
}

// SetFilePriority sets the priority of file f (index into Layout.Files).
// Storage distinguishes only 0, which skips the file (its bytes of shared
// pieces go to the part file), from positive priorities. Raising the priority
// of a skipped file moves its bytes from the part file into the real file
// before returning; I/O on other files goes on meanwhile.
func (s *Store) SetFilePriority(f int, prio int) error {
	if f < 0 || f >= len(s.files) {
		return fmt.Errorf("storage: file %d out of range [0, %d)", f, len(s.files))
	}
	if prio < 0 {
		return fmt.Errorf("storage: file %d: negative priority %d", f, prio)
	}
	if s.closed.Load() {
		return ErrClosed
	}
	s.prioMu.Lock()
	defer s.prioMu.Unlock()
	return s.setPriorityLocked(s.files[f], prio)
}

func (s *Store) setPriorityLocked(f *fileState, prio int) error {
	f.modeMu.Lock()
	defer f.modeMu.Unlock()
	if f.pad || f.length == 0 {
		f.prio.Store(int64(prio))
		return nil
	}
	switch {
	case prio == 0 && !f.inPart:
		_, err := s.fsys.Stat(f.path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return &Error{Op: "stat", Path: f.path, Err: err}
		}
		if err != nil {
			f.inPart = true
			s.partUsers++
		}
	case prio > 0 && f.inPart:
		if err := s.moveOutOfPart(f); err != nil {
			return err
		}
		f.inPart = false
		s.partUsers--
		if s.partUsers == 0 {
			s.removePart()
		}
	}
	f.prio.Store(int64(prio))
	return nil
}

// initPriorities applies the initial priorities. A file that is wanted but
// not on disk takes its bytes from an existing part file: a part file left
// by an earlier session that skipped it.
func (s *Store) initPriorities(prios []int) error {
	if prios != nil && len(prios) != len(s.files) {
		return fmt.Errorf("storage: %d file priorities for %d files", len(prios), len(s.files))
	}
	s.prioMu.Lock()
	defer s.prioMu.Unlock()
	partSize := int64(-1)
	if fi, err := s.fsys.Stat(s.partName); err == nil {
		partSize = fi.Size()
	}
	prioOf := func(i int) int {
		if prios == nil {
			return 1
		}
		return prios[i]
	}
	for i, f := range s.files {
		if prioOf(i) < 0 {
			return fmt.Errorf("storage: file %d: negative priority %d", i, prioOf(i))
		}
		if partSize <= f.offset || f.pad || f.length == 0 {
			continue
		}
		// Enter part mode first, for every candidate, so the part file
		// stays until the last of them has left it.
		if _, err := s.fsys.Stat(f.path); errors.Is(err, fs.ErrNotExist) {
			if err := s.setPriorityLocked(f, 0); err != nil {
				return err
			}
		}
	}
	for i, f := range s.files {
		if err := s.setPriorityLocked(f, prioOf(i)); err != nil {
			return err
		}
	}
	return nil
}

// moveOutOfPart copies f's bytes from the part file into f's real file and
// syncs it. f.modeMu is write-held: no I/O on f runs meanwhile.
func (s *Store) moveOutOfPart(f *fileState) error {
	src, err := s.pool.acquire(s.partSlot, false, s.opener(s.partName, -1))
	if errors.Is(err, fs.ErrNotExist) {
		src = nil // nothing was ever written to the part file
	} else if err != nil {
		return wrapErr("open", s.partName, err)
	}
	if src != nil {
		defer s.pool.release(src)
	}
	dst, err := s.pool.acquire(f.index, true, s.opener(f.path, f.length))
	if err != nil {
		return wrapErr("open", f.path, err)
	}
	defer s.pool.release(dst)
	if src != nil {
		buf := make([]byte, min(copyChunk, f.length))
		for off := int64(0); off < f.length; {
			m := min(int64(len(buf)), f.length-off)
			n, err := src.f.ReadAt(buf[:m], f.offset+off)
			if err != nil && err != io.EOF {
				return &Error{Op: "read", Path: s.partName, Err: err}
			}
			if n > 0 && !allZero(buf[:n]) {
				if _, err := dst.f.WriteAt(buf[:n], off); err != nil {
					return &Error{Op: "write", Path: f.path, Err: err}
				}
			}
			if int64(n) < m {
				break // past the end of the part file
			}
			off += m
		}
	}
	if err := dst.f.Sync(); err != nil {
		return &Error{Op: "sync", Path: f.path, Err: err}
	}
	return nil
}

// removePart deletes the part file once no file is in part mode.
func (s *Store) removePart() {
	s.pool.drop(s.partSlot)
	s.dirty[s.partSlot].Store(false)
	if err := s.fsys.Remove(s.partName); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Debug("storage: removing part file", "path", s.partName, "err", err)
	}
}

func allZero(p []byte) bool {
	for len(p) >= 8 {
		if p[0]|p[1]|p[2]|p[3]|p[4]|p[5]|p[6]|p[7] != 0 {
			return false
		}
		p = p[8:]
	}
	for _, b := range p {
		if b != 0 {
			return false
		}
	}
	return true
}
