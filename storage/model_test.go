package storage

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/bt-go/bt/metainfo"
	"pgregory.net/rapid"
)

// TestModel runs random sequences of writes, reads, priority changes and
// reopenings against random layouts (zero-length and pad files, pieces
// spanning many files) and compares every read of written data with an
// in-memory copy of the torrent.
func TestModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pieceLength := rapid.Int64Range(1, 64).Draw(t, "pieceLength")
		n := rapid.IntRange(1, 6).Draw(t, "files")
		var specs []fspec
		for i := range n {
			f := fspec{path: fmt.Sprintf("t/f%d", i), length: rapid.Int64Range(0, 150).Draw(t, "length")}
			f.pad = i > 0 && rapid.IntRange(0, 4).Draw(t, "pad") == 0
			specs = append(specs, f)
		}
		l := makeLayout(pieceLength, specs...)
		if l.TotalLength == 0 {
			t.Skip("empty torrent")
		}
		base, err := os.MkdirTemp("", "storage-model")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(base)
		dir := filepath.Join(base, "d")

		model := make([]byte, l.TotalLength)
		written := make([]bool, l.TotalLength)
		for _, f := range l.Files {
			if f.Pad {
				for k := f.Offset; k < f.Offset+f.Length; k++ {
					written[k] = true // pads read as zeros
				}
			}
		}
		prios := make([]int, n)
		for i := range prios {
			prios[i] = 1
		}
		open := func() *Store {
			s, err := Open(dir, l, func(int) [20]byte { return [20]byte{} }, Options{FilePriorities: prios, MaxOpenFiles: 2})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return s
		}
		s := open()
		defer func() { s.Close() }()

		region := func() (int64, int64) {
			off := rapid.Int64Range(0, l.TotalLength-1).Draw(t, "off")
			return off, rapid.Int64Range(1, l.TotalLength-off).Draw(t, "len")
		}
		t.Repeat(map[string]func(*rapid.T){
			"write": func(t *rapid.T) {
				off, m := region()
				p := rapid.SliceOfN(rapid.Byte(), int(m), int(m)).Draw(t, "data")
				if _, err := s.WriteAt(p, off); err != nil {
					t.Fatalf("WriteAt(%d, %d): %v", off, m, err)
				}
				for k := range p {
					if inPad(l, off+int64(k)) {
						continue
					}
					model[off+int64(k)] = p[k]
					written[off+int64(k)] = true
				}
			},
			"read": func(t *rapid.T) {
				off, m := region()
				p := make([]byte, m)
				_, err := s.ReadAt(p, off)
				all := true
				for k := off; k < off+m; k++ {
					all = all && written[k]
				}
				if !all {
					if err != nil && !errors.Is(err, ErrNotPresent) {
						t.Fatalf("ReadAt(%d, %d): %v", off, m, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("ReadAt(%d, %d) of written data: %v", off, m, err)
				}
				if !bytes.Equal(p, model[off:off+m]) {
					t.Fatalf("ReadAt(%d, %d) = %x, want %x", off, m, p, model[off:off+m])
				}
			},
			"priority": func(t *rapid.T) {
				f := rapid.IntRange(0, n-1).Draw(t, "file")
				prio := rapid.IntRange(0, 2).Draw(t, "prio")
				if err := s.SetFilePriority(f, prio); err != nil {
					t.Fatalf("SetFilePriority(%d, %d): %v", f, prio, err)
				}
				prios[f] = prio
			},
			"reopen": func(t *rapid.T) {
				if err := s.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				s = open()
			},
			"": func(t *rapid.T) {
				// Invariants: skipped files in part mode are not on disk;
				// pad files never are; nothing is beside the directory.
				st, err := s.Stat()
				if err != nil {
					t.Fatal(err)
				}
				for i, fs := range st {
					if fs.InPart && fs.Exists {
						t.Fatalf("file %d in part mode exists on disk", i)
					}
					if l.Files[i].Pad && fs.Exists {
						t.Fatalf("pad file %d exists", i)
					}
				}
				if ents, _ := os.ReadDir(base); len(ents) != 1 {
					t.Fatalf("entries beside the download dir: %v", ents)
				}
			},
		})
	})
}

func inPad(l *metainfo.Layout, off int64) bool {
	for _, f := range l.Files {
		if f.Pad && off >= f.Offset && off < f.Offset+f.Length {
			return true
		}
	}
	return false
}
