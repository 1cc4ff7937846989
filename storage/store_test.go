package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bt-go/bt/metainfo"
)

var layouts = []struct {
	name        string
	pieceLength int64
	files       []fspec
}{
	{"single, short last piece", 256, []fspec{{path: "a.bin", length: 1000}}},
	{"single, exact pieces", 256, []fspec{{path: "a.bin", length: 1024}}},
	{"single, one piece larger than the file", 64, []fspec{{path: "tiny", length: 10}}},
	{"piece spans three files", 100, []fspec{
		{path: "t/a", length: 30}, {path: "t/b", length: 40}, {path: "t/c", length: 50}, {path: "t/d", length: 300},
	}},
	{"many small files in one piece", 1 << 10, []fspec{
		{path: "t/1", length: 1}, {path: "t/2", length: 2}, {path: "t/3", length: 3}, {path: "t/x/4", length: 4},
		{path: "t/x/y/5", length: 5000},
	}},
	{"zero-length files", 64, []fspec{
		{path: "t/empty0", length: 0}, {path: "t/a", length: 150}, {path: "t/sub/empty", length: 0},
		{path: "t/b", length: 100}, {path: "t/z/empty2", length: 0},
	}},
	{"pad files", 64, []fspec{
		{path: "t/a", length: 100}, {pad: true, length: 28}, {path: "t/b", length: 128},
		{pad: true, length: 0}, {path: "t/c", length: 50},
	}},
}

// TestLayouts writes every piece of each layout in random order and checks
// the pieces, the files on disk and a reopened store.
func TestLayouts(t *testing.T) {
	for k, tc := range layouts {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := makeLayout(tc.pieceLength, tc.files...)
			data, hashes := torrentData(t, l, uint64(k))
			s := mustOpen(t, dir, l, hashes, Options{})

			for i := range l.NumPieces {
				ok, err := s.VerifyPiece(i)
				if ok || err != nil {
					t.Fatalf("VerifyPiece(%d) before writing = %v, %v; want false, nil", i, ok, err)
				}
			}
			r := rand.New(rand.NewPCG(uint64(k), 2))
			for _, i := range r.Perm(l.NumPieces) {
				if err := s.WritePiece(i, piece(l, data, i)); err != nil {
					t.Fatalf("WritePiece(%d): %v", i, err)
				}
			}
			if err := s.Sync(); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			checkAll(t, s, l, data)
			checkDisk(t, dir, l, data)
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}

			s = mustOpen(t, dir, l, hashes, Options{})
			checkAll(t, s, l, data)
		})
	}
}

// checkAll checks every piece with VerifyPiece and Check, the whole torrent
// with ReadAt and random blocks with ReadBlock.
func checkAll(t *testing.T, s *Store, l *metainfo.Layout, data []byte) {
	t.Helper()
	for i := range l.NumPieces {
		if ok, err := s.VerifyPiece(i); !ok || err != nil {
			t.Fatalf("VerifyPiece(%d) = %v, %v", i, ok, err)
		}
	}
	seen := 0
	err := s.Check(context.Background(), nil, func(i int, ok bool) {
		seen++
		if !ok {
			t.Errorf("Check: piece %d failed", i)
		}
	})
	if err != nil || seen != l.NumPieces {
		t.Fatalf("Check = %v after %d pieces, want nil after %d", err, seen, l.NumPieces)
	}
	got := make([]byte, l.TotalLength+10)
	n, err := s.ReadAt(got, 0)
	if int64(n) != l.TotalLength || err != io.EOF {
		t.Fatalf("ReadAt(all+10) = %d, %v; want %d, EOF", n, err, l.TotalLength)
	}
	if !bytes.Equal(got[:n], data) {
		t.Fatalf("ReadAt: data differs")
	}
	r := rand.New(rand.NewPCG(7, 7))
	for range 50 {
		i := r.IntN(l.NumPieces)
		size := s.PieceSize(i)
		begin := r.Int64N(size)
		p := make([]byte, r.Int64N(size-begin)+1)
		if err := s.ReadBlock(i, begin, p); err != nil {
			t.Fatalf("ReadBlock(%d, %d, %d): %v", i, begin, len(p), err)
		}
		off := int64(i)*l.PieceLength + begin
		if !bytes.Equal(p, data[off:off+int64(len(p))]) {
			t.Fatalf("ReadBlock(%d, %d, %d): data differs", i, begin, len(p))
		}
	}
}

