package storage

import (
	"container/list"
	"errors"
	"io"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"time"
)

// DefaultMaxOpenFiles is the default bound on open file handles of a Store
// that has a pool of its own (Options.Files nil).
const DefaultMaxOpenFiles = 64

// FilePool is a bounded cache of open file handles shared by any number of
// Stores, as libtorrent's file pool is: a client running thousands of
// torrents of many files keeps at most about Max handles open in all,
// closing the least recently used idle one to open another. Handles in use
// are never closed, so the bound is soft under heavy concurrency. A Store
// on a shared pool also opens its download directory through the pool,
// so an idle torrent holds no file descriptor at all.
//
// When the process runs out of file descriptors (EMFILE, ENFILE) an open
// is not failed at once: the pool closes an idle handle (its own, or any
// other pool's in the process), or waits for one to be released, and
// tries again for up to a minute. Its methods are safe
// for concurrent use.
type FilePool struct {
	max   int
	mu    sync.Mutex
	lru   list.List     // of *handle, most recently used at the front
	open  int           // handles in lru
	freed chan struct{} // closed (and replaced) when a handle closes or is released
	waits int           // opens that met EMFILE (for tests and stats)
}

// NewFilePool returns a pool keeping at most max handles open (max <= 0:
// DefaultMaxOpenFiles).
func NewFilePool(max int) *FilePool {
	if max <= 0 {
		max = DefaultMaxOpenFiles
	}
	fp := &FilePool{max: max, freed: make(chan struct{})}
	livePools.Lock()
	livePools.m[fp] = struct{}{}
	livePools.Unlock()
	return fp
}

// livePools are the process's pools: the descriptor limit is the
// process's, so any of them may give up idle handles when it is reached.
var livePools = struct {
	sync.Mutex
	m map[*FilePool]struct{}
}{m: map[*FilePool]struct{}{}}

// Close retires the pool from the process's list of pools (RelieveAll).
// Stores using it keep working.
func (fp *FilePool) Close() {
	livePools.Lock()
	delete(livePools.m, fp)
	livePools.Unlock()
}

// RelieveAll closes the idle handles of every pool in the process (see
// Relieve), for when something else (a socket) met the descriptor limit.
// It returns how many it closed.
func RelieveAll() int {
	livePools.Lock()
	pools := make([]*FilePool, 0, len(livePools.m))
	for fp := range livePools.m {
		pools = append(pools, fp)
	}
	livePools.Unlock()
	n := 0
	for _, fp := range pools {
		n += fp.Relieve()
	}
	return n
}

// Max returns the pool's bound.
func (fp *FilePool) Max() int { return fp.max }

// Len returns the number of handles open in the pool now.
func (fp *FilePool) Len() int {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return fp.open
}

// FDWaits returns how many opens have met the process's file descriptor
// limit and had to wait for a handle to close.
func (fp *FilePool) FDWaits() int {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return fp.waits
}

// Relieve closes every idle handle, for when the process has run out of
// file descriptors elsewhere (a listener's accept met EMFILE). It returns
// how many it closed.
func (fp *FilePool) Relieve() int {
	fp.mu.Lock()
	toClose := fp.evictLocked(nil, 0)
	fp.mu.Unlock()
	fp.closeAll(toClose)
	return len(toClose)
}

// TooManyFiles reports whether err means the process or the system has no
// file descriptor left (EMFILE, ENFILE).
func TooManyFiles(err error) bool { return tooManyFiles(err) }

// handle is one open file (or a Store's directory) shared by every goroutine
// doing I/O on it. Reads and writes are positional, so sharing needs no
// lock; refs keeps the handle open while anyone uses it.
type handle struct {
	f        file     // an open file; nil for a directory handle
	root     *os.Root // a Store's download directory (pooled root)
	owner    *pool
	slot     int  // index into owner.slots
	writable bool // opened read-write (else read-only)
	refs     int  // users between acquire and release
	retired  bool // replaced or dropped; close when refs reaches 0
	elem     *list.Element
}

func (h *handle) closer() io.Closer {
	if h.root != nil {
		return h.root
	}
	return h.f
}

