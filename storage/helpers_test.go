package storage

import (
	"crypto/sha1"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bt-go/bt/metainfo"
)

// fspec is one file of a test layout: a slash path ("" or "pad" marks a pad
// file when pad is set) and a length.
type fspec struct {
	path   string
	length int64
	pad    bool
}

// makeLayout builds a metainfo.Layout from file specs, as metainfo.Info.Layout would.
func makeLayout(pieceLength int64, files ...fspec) *metainfo.Layout {
	l := &metainfo.Layout{PieceLength: pieceLength}
	for i, f := range files {
		fe := metainfo.FileEntry{Index: i, Length: f.length, Offset: l.TotalLength, Pad: f.pad}
		if f.pad {
			fe.Path = []string{".pad", "x"}
		} else {
			fe.Path = strings.Split(f.path, "/")
		}
		l.Files = append(l.Files, fe)
		l.TotalLength += f.length
	}
	l.NumPieces = int((l.TotalLength + pieceLength - 1) / pieceLength)
	return l
}

// torrentData makes random contents for a layout, with zeros in pad files,
// and its piece hashes.
func torrentData(t testing.TB, l *metainfo.Layout, seed uint64) ([]byte, func(int) [20]byte) {
	t.Helper()
	var key [32]byte
	key[0], key[1] = byte(seed), byte(seed>>8)
	data := make([]byte, l.TotalLength)
	rand.NewChaCha8(key).Read(data)
	for _, f := range l.Files {
		if f.Pad {
			clear(data[f.Offset : f.Offset+f.Length])
		}
	}
	hashes := make([][20]byte, l.NumPieces)
	for i := range hashes {
		end := min(int64(i+1)*l.PieceLength, l.TotalLength)
		hashes[i] = sha1.Sum(data[int64(i)*l.PieceLength : end])
	}
	return data, func(i int) [20]byte { return hashes[i] }
}

func piece(l *metainfo.Layout, data []byte, i int) []byte {
	end := min(int64(i+1)*l.PieceLength, l.TotalLength)
	return data[int64(i)*l.PieceLength : end]
}

func mustOpen(t testing.TB, dir string, l *metainfo.Layout, hashes func(int) [20]byte, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, l, hashes, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
