package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/bt-go/bt/metainfo"
)

// partLayout has a skipped middle file b sharing piece 1 with a and piece 4
// with c (piece length 100): a [0,150) b [150,450) c [450,600).
func partLayout() *metainfo.Layout {
	return makeLayout(100, fspec{path: "t/a", length: 150}, fspec{path: "t/b", length: 300}, fspec{path: "t/c", length: 150})
}

var wantedPieces = []int{0, 1, 4, 5} // the pieces holding bytes of a or c

func TestPartFile(t *testing.T) {
	dir := t.TempDir()
	l := partLayout()
	data, hashes := torrentData(t, l, 5)
	s := mustOpen(t, dir, l, hashes, Options{FilePriorities: []int{1, 0, 1}, InfoHash: [20]byte{0xab}})
	for _, i := range wantedPieces {
		must(t, s.WritePiece(i, piece(l, data, i)))
	}
	must(t, s.Sync())
	if _, err := os.Stat(filepath.Join(dir, "t", "b")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("skipped file was created: %v", err)
	}
	part := filepath.Join(dir, ".ab00000000000000000000000000000000000000.parts")
	if s.PartFileName() != filepath.Base(part) {
		t.Fatalf("PartFileName = %q", s.PartFileName())
	}
	if _, err := os.Stat(part); err != nil {
		t.Fatalf("part file: %v", err)
	}
	verify(t, s, wantedPieces, true)
	verify(t, s, []int{2, 3}, false)
	st, err := s.Stat()
	must(t, err)
	if !st[1].InPart || st[1].Exists || st[0].InPart || !st[0].Exists || st[0].Size != 150 {
		t.Fatalf("Stat = %+v", st)
	}
	if ps, err := s.PartStat(); err != nil || !ps.Exists || ps.Index != -1 || ps.Size != 450 {
		t.Fatalf("PartStat = %+v, %v; want an existing part file of 450 bytes", ps, err)
	}

	// Raising the priority moves b's share of pieces 1 and 4 into t/b.
	must(t, s.SetFilePriority(1, 3))
	if s.FilePriority(1) != 3 {
		t.Fatalf("FilePriority = %d", s.FilePriority(1))
	}
	if _, err := os.Stat(part); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("part file left behind: %v", err)
	}
	if ps, err := s.PartStat(); err != nil || ps.Exists {
		t.Fatalf("PartStat after the move = %+v, %v", ps, err)
	}
	verify(t, s, wantedPieces, true)
	for _, i := range []int{2, 3} {
		must(t, s.WritePiece(i, piece(l, data, i)))
	}
	must(t, s.Sync())
	checkAll(t, s, l, data)
	checkDisk(t, dir, l, data)

	// Skipping a file that is on disk leaves it there.
	must(t, s.SetFilePriority(1, 0))
	must(t, s.WritePiece(1, piece(l, data, 1)))
	if _, err := os.Stat(part); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("part file used for a file on disk: %v", err)
	}
	checkAll(t, s, l, data)
}

// TestPartFileReopen checks the part file outlives the Store: reopened with
// the file still skipped, the shared pieces verify; reopened with the file
// wanted, its bytes move into the real file at Open.
func TestPartFileReopen(t *testing.T) {
	dir := t.TempDir()
	l := makeLayout(100, fspec{path: "t/a", length: 150}, fspec{path: "t/b", length: 300},
		fspec{path: "t/c", length: 100}, fspec{path: "t/d", length: 150})
	data, hashes := torrentData(t, l, 6)
	// b and c skipped: piece 1 shares a|b, piece 5 shares c|d.
	prios := []int{1, 0, 0, 1}
	wanted := []int{0, 1, 5, 6}
	s := mustOpen(t, dir, l, hashes, Options{FilePriorities: prios})
	for _, i := range wanted {
		must(t, s.WritePiece(i, piece(l, data, i)))
	}
	must(t, s.Close())

	s = mustOpen(t, dir, l, hashes, Options{FilePriorities: prios})
	verify(t, s, wanted, true)
	must(t, s.Close())

	s = mustOpen(t, dir, l, hashes, Options{})
	if _, err := os.Stat(filepath.Join(dir, s.PartFileName())); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("part file left behind: %v", err)
	}
	verify(t, s, wanted, true)
	for _, f := range []string{"b", "c"} {
		if _, err := os.Stat(filepath.Join(dir, "t", f)); err != nil {
			t.Fatalf("file %s not created by the move: %v", f, err)
		}
	}
}

func verify(t *testing.T, s *Store, pieces []int, want bool) {
	t.Helper()
	for _, i := range pieces {
		ok, err := s.VerifyPiece(i)
		if err != nil || ok != want {
			t.Fatalf("VerifyPiece(%d) = %v, %v; want %v", i, ok, err, want)
		}
	}
	err := s.Check(context.Background(), pieces, func(i int, ok bool) {
		if ok != want {
			t.Errorf("Check: piece %d ok=%v, want %v", i, ok, want)
		}
	})
	must(t, err)
}

func TestAllZero(t *testing.T) {
	for n := range 20 {
		p := make([]byte, n)
		if !allZero(p) {
			t.Fatalf("allZero(%d zeros) = false", n)
		}
		for i := range n {
			p[i] = 1
			if allZero(p) {
				t.Fatalf("allZero with byte %d of %d set = true", i, n)
			}
			p[i] = 0
		}
	}
}
