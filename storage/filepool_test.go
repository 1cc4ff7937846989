package storage

import "testing"

// TestSharedPool runs many Stores of several files on one small FilePool:
// every piece is written and verified, and no more handles than the bound
// stay open, the download directories included.
func TestSharedPool(t *testing.T) {
	fp := NewFilePool(5)
	var stores []*Store
	var datas [][]byte
	l := makeLayout(64, fspec{path: "d/a", length: 100}, fspec{path: "d/b", length: 100}, fspec{path: "d/c", length: 100})
	for k := range 30 {
		data, hashes := torrentData(t, l, uint64(100+k))
		s := mustOpen(t, t.TempDir(), l, hashes, Options{Files: fp})
		stores = append(stores, s)
		datas = append(datas, data)
	}
	for k, s := range stores {
		for i := range l.NumPieces {
			must(t, s.WritePiece(i, piece(l, datas[k], i)))
		}
		if n := fp.Len(); n > fp.Max() {
			t.Fatalf("%d handles open, bound %d", n, fp.Max())
		}
	}
	for _, s := range stores {
		must(t, s.Sync())
		verify(t, s, []int{0, 1, 2, 3, 4}, true)
	}
	if n := fp.Len(); n > fp.Max() {
		t.Fatalf("%d handles open after the checks, bound %d", n, fp.Max())
	}
	for _, s := range stores {
		must(t, s.Close())
	}
	if n := fp.Len(); n != 0 {
		t.Fatalf("%d handles open after every Store closed", n)
	}
}

// TestSharedPoolIdleStore: a Store opened on a shared pool holds no file
// descriptor but its directory's until it does I/O, and loses them to busier Stores.
func TestSharedPoolIdleStore(t *testing.T) {
	fp := NewFilePool(2)
	l := makeLayout(64, fspec{path: "x", length: 64})
	data, hashes := torrentData(t, l, 7)
	a := mustOpen(t, t.TempDir(), l, hashes, Options{Files: fp})
	if n := a.pool.numOpen(); n > 1 {
		t.Fatalf("a fresh Store holds %d handles, want at most its directory", n)
	}
	must(t, a.WritePiece(0, data))
	for k := range 4 {
		b := mustOpen(t, t.TempDir(), l, hashes, Options{Files: fp})
		must(t, b.WritePiece(0, data))
		if k == 3 && a.pool.numOpen() != 0 {
			t.Fatalf("the idle Store still holds %d handles", a.pool.numOpen())
		}
	}
	verify(t, a, []int{0}, true)
}
