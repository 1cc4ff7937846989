package storage

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// fileSystem is the narrow view of the download directory the Store uses.
// Production code uses rootFS, which confines every path to the directory
// through os.Root; tests substitute a wrapper to inject faults such as a full
// disk. Names are slash-separated paths relative to the download directory.
type fileSystem interface {
	OpenFile(name string, flag int, perm fs.FileMode) (file, error)
	MkdirAll(name string, perm fs.FileMode) error
	Stat(name string) (fs.FileInfo, error)
	Remove(name string) error
	Close() error
}

// file is the part of *os.File the Store uses: positional reads and writes
// only, so one handle serves any number of goroutines at once.
type file interface {
	io.ReaderAt
	io.WriterAt
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
	Sync() error
	Close() error
}

// rootFS confines all access to one directory tree. os.Root rejects paths
// that climb out of the directory ("..", absolute paths) and symbolic links
// that resolve outside it, whatever the torrent or the directory contains.
type rootFS struct{ root *os.Root }

func openRootFS(dir string) (*rootFS, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &rootFS{root: r}, nil
}

func (r *rootFS) OpenFile(name string, flag int, perm fs.FileMode) (file, error) {
	f, err := r.root.OpenFile(filepath.FromSlash(name), flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (r *rootFS) MkdirAll(name string, perm fs.FileMode) error {
	return r.root.MkdirAll(filepath.FromSlash(name), perm)
}
func (r *rootFS) Stat(name string) (fs.FileInfo, error) { return r.root.Stat(filepath.FromSlash(name)) }
func (r *rootFS) Remove(name string) error              { return r.root.Remove(filepath.FromSlash(name)) }
func (r *rootFS) Close() error                          { return r.root.Close() }

// pooledRoot is a rootFS whose os.Root lives in the Store's FilePool: it is
// opened when a file operation needs it and closed when it has been idle
// longest, so an idle Store holds no file descriptor.
type pooledRoot struct {
	dir  string
	pool *pool
	slot int
}

func (r *pooledRoot) with(op func(*os.Root) error) error {
	h, err := r.pool.acquireRoot(r.slot, r.dir)
	if err != nil {
		return err
	}
	defer r.pool.release(h)
	return r.pool.fp.retry(func() error { return op(h.root) }, r.pool.isShut)
}

func (r *pooledRoot) OpenFile(name string, flag int, perm fs.FileMode) (file, error) {
	var f *os.File
	err := r.with(func(root *os.Root) (err error) {
		f, err = root.OpenFile(filepath.FromSlash(name), flag, perm)
		return err
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (r *pooledRoot) MkdirAll(name string, perm fs.FileMode) error {
	return r.with(func(root *os.Root) error { return root.MkdirAll(filepath.FromSlash(name), perm) })
}

func (r *pooledRoot) Stat(name string) (fi fs.FileInfo, err error) {
	err = r.with(func(root *os.Root) (err error) {
		fi, err = root.Stat(filepath.FromSlash(name))
		return err
	})
	return fi, err
}

func (r *pooledRoot) Remove(name string) error {
	return r.with(func(root *os.Root) error { return root.Remove(filepath.FromSlash(name)) })
}

// Close does nothing: the Store's pool closes the directory with its files.
func (r *pooledRoot) Close() error { return nil }
