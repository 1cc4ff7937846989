package storage

import (
	"container/list"
	"errors"
	"io/fs"
	"os"
	"sync"
)

// DefaultMaxOpenFiles is the default bound on open file handles per Store.
const DefaultMaxOpenFiles = 64

// handle is one open file shared by every goroutine doing I/O on it. Reads
// and writes are positional, so sharing needs no lock; refs keeps the handle
// open while anyone uses it.
type handle struct {
	f        file
	slot     int  // index into pool.slots
	writable bool // opened read-write (else read-only)
	refs     int  // users between acquire and release
	retired  bool // replaced or dropped; close when refs reaches 0
	elem     *list.Element
}

// slot is the per-file state of the pool: the cached handle and a mutex that
// serialises opening and creating that one file (never held by the pool as a
// whole, so opening one file does not stall I/O on the others).
type slot struct {
	openMu sync.Mutex
	h      *handle // guarded by pool.mu
}

// pool is a bounded LRU cache of open handles. mu guards only bookkeeping;
// no I/O happens while it is held.
type pool struct {
	fsys  fileSystem
	max   int
	mu    sync.Mutex
	slots []slot
	lru   list.List // of *handle, most recently used at the front
	open  int       // handles in lru
	shut  bool
}

// opener opens (and, for writes, creates) the file of a slot. It runs with
// the slot's openMu held.
type opener func(write bool) (f file, writable bool, err error)

func newPool(fsys fileSystem, n, max int) *pool {
	if max <= 0 {
		max = DefaultMaxOpenFiles
	}
	return &pool{fsys: fsys, max: max, slots: make([]slot, n)}
}

// acquire returns an open handle for slot i, writable if write is set,
// opening it with open if no suitable handle is cached. The caller must
// release it.
func (p *pool) acquire(i int, write bool, open opener) (*handle, error) {
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
	f, writable, err := open(write)
	if err != nil {
		p.mu.Lock()
		shut := p.shut
		p.mu.Unlock()
		if shut {
			return nil, ErrClosed // the directory was closed under us
		}
		return nil, err
	}
	h := &handle{f: f, slot: i, writable: writable, refs: 1}
	p.mu.Lock()
	if p.shut {
		p.mu.Unlock()
		f.Close()
		return nil, ErrClosed
	}
	var toClose []file
	if old := s.h; old != nil {
		// A read-only handle replaced by a writable one.
		toClose = p.retireLocked(old, toClose)
	}
	s.h = h
	h.elem = p.lru.PushFront(h)
	p.open++
	toClose = p.evictLocked(toClose)
	p.mu.Unlock()
	closeAll(toClose)
	return h, nil
}

func (p *pool) cached(i int, write bool) (*handle, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shut {
		return nil, ErrClosed
	}
	h := p.slots[i].h
	if h == nil || (write && !h.writable) {
		return nil, nil
	}
	h.refs++
	p.lru.MoveToFront(h.elem)
	return h, nil
}

// release ends one use of h.
func (p *pool) release(h *handle) {
	p.mu.Lock()
	h.refs--
	var toClose []file
	if h.retired && h.refs == 0 {
		toClose = append(toClose, h.f)
	} else {
		toClose = p.evictLocked(nil)
	}
	p.mu.Unlock()
	closeAll(toClose)
}

// retireLocked removes h from the cache; it is closed now if unused, else by
// its last release. It returns toClose extended with what to close.
func (p *pool) retireLocked(h *handle, toClose []file) []file {
	if h.retired {
		return toClose
	}
	h.retired = true
	p.lru.Remove(h.elem)
	p.open--
	if p.slots[h.slot].h == h {
		p.slots[h.slot].h = nil
	}
	if h.refs == 0 {
		toClose = append(toClose, h.f)
	}
	return toClose
}

// evictLocked retires idle handles, least recently used first, while more
// than max are open. Handles in use are never evicted, so the bound is soft
// when more goroutines than max do I/O at once.
func (p *pool) evictLocked(toClose []file) []file {
	for e := p.lru.Back(); e != nil && p.open > p.max; {
		prev := e.Prev()
		if h := e.Value.(*handle); h.refs == 0 {
			toClose = p.retireLocked(h, toClose)
		}
		e = prev
	}
	return toClose
}

// drop retires every cached handle (of slot i, or all when i < 0), so the
// next access opens the file afresh and sees it as it is on disk now.
func (p *pool) drop(i int) {
	p.mu.Lock()
	var toClose []file
	for j := range p.slots {
		if (i < 0 || j == i) && p.slots[j].h != nil {
			toClose = p.retireLocked(p.slots[j].h, toClose)
		}
	}
	p.mu.Unlock()
	closeAll(toClose)
}

// close retires everything and refuses further acquires. Handles still in
// use are closed by their last release.
func (p *pool) close() {
	p.drop(-1)
	p.mu.Lock()
	p.shut = true
	p.mu.Unlock()
}

// numOpen reports the number of handles currently cached (for tests).
func (p *pool) numOpen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open
}

func closeAll(fs []file) {
	for _, f := range fs {
		f.Close()
	}
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