// slot is the per-file state of a Store's pool: the cached handle and a
// mutex that serialises opening and creating that one file (never held by
// the pool as a whole, so opening one file does not stall I/O on others).
type slot struct {
	openMu sync.Mutex
	h      *handle // guarded by FilePool.mu
}

// pool is one Store's view of a FilePool: a slot per file. Its bookkeeping
// is guarded by the FilePool's mutex; no I/O happens while it is held.
type pool struct {
	fp    *FilePool
	slots []slot
	shut  bool // guarded by fp.mu
}

// opener opens (and, for writes, creates) the file of a slot. It runs with
// the slot's openMu held.
type opener func(write bool) (f file, writable bool, err error)

func newPool(fp *FilePool, n int) *pool {
	return &pool{fp: fp, slots: make([]slot, n)}
}

// acquire returns an open handle for slot i, writable if write is set,
// opening it with open if no suitable handle is cached. The caller must
// release it.
func (p *pool) acquire(i int, write bool, open opener) (*handle, error) {
	return p.acquireWith(i, write, func(h *handle) error {
		f, writable, err := open(write)
		h.f, h.writable = f, writable
		return err
	})
}

// acquireRoot returns the handle of the directory in slot i, opening it
// with os.OpenRoot(dir) if it is not cached.
func (p *pool) acquireRoot(i int, dir string) (*handle, error) {
	return p.acquireWith(i, false, func(h *handle) error {
		r, err := os.OpenRoot(dir)
		h.root, h.writable = r, true
		return err
	})
}

func (p *pool) acquireWith(i int, write bool, open func(*handle) error) (*handle, error) {
	if h, err := p.cached(i, write); h != nil || err != nil {
		return h, err
	}
	s := &p.slots[i]
	s.openMu.Lock()
	defer s.openMu.Unlock()
	// Another goroutine may have opened it while we waited.
	if h, err := p.cached(i, write); h != nil || err != nil {
		return h, err
	}
	h := &handle{owner: p, slot: i, refs: 1}
	err := p.fp.retry(func() error { return open(h) }, p.isShut)
	if err != nil {
		if p.isShut() {
			return nil, ErrClosed // the directory was closed under us
		}
		return nil, err
	}
	fp := p.fp
	fp.mu.Lock()
	if p.shut {
		fp.mu.Unlock()
		h.closer().Close()
		return nil, ErrClosed
	}
	var toClose []io.Closer
	if old := s.h; old != nil {
		// A read-only handle replaced by a writable one.
		toClose = fp.retireLocked(old, toClose)
	}
	s.h = h
	h.elem = fp.lru.PushFront(h)
	fp.open++
	toClose = fp.evictLocked(toClose, fp.max)
	fp.mu.Unlock()
	fp.closeAll(toClose)
	return h, nil
}

func (p *pool) isShut() bool {
	p.fp.mu.Lock()
	defer p.fp.mu.Unlock()
	return p.shut
}

func (p *pool) cached(i int, write bool) (*handle, error) {
	fp := p.fp
	fp.mu.Lock()
	defer fp.mu.Unlock()
	if p.shut {
		return nil, ErrClosed
	}
	h := p.slots[i].h
	if h == nil || (write && !h.writable) {
		return nil, nil
	}
	h.refs++
	fp.lru.MoveToFront(h.elem)
	return h, nil
}

// release ends one use of h.
func (p *pool) release(h *handle) {
	fp := p.fp
	fp.mu.Lock()
	h.refs--
	var toClose []io.Closer
	if h.retired && h.refs == 0 {
		toClose = append(toClose, h.closer())
	} else {
		toClose = fp.evictLocked(nil, fp.max)
	}
	if h.refs == 0 {
		fp.signalLocked() // an EMFILE waiter may now evict it
	}
	fp.mu.Unlock()
	fp.closeAll(toClose)
}

// retireLocked removes h from the cache; it is closed now if unused, else
// by its last release. It returns toClose extended with what to close.
func (fp *FilePool) retireLocked(h *handle, toClose []io.Closer) []io.Closer {
	if h.retired {
		return toClose
	}
	h.retired = true
	fp.lru.Remove(h.elem)
	fp.open--
	if s := &h.owner.slots[h.slot]; s.h == h {
		s.h = nil
	}
	if h.refs == 0 {
		toClose = append(toClose, h.closer())
	}
	return toClose
}

