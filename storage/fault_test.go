package storage

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// faultFS wraps the real file system and fails operations chosen by the
// test, to stand in for a full disk or a refusing file system.
type faultFS struct {
	fileSystem
	mu   sync.Mutex
	fail func(op, name string) error // nil: no faults
}

func (f *faultFS) check(op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail == nil {
		return nil
	}
	return f.fail(op, name)
}

func (f *faultFS) setFail(fn func(op, name string) error) {
	f.mu.Lock()
	f.fail = fn
	f.mu.Unlock()
}

func (f *faultFS) OpenFile(name string, flag int, perm fs.FileMode) (file, error) {
	if err := f.check("open", name); err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	h, err := f.fileSystem.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{file: h, fs: f, name: name}, nil
}

type faultFile struct {
	file
	fs   *faultFS
	name string
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.check("write", f.name); err != nil {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: err}
	}
	return f.file.WriteAt(p, off)
}

func (f *faultFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.check("read", f.name); err != nil {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: err}
	}
	return f.file.ReadAt(p, off)
}

func newFaultFS(t *testing.T, dir string) *faultFS {
	r, err := openRootFS(dir)
	must(t, err)
	return &faultFS{fileSystem: r}
}

// TestDiskFull fills the disk in the middle of a download: the write fails
// with ErrNoSpace (fatal), verified pieces stay verified, and writing works
// again once space returns.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	l := makeLayout(100, fspec{path: "t/a", length: 250}, fspec{path: "t/b", length: 250})
	data, hashes := torrentData(t, l, 8)
	ffs := newFaultFS(t, dir)
	s := mustOpen(t, dir, l, hashes, Options{fsys: ffs})
	must(t, s.WritePiece(0, piece(l, data, 0)))
	must(t, s.WritePiece(1, piece(l, data, 1)))

	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT} {
		ffs.setFail(func(op, name string) error {
			if op == "write" {
				return errno
			}
			return nil
		})
		err := s.WritePiece(2, piece(l, data, 2)) // spans t/a and t/b
		if !errors.Is(err, ErrNoSpace) || !Fatal(err) || errors.Is(err, ErrPermission) {
			t.Fatalf("WritePiece on a full disk (%v) = %v; want fatal ErrNoSpace", errno, err)
		}
	}
	verify(t, s, []int{0, 1}, true)

	ffs.setFail(nil) // space returns
	for i := 2; i < l.NumPieces; i++ {
		must(t, s.WritePiece(i, piece(l, data, i)))
	}
	must(t, s.Sync())
	checkAll(t, s, l, data)
}

func TestPermissionDenied(t *testing.T) {
	dir := t.TempDir()
	l := makeLayout(100, fspec{path: "a", length: 250})
	data, hashes := torrentData(t, l, 9)
	ffs := newFaultFS(t, dir)
	s := mustOpen(t, dir, l, hashes, Options{fsys: ffs})
	ffs.setFail(func(op, name string) error {
		if op == "open" {
			return syscall.EACCES
		}
		return nil
	})
	err := s.WritePiece(0, piece(l, data, 0))
	if !errors.Is(err, ErrPermission) || !Fatal(err) {
		t.Fatalf("WritePiece = %v; want fatal ErrPermission", err)
	}
	ffs.setFail(func(op, name string) error {
		if op == "open" {
			return syscall.EROFS
		}
		return nil
	})
	if err := s.WritePiece(0, piece(l, data, 0)); !errors.Is(err, ErrPermission) {
		t.Fatalf("WritePiece on a read-only file system = %v; want ErrPermission", err)
	}
	ffs.setFail(nil)
	must(t, s.WritePiece(0, piece(l, data, 0)))
	ffs.setFail(func(op, name string) error {
		if op == "read" {
			return syscall.EIO
		}
		return nil
	})
	if _, err := s.VerifyPiece(0); !Fatal(err) {
		t.Fatalf("VerifyPiece with an I/O error = %v; want a fatal error", err)
	}
	if err := s.Check(context.Background(), nil, func(int, bool) {}); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Check with an I/O error = %v; want EIO", err)
	}
}

// TestReadOnlyData seeds from files the process may not write: reads fall
// back to a read-only handle.
func TestReadOnlyData(t *testing.T) {
	dir := t.TempDir()
	l := makeLayout(100, fspec{path: "a", length: 250})
	data, hashes := torrentData(t, l, 10)
	must(t, os.WriteFile(filepath.Join(dir, "a"), data, 0o644))
	r, err := openRootFS(dir)
	must(t, err)
	// Refuse read-write opens only.
	s := mustOpen(t, dir, l, hashes, Options{fsys: &rdonlyFS{r}})
	checkAll(t, s, l, data)
	if err := s.WritePiece(0, data[:100]); !errors.Is(err, ErrPermission) {
		t.Fatalf("WritePiece to read-only data = %v; want ErrPermission", err)
	}
}

type rdonlyFS struct{ fileSystem }

func (r *rdonlyFS) OpenFile(name string, flag int, perm fs.FileMode) (file, error) {
	if flag&(os.O_RDWR|os.O_WRONLY) != 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EACCES}
	}
	return r.fileSystem.OpenFile(name, flag, perm)
}

// TestDamagedFiles changes files under a store that has them open: a
// truncated file reads as not present, a deleted one is found after
// DropHandles, and Check finds corruption.
func TestDamagedFiles(t *testing.T) {
	dir := t.TempDir()
	l := makeLayout(100, fspec{path: "t/a", length: 250}, fspec{path: "t/b", length: 250}, fspec{path: "t/c", length: 100})
	data, hashes := torrentData(t, l, 11)
	s := mustOpen(t, dir, l, hashes, Options{})
	for i := range l.NumPieces {
		must(t, s.WritePiece(i, piece(l, data, i)))
	}
	must(t, s.Sync())
	p := make([]byte, 100)
	must(t, s.ReadBlock(5, 0, p))

	must(t, os.Truncate(filepath.Join(dir, "t", "c"), 10))
	if err := s.ReadBlock(5, 0, p); !errors.Is(err, ErrNotPresent) {
		t.Fatalf("ReadBlock of a truncated file = %v; want ErrNotPresent", err)
	}

	must(t, s.ReadBlock(0, 0, p)) // caches a handle on t/a
	must(t, os.Remove(filepath.Join(dir, "t", "a")))
	s.DropHandles()
	if err := s.ReadBlock(0, 0, p); !errors.Is(err, ErrNotPresent) {
		t.Fatalf("ReadBlock of a deleted file = %v; want ErrNotPresent", err)
	}

	b := filepath.Join(dir, "t", "b")
	contents, err := os.ReadFile(b)
	must(t, err)
	contents[120] ^= 0xff // torrent offset 370: piece 3
	must(t, os.WriteFile(b, contents, 0o644))

	bad := map[int]bool{}
	must(t, s.Check(context.Background(), nil, func(i int, ok bool) {
		if !ok {
			bad[i] = true
		}
	}))
	want := map[int]bool{0: true, 1: true, 2: true, 3: true, 5: true}
	if len(bad) != len(want) {
		t.Fatalf("Check found bad pieces %v; want %v", bad, want)
	}
	for i := range want {
		if !bad[i] {
			t.Fatalf("Check found bad pieces %v; want %v", bad, want)
		}
	}
	// Rewriting repairs.
	for i := range bad {
		must(t, s.WritePiece(i, piece(l, data, i)))
	}
	got := make([]byte, l.TotalLength)
	if _, err := s.ReadAt(got, 0); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("after repair: %v", err)
	}
}
