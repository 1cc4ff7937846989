package storage

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/bt-go/bt/metainfo"
)

// Options configures a Store. The zero value is usable.
type Options struct {
	// MaxOpenFiles bounds the open file handles the Store keeps
	// (DefaultMaxOpenFiles when zero) when it has a pool of its own. The
	// bound is soft: a handle in use is never closed, so more may be open
	// briefly under heavy concurrency.
	MaxOpenFiles int

	// Files, if set, is a pool of open files the Store shares with others
	// (a client's torrents): MaxOpenFiles is then ignored, and the download
	// directory itself is opened through the pool when needed.
	Files *FilePool

	// InfoHash names the part file, ".<hex info hash>.parts". When zero, the
	// first piece hash is used instead.
	InfoHash metainfo.Hash

	// PartFile overrides the part file's name: a single path element in the
	// download directory.
	PartFile string

	// FilePriorities are the initial file priorities, indexed like
	// Layout.Files; nil means every file at priority 1. Priority 0 skips a
	// file (see SetFilePriority).
	FilePriorities []int

	// Logger receives debug logs; nil means slog.Default().
	Logger *slog.Logger

	fsys fileSystem // tests: replaces the os.Root-backed file system
}

// Store is the on-disk data of one torrent. All methods are safe for
// concurrent use.
type Store struct {
	fsys        fileSystem
	log         *slog.Logger
	pieceLength int64
	total       int64
	numPieces   int
	files       []*fileState
	hashes      func(int) [20]byte
	pool        *pool
	partSlot    int    // pool slot of the part file
	partName    string // part file name in the download directory
	dirty       []atomic.Bool
	syncMu      sync.Mutex  // serialises Sync: a Sync returns only after every fsync it depends on
	wrote       atomic.Bool // any write since Open: Sync creates empty files
	closed      atomic.Bool

	prioMu    sync.Mutex // serialises priority changes and part-file moves
	partUsers int        // files in part mode; guarded by prioMu

	mu      sync.Mutex
	created map[string]bool // parents of created files, to fsync
}

// fileState is one file of the layout.
type fileState struct {
	index          int
	path           string // slash-separated, relative to the download dir
	length, offset int64
	pad            bool
	symlink        bool // BEP 47 symbolic link: never created
	prio           atomic.Int64

	// modeMu is read-held by every I/O on this file and write-held while the
	// file moves between part mode and its real file.
	modeMu sync.RWMutex
	inPart bool // the file's bytes live in the part file; guarded by modeMu
}

