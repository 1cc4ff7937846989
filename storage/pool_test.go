package storage

import (
	"fmt"
	"testing"
)

// TestPoolLRU checks the least recently used idle handle is the one closed
// when the pool is full, and that data written through an evicted handle is
// still synced and read back.
func TestPoolLRU(t *testing.T) {
	var files []fspec
	for i := range 4 {
		files = append(files, fspec{path: fmt.Sprintf("f%d", i), length: 100})
	}
	l := makeLayout(100, files...)
	data, hashes := torrentData(t, l, 16)
	s := mustOpen(t, t.TempDir(), l, hashes, Options{MaxOpenFiles: 2})
	cachedSet := func() (set []int) {
		s.pool.fp.mu.Lock()
		defer s.pool.fp.mu.Unlock()
		for i := range files {
			if s.pool.slots[i].h != nil {
				set = append(set, i)
			}
		}
		return set
	}
	for _, i := range []int{0, 1, 0, 2} { // 1 is least recently used when 2 arrives
		must(t, s.WritePiece(i, piece(l, data, i)))
	}
	if got := fmt.Sprint(cachedSet()); got != "[0 2]" {
		t.Fatalf("cached handles %s, want [0 2]", got)
	}
	must(t, s.WritePiece(3, piece(l, data, 3)))
	if got := fmt.Sprint(cachedSet()); got != "[2 3]" {
		t.Fatalf("cached handles %s, want [2 3]", got)
	}
	must(t, s.Sync()) // reopens 0 and 1 to fsync them
	if n := s.pool.numOpen(); n > 2 {
		t.Fatalf("%d handles open after Sync, want at most 2", n)
	}
	verify(t, s, []int{0, 1, 2, 3}, true)

	// A handle in use is never closed: hold two, then open a third.
	h0, err := s.pool.acquire(0, false, s.opener("f0", -1))
	must(t, err)
	h1, err := s.pool.acquire(1, false, s.opener("f1", -1))
	must(t, err)
	must(t, s.WritePiece(2, piece(l, data, 2)))
	if _, err := h0.f.ReadAt(make([]byte, 1), 0); err != nil {
		t.Fatalf("a handle in use was closed: %v", err)
	}
	s.pool.release(h0)
	s.pool.release(h1)
	if n := s.pool.numOpen(); n > 2 {
		t.Fatalf("%d handles open after release, want at most 2", n)
	}
}
