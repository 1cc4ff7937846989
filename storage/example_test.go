package storage_test

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"

	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/storage"
)

// album builds a small two-file torrent and its data: pieces of 16 bytes,
// piece 1 shared by both files.
func album() (*metainfo.Info, []byte) {
	data := []byte("first file, 20 bytessecond: 12 b")
	info := &metainfo.Info{
		Name:        "album",
		PieceLength: 16,
		Files: []metainfo.File{
			{Length: 20, Path: []string{"a.txt"}},
			{Length: 12, Path: []string{"b.txt"}},
		},
	}
	for off := 0; off < len(data); off += 16 {
		sum := sha1.Sum(data[off:min(off+16, len(data))])
		info.Pieces = append(info.Pieces, sum[:]...)
	}
	return info, data
}

// Write verified pieces, make them durable, then read a block back as a
// peer's request would.
func Example() {
	dir, _ := os.MkdirTemp("", "storage-example")
	defer os.RemoveAll(dir)
	info, data := album()
	layout := info.Layout()
	hashes := func(i int) [20]byte { return info.PieceHash(i) }

	s, err := storage.Open(dir, layout, hashes, storage.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	for i := range layout.NumPieces {
		piece := data[i*16 : min(i*16+16, len(data))]
		if err := s.WritePiece(i, piece); err != nil {
			log.Fatal(err) // storage.Fatal(err) is true: stop the torrent
		}
	}
	// Durable before the engine records the pieces as complete.
	if err := s.Sync(); err != nil {
		log.Fatal(err)
	}
	block := make([]byte, 8) // bytes 16-23: across the two files
	if err := s.ReadBlock(1, 0, block); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", block)
	b, _ := os.ReadFile(filepath.Join(dir, "album", "b.txt"))
	fmt.Printf("%q\n", b)
	// Output:
	// "ytesseco"
	// "second: 12 b"
}

// Check hash-checks existing data, as `bt seed` does before seeding.
func ExampleStore_Check() {
	dir, _ := os.MkdirTemp("", "storage-example")
	defer os.RemoveAll(dir)
	info, data := album()
	os.MkdirAll(filepath.Join(dir, "album"), 0o755)
	os.WriteFile(filepath.Join(dir, "album", "a.txt"), data[:20], 0o644)
	// b.txt is missing: pieces 1 and 2 fail.

	s, err := storage.Open(dir, info.Layout(), func(i int) [20]byte { return info.PieceHash(i) }, storage.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	var have []int
	err = s.Check(context.Background(), nil, func(i int, ok bool) {
		if ok {
			have = append(have, i)
		}
	})
	if err != nil {
		log.Fatal(err) // a fatal storage error, not missing data
	}
	sort.Ints(have)
	fmt.Println("verified pieces:", have)
	// Output: verified pieces: [0]
}

// A skipped file's share of a piece goes to the part file; raising its
// priority moves it into the real file.
func ExampleStore_SetFilePriority() {
	dir, _ := os.MkdirTemp("", "storage-example")
	defer os.RemoveAll(dir)
	info, data := album()
	s, err := storage.Open(dir, info.Layout(), func(i int) [20]byte { return info.PieceHash(i) },
		storage.Options{FilePriorities: []int{1, 0}}) // skip b.txt
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	// Piece 1 holds the end of a.txt and the start of b.txt.
	if err := s.WritePiece(1, data[16:32]); err != nil {
		log.Fatal(err)
	}
	_, err = os.Stat(filepath.Join(dir, "album", "b.txt"))
	fmt.Println("b.txt exists:", err == nil)
	ok, _ := s.VerifyPiece(1)
	fmt.Println("piece 1 verifies:", ok)

	if err := s.SetFilePriority(1, 1); err != nil {
		log.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "album", "b.txt"))
	fmt.Printf("b.txt: %q\n", b)
	// Output:
	// b.txt exists: false
	// piece 1 verifies: true
	// b.txt: "second: 12 b"
}

// Errors tell a missing piece from a reason to stop the torrent.
func ExampleFatal() {
	dir, _ := os.MkdirTemp("", "storage-example")
	defer os.RemoveAll(dir)
	info, _ := album()
	s, err := storage.Open(dir, info.Layout(), func(i int) [20]byte { return info.PieceHash(i) }, storage.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	err = s.ReadBlock(0, 0, make([]byte, 16))
	fmt.Println(errors.Is(err, storage.ErrNotPresent), storage.Fatal(err))
	// Output: true false
}