// Open returns the Store of a torrent whose files live under dir (created if
// missing). layout is the torrent's file layout and pieceHashes its piece
// hashes (used by VerifyPiece and Check). No file is created or opened until
// it is read or written.
//
// Open rejects a layout that is inconsistent (offsets that do not add up,
// negative lengths) or whose paths are unsafe (empty, ".", "..", containing a
// separator or NUL) or collide (two files at one path, a file where another
// needs a directory).
func Open(dir string, layout *metainfo.Layout, pieceHashes func(i int) [20]byte, opts Options) (*Store, error) {
	if err := checkLayout(layout); err != nil {
		return nil, err
	}
	if pieceHashes == nil {
		return nil, errors.New("storage: nil piece hashes")
	}
	fp := opts.Files
	if fp == nil {
		fp = NewFilePool(opts.MaxOpenFiles)
	}
	// Slots: one per file, the part file, the directory.
	pl := newPool(fp, len(layout.Files)+2)
	fsys := opts.fsys
	if fsys == nil {
		if err := fp.retry(func() error { return os.MkdirAll(dir, 0o755) }, func() bool { return false }); err != nil {
			return nil, &Error{Op: "mkdir", Path: dir, Err: err}
		}
		if opts.Files != nil {
			fsys = &pooledRoot{dir: dir, pool: pl, slot: len(layout.Files) + 1}
		} else {
			r, err := openRootFS(dir)
			if err != nil {
				return nil, &Error{Op: "open", Path: dir, Err: err}
			}
			fsys = r
		}
	}
	s := &Store{
		fsys:        fsys,
		log:         opts.Logger,
		pieceLength: layout.PieceLength,
		total:       layout.TotalLength,
		numPieces:   layout.NumPieces,
		hashes:      pieceHashes,
		created:     make(map[string]bool),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	for i, fe := range layout.Files {
		f := &fileState{index: i, length: fe.Length, offset: fe.Offset, pad: fe.Pad, symlink: fe.Symlink}
		if !fe.Pad {
			f.path = path.Join(fe.Path...)
		}
		f.prio.Store(1)
		s.files = append(s.files, f)
	}
	s.partName = opts.PartFile
	if s.partName == "" {
		h := opts.InfoHash
		if h.IsZero() && s.numPieces > 0 {
			h = pieceHashes(0)
		}
		s.partName = "." + hex.EncodeToString(h[:]) + ".parts"
	}
	if err := checkPaths(s.files, s.partName); err != nil {
		fsys.Close()
		return nil, err
	}
	s.partSlot = len(s.files)
	s.pool = pl
	s.dirty = make([]atomic.Bool, len(s.files)+1)
	if err := s.initPriorities(opts.FilePriorities); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// checkLayout rejects a layout whose numbers do not add up.
func checkLayout(l *metainfo.Layout) error {
	if l == nil {
		return errors.New("storage: nil layout")
	}
	if l.PieceLength <= 0 || l.TotalLength < 0 {
		return fmt.Errorf("storage: invalid layout: piece length %d, total length %d", l.PieceLength, l.TotalLength)
	}
	if want := (l.TotalLength + l.PieceLength - 1) / l.PieceLength; int64(l.NumPieces) != want {
		return fmt.Errorf("storage: invalid layout: %d pieces, want %d", l.NumPieces, want)
	}
	var off int64
	for i, f := range l.Files {
		if f.Length < 0 || f.Offset != off {
			return fmt.Errorf("storage: invalid layout: file %d has length %d at offset %d, want offset %d", i, f.Length, f.Offset, off)
		}
		off += f.Length
		if off < 0 {
			return fmt.Errorf("storage: invalid layout: total length overflows")
		}
	}
	if off != l.TotalLength {
		return fmt.Errorf("storage: invalid layout: files sum to %d bytes, total length %d", off, l.TotalLength)
	}
	return nil
}

// checkPaths rejects unsafe or colliding file paths. os.Root already refuses
// to leave the directory; this gives a clear error up front and catches
// collisions, which os.Root cannot.
func checkPaths(files []*fileState, partName string) error {
	if !safeElem(partName) {
		return fmt.Errorf("storage: invalid part file name %q", partName)
	}
	paths := map[string]bool{partName: true}
	dirs := map[string]bool{}
	for _, f := range files {
		if f.pad {
			continue
		}
		elems := strings.Split(f.path, "/")
		for _, e := range elems {
			if !safeElem(e) {
				return fmt.Errorf("storage: file %d: unsafe path %q", f.index, f.path)
			}
		}
		if f.path == "" || paths[f.path] || dirs[f.path] {
			return fmt.Errorf("storage: file %d: path %q used twice", f.index, f.path)
		}
		paths[f.path] = true
		for k := 1; k < len(elems); k++ {
			d := strings.Join(elems[:k], "/")
			if paths[d] {
				return fmt.Errorf("storage: file %d: path %q runs through file %q", f.index, f.path, d)
			}
			dirs[d] = true
		}
	}
	return nil
}

// safeElem reports whether e is a safe single path element.
func safeElem(e string) bool {
	return e != "" && e != "." && e != ".." && !strings.ContainsAny(e, "/\\\x00")
}

// NumPieces returns the number of pieces.
func (s *Store) NumPieces() int { return s.numPieces }

// PieceSize returns the size of piece i; the last piece may be short.
func (s *Store) PieceSize(i int) int64 {
	if i == s.numPieces-1 {
		return s.total - int64(i)*s.pieceLength
	}
	return s.pieceLength
}

// PartFileName returns the name of the part file in the download directory.
func (s *Store) PartFileName() string { return s.partName }

// ReadAt reads len(p) bytes at torrent offset off. Pad files read as zeros,
// and so do holes in a file that exists at its full length. A file that does
// not exist or is too short gives an error wrapping ErrNotPresent. Fewer than
// len(p) bytes are read only with an error (io.EOF past the torrent's end).
func (s *Store) ReadAt(p []byte, off int64) (int, error) {
	return s.io(p, off, false)
}

// WriteAt writes p at torrent offset off, creating files (and their
// directories) as needed. Bytes that fall in pad files are dropped; bytes of
// a skipped file that is not on disk go to the part file. Bytes past the
// torrent's end are not written and give io.EOF.
func (s *Store) WriteAt(p []byte, off int64) (int, error) {
	return s.io(p, off, true)
}

func (s *Store) io(p []byte, off int64, write bool) (int, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if off < 0 {
		return 0, fmt.Errorf("storage: negative offset %d", off)
	}
	if off >= s.total {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := int64(len(p))
	var eof error
	if n > s.total-off {
		n = s.total - off
		eof = io.EOF
	}
	k := sort.Search(len(s.files), func(k int) bool {
		f := s.files[k]
		return f.offset+f.length > off
	})
	done := int64(0)
	for ; done < n && k < len(s.files); k++ {
		f := s.files[k]
		if f.length == 0 {
			continue
		}
		fileOff := off + done - f.offset
		m := min(f.length-fileOff, n-done)
		var err error
		if write {
			err = s.writeSpan(f, fileOff, p[done:done+m])
		} else {
			err = s.readSpan(f, fileOff, p[done:done+m])
		}
		if err != nil {
			return int(done), err
		}
		done += m
	}
	if write && done > 0 {
		s.wrote.Store(true)
	}
	return int(done), eof
}

func (s *Store) readSpan(f *fileState, off int64, buf []byte) error {
	if f.pad {
		clear(buf)
		return nil
	}
	f.modeMu.RLock()
	defer f.modeMu.RUnlock()
	if f.inPart {
		return s.readSlot(s.partSlot, s.partName, f.offset+off, buf)
	}
	return s.readSlot(f.index, f.path, off, buf)
}

func (s *Store) writeSpan(f *fileState, off int64, buf []byte) error {
	if f.pad {
		return nil
	}
	f.modeMu.RLock()
	defer f.modeMu.RUnlock()
	if f.inPart {
		return s.writeSlot(s.partSlot, s.partName, -1, f.offset+off, buf)
	}
	return s.writeSlot(f.index, f.path, f.length, off, buf)
}

// readSlot reads buf at off of the file in pool slot i, named name.
func (s *Store) readSlot(i int, name string, off int64, buf []byte) error {
	h, err := s.pool.acquire(i, false, s.opener(name, -1))
	if err != nil {
		return wrapErr("open", name, err)
	}
	n, err := h.f.ReadAt(buf, off)
	s.pool.release(h)
	if n == len(buf) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = errShort
	}
	return &Error{Op: "read", Path: name, Err: err}
}

// writeSlot writes buf at off of the file in pool slot i, named name, whose
// full size is size (or -1 for the part file, which is not preallocated).
func (s *Store) writeSlot(i int, name string, size, off int64, buf []byte) error {
	h, err := s.pool.acquire(i, true, s.opener(name, size))
	if err != nil {
		return wrapErr("open", name, err)
	}
	_, err = h.f.WriteAt(buf, off)
	s.pool.release(h)
	if err != nil {
		return &Error{Op: "write", Path: name, Err: err}
	}
	s.dirty[i].Store(true)
	return nil
}

// wrapErr wraps err as an *Error unless it already is one or is ErrClosed.
func wrapErr(op, name string, err error) error {
	var e *Error
	if errors.As(err, &e) || err == ErrClosed {
		return err
	}
	return &Error{Op: op, Path: name, Err: err}
}

// opener returns the pool opener of the file name. A read opens an existing
// file. A write creates the file and its directories if needed and, when
// size >= 0, extends it sparsely to size with Truncate (never writing zeros).
func (s *Store) opener(name string, size int64) opener {
	return func(write bool) (file, bool, error) {
		if !write {
			return openExisting(s.fsys, name)
		}
		f, err := s.fsys.OpenFile(name, os.O_RDWR, 0)
		if errors.Is(err, os.ErrNotExist) {
			if dir := path.Dir(name); dir != "." {
				if err := s.fsys.MkdirAll(dir, 0o755); err != nil {
					return nil, false, &Error{Op: "mkdir", Path: dir, Err: err}
				}
			}
			f, err = s.fsys.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				return nil, false, &Error{Op: "create", Path: name, Err: err}
			}
			s.noteCreated(name)
		}
		if err != nil {
			return nil, false, err
		}
		if size >= 0 {
			fi, err := f.Stat()
			if err == nil && fi.Size() < size {
				err = f.Truncate(size)
			}
			if err != nil {
				f.Close()
				return nil, false, &Error{Op: "truncate", Path: name, Err: err}
			}
		}
		return f, true, nil
	}
}

// noteCreated records that name was created, so Sync makes its directory
// entry (and those of any directories created for it) durable.
func (s *Store) noteCreated(name string) {
	s.mu.Lock()
	for d := path.Dir(name); ; d = path.Dir(d) {
		s.created[d] = true
		if d == "." {
			break
		}
	}
	s.mu.Unlock()
}