// evictLocked retires idle handles of any Store, least recently used
// first, while more than max are open.
func (fp *FilePool) evictLocked(toClose []io.Closer, max int) []io.Closer {
	for e := fp.lru.Back(); e != nil && fp.open > max; {
		prev := e.Prev()
		if h := e.Value.(*handle); h.refs == 0 {
			toClose = fp.retireLocked(h, toClose)
		}
		e = prev
	}
	return toClose
}

// signalLocked wakes the opens waiting for a handle to close.
func (fp *FilePool) signalLocked() {
	close(fp.freed)
	fp.freed = make(chan struct{})
}

func (fp *FilePool) closeAll(cs []io.Closer) {
	for _, c := range cs {
		c.Close()
	}
	if len(cs) > 0 {
		fp.mu.Lock()
		fp.signalLocked()
		fp.mu.Unlock()
	}
}

// fdWait bounds how long an open waits for a file descriptor to free up
// before it fails.
const fdWait = time.Minute

// retry runs open, and while it fails because the process has no file
// descriptor left, closes the least recently used idle handle of the pool
// or waits for one to be released, and runs it again. It gives up after
// fdWait, or when stop reports true.
func (fp *FilePool) retry(open func() error, stop func() bool) error {
	err := open()
	if !tooManyFiles(err) {
		return err
	}
	deadline := time.Now().Add(fdWait)
	backoff := time.Millisecond
	for tooManyFiles(err) && time.Now().Before(deadline) && !stop() {
		fp.mu.Lock()
		fp.waits++
		toClose := fp.evictLocked(nil, fp.open-1) // one idle handle, if any
		wait := fp.freed
		fp.mu.Unlock()
		if len(toClose) > 0 {
			fp.closeAll(toClose)
		} else if RelieveAll() == 0 {
			// Every handle of every pool is in use, or the descriptors
			// are held elsewhere (sockets): wait for a release, or a
			// while.
			t := time.NewTimer(backoff)
			select {
			case <-wait:
			case <-t.C:
			}
			t.Stop()
			backoff = min(2*backoff, 250*time.Millisecond)
		}
		err = open()
	}
	return err
}

// tooManyFiles reports whether err means the process or the system has no
// file descriptor left.
func tooManyFiles(err error) bool {
	return err != nil && (errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE))
}

// drop retires every cached handle (of slot i, or all when i < 0), so the
// next access opens the file afresh and sees it as it is on disk now.
func (p *pool) drop(i int) {
	p.dropIf(func(j int) bool { return i < 0 || j == i })
}

func (p *pool) dropIf(match func(int) bool) {
	fp := p.fp
	fp.mu.Lock()
	var toClose []io.Closer
	for j := range p.slots {
		if match(j) && p.slots[j].h != nil {
			toClose = fp.retireLocked(p.slots[j].h, toClose)
		}
	}
	fp.mu.Unlock()
	fp.closeAll(toClose)
}

// close retires everything and refuses further acquires. Handles still in
// use are closed by their last release.
func (p *pool) close() {
	p.drop(-1)
	p.fp.mu.Lock()
	p.shut = true
	p.fp.mu.Unlock()
}

// numOpen reports the number of handles this Store has cached (for tests).
func (p *pool) numOpen() int {
	p.fp.mu.Lock()
	defer p.fp.mu.Unlock()
	n := 0
	for i := range p.slots {
		if p.slots[i].h != nil {
			n++
		}
	}
	return n
}

// openExisting opens name read-write, or read-only if the file system
// refuses writing (read-only data being seeded).
func openExisting(fsys fileSystem, name string) (file, bool, error) {
	f, err := fsys.OpenFile(name, os.O_RDWR, 0)
	if err == nil {
		return f, true, nil
	}
	if !errors.Is(err, fs.ErrPermission) && !errors.Is(err, errReadOnlyFS) {
		return nil, false, err
	}
	f, err = fsys.OpenFile(name, os.O_RDONLY, 0)
	return f, false, err
}