// checkDisk compares the files under dir with the layout: real files hold
// their bytes, zero-length files exist, pad files do not.
func checkDisk(t *testing.T, dir string, l *metainfo.Layout, data []byte) {
	t.Helper()
	for _, f := range l.Files {
		name := filepath.Join(append([]string{dir}, f.Path...)...)
		got, err := os.ReadFile(name)
		if f.Pad {
			if err == nil {
				t.Errorf("pad file %s was created", name)
			}
			continue
		}
		if err != nil {
			t.Errorf("file %d: %v", f.Index, err)
			continue
		}
		if !bytes.Equal(got, data[f.Offset:f.Offset+f.Length]) {
			t.Errorf("file %d (%s): contents differ", f.Index, name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".pad")); err == nil {
		t.Errorf("pad directory was created")
	}
}

func TestNotPresent(t *testing.T) {
	l := makeLayout(100, fspec{path: "t/a", length: 150}, fspec{path: "t/b", length: 150})
	data, hashes := torrentData(t, l, 1)
	s := mustOpen(t, t.TempDir(), l, hashes, Options{})
	p := make([]byte, 100)
	err := s.ReadBlock(0, 0, p)
	if !errors.Is(err, ErrNotPresent) || Fatal(err) {
		t.Fatalf("ReadBlock of a missing file = %v; want ErrNotPresent, not fatal", err)
	}
	var se *Error
	if !errors.As(err, &se) || se.Path != "t/a" {
		t.Fatalf("error %v: want *Error for t/a", err)
	}
	// Piece 2 lies in t/b only; writing it creates t/b sparsely at full size.
	if err := s.WritePiece(2, piece(l, data, 2)); err != nil {
		t.Fatal(err)
	}
	if err := s.ReadBlock(1, 60, p[:20]); err != nil || !bytes.Equal(p[:20], make([]byte, 20)) {
		t.Fatalf("ReadBlock of a never-written region of an existing file = %v, %x; want zeros", err, p[:20])
	}
	var fails, oks int
	err = s.Check(context.Background(), []int{2, 1, 0, 1}, func(i int, ok bool) {
		if ok != (i == 2) {
			t.Errorf("Check: piece %d ok=%v", i, ok)
		}
		if ok {
			oks++
		} else {
			fails++
		}
	})
	if err != nil || oks != 1 || fails != 2 {
		t.Fatalf("Check = %v, %d ok, %d failed; want nil, 1, 2", err, oks, fails)
	}
}

func TestBadArguments(t *testing.T) {
	l := makeLayout(100, fspec{path: "a", length: 250})
	data, hashes := torrentData(t, l, 1)
	s := mustOpen(t, t.TempDir(), l, hashes, Options{})
	for _, err := range []error{
		s.WritePiece(3, nil),
		s.WritePiece(-1, nil),
		s.WritePiece(2, data[:100]), // the last piece is 50 bytes
		s.ReadBlock(0, 90, make([]byte, 11)),
		s.ReadBlock(0, -1, make([]byte, 1)),
		s.SetFilePriority(1, 0),
		s.SetFilePriority(0, -1),
		s.Check(context.Background(), []int{5}, func(int, bool) {}),
	} {
		if err == nil {
			t.Errorf("want an error")
		}
	}
	if _, err := s.ReadAt(make([]byte, 1), -1); err == nil {
		t.Errorf("ReadAt(-1): want an error")
	}
	if n, err := s.WriteAt(make([]byte, 1), 250); n != 0 || err != io.EOF {
		t.Errorf("WriteAt past the end = %d, %v; want 0, EOF", n, err)
	}
	s.Close()
	if err := s.WritePiece(0, data[:100]); !errors.Is(err, ErrClosed) {
		t.Errorf("WritePiece after Close = %v; want ErrClosed", err)
	}
}

func TestInvalidLayouts(t *testing.T) {
	good := func() *metainfo.Layout {
		return makeLayout(100, fspec{path: "t/a", length: 150}, fspec{path: "t/b", length: 150})
	}
	for _, tc := range []struct {
		name   string
		mangle func(l *metainfo.Layout)
	}{
		{"zero piece length", func(l *metainfo.Layout) { l.PieceLength = 0 }},
		{"wrong piece count", func(l *metainfo.Layout) { l.NumPieces++ }},
		{"gap", func(l *metainfo.Layout) { l.Files[1].Offset++ }},
		{"negative length", func(l *metainfo.Layout) { l.Files[0].Length = -1 }},
		{"wrong total", func(l *metainfo.Layout) { l.TotalLength++; l.NumPieces = 4 }},
		{"duplicate path", func(l *metainfo.Layout) { l.Files[1].Path = []string{"t", "a"} }},
		{"file as directory", func(l *metainfo.Layout) { l.Files[1].Path = []string{"t", "a", "b"} }},
		{"dot-dot", func(l *metainfo.Layout) { l.Files[0].Path = []string{"..", "x"} }},
		{"dot-dot inside", func(l *metainfo.Layout) { l.Files[0].Path = []string{"t", "..", "..", "x"} }},
		{"dot", func(l *metainfo.Layout) { l.Files[0].Path = []string{"."} }},
		{"absolute", func(l *metainfo.Layout) { l.Files[0].Path = []string{"/etc/passwd"} }},
		{"separator", func(l *metainfo.Layout) { l.Files[0].Path = []string{"t/../../x"} }},
		{"backslash", func(l *metainfo.Layout) { l.Files[0].Path = []string{"..\\x"} }},
		{"NUL", func(l *metainfo.Layout) { l.Files[0].Path = []string{"a\x00b"} }},
		{"empty element", func(l *metainfo.Layout) { l.Files[0].Path = []string{"t", ""} }},
		{"no path", func(l *metainfo.Layout) { l.Files[0].Path = nil }},
		{"part file name", func(l *metainfo.Layout) { l.Files[0].Path = []string{".p.parts"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := good()
			tc.mangle(l)
			s, err := Open(dir, l, func(int) [20]byte { return [20]byte{} }, Options{PartFile: ".p.parts"})
			if err == nil {
				s.Close()
				t.Fatalf("Open accepted the layout")
			}
			if strings.Contains(err.Error(), "%!") {
				t.Errorf("bad error text: %v", err)
			}
		})
	}
	if _, err := Open(t.TempDir(), nil, nil, Options{}); err == nil {
		t.Errorf("Open(nil layout): want an error")
	}
}

// TestDirty: a write makes the store dirty until the next Sync.
func TestDirty(t *testing.T) {
	l := makeLayout(64, fspec{path: "t/a", length: 100}, fspec{path: "t/sub/b", length: 100})
	data, hashes := torrentData(t, l, 9)
	s := mustOpen(t, t.TempDir(), l, hashes, Options{})
	if s.Dirty() {
		t.Fatal("dirty before any write")
	}
	for _, i := range []int{0, 2} {
		if err := s.WritePiece(i, piece(l, data, i)); err != nil {
			t.Fatal(err)
		}
		if !s.Dirty() {
			t.Fatalf("not dirty after writing piece %d", i)
		}
		if err := s.Sync(); err != nil {
			t.Fatal(err)
		}
		if s.Dirty() {
			t.Fatalf("dirty after Sync (piece %d)", i)
		}
	}
}
