package metainfo_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bt-go/bt/metainfo"
)

// Parse a .torrent file and walk its layout: files with their indices and
// the file ranges of a piece.
func ExampleParse() {
	m, err := metainfo.LoadFile("testdata/libtorrent/sample.torrent")
	if err != nil {
		log.Fatal(err)
	}
	l := m.Info.Layout()
	fmt.Println("info hash:", m.InfoHash)
	fmt.Println("pieces:", l.NumPieces, "of", l.PieceLength, "bytes")
	for _, f := range l.Files {
		first, end := l.FilePieces(f.Index)
		fmt.Printf("%d %s %d bytes, pieces [%d,%d)\n", f.Index, strings.Join(f.Path, "/"), f.Length, first, end)
	}
	for _, s := range l.PieceSpans(0) {
		fmt.Printf("piece 0 covers file %d bytes [%d,%d)\n", s.File, s.Offset, s.Offset+s.Length)
	}
	// Output:
	// info hash: 58d8d15a4eb3bd9afabc9cee2564f78192777edb
	// pieces: 2 of 16384 bytes
	// 0 sample/text_file2.txt 25 bytes, pieces [0,1)
	// 1 sample/.____padding_file/0 16359 bytes, pieces [0,1)
	// 2 sample/text_file.txt 20 bytes, pieces [1,2)
	// piece 0 covers file 0 bytes [0,25)
	// piece 0 covers file 1 bytes [0,16359)
}

// Parse a magnet link and write it back.
func ExampleParseMagnet() {
	m, err := metainfo.ParseMagnet("magnet:?xt=urn:btih:YD62D3NP3PN3SZCDIJHAWOEZV5YVTUIO&dn=My%20File&tr=udp%3A%2F%2Ftracker.example%3A80&so=0,2-3")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.InfoHash)
	fmt.Println(m.Name, m.Trackers, m.SelectOnly)
	fmt.Println(m)
	// Output:
	// c0fda1edafdbdbb96443424e0b3899af7159d10e
	// My File [udp://tracker.example:80] [{0 0} {2 3}]
	// magnet:?xt=urn:btih:c0fda1edafdbdbb96443424e0b3899af7159d10e&dn=My%20File&tr=udp%3A%2F%2Ftracker.example%3A80&so=0,2-3
}

// Create a torrent of a directory and write it as a .torrent file.
func ExampleCreate() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	root := filepath.Join(dir, "notes")
	os.MkdirAll(filepath.Join(root, "2024"), 0o755)
	os.WriteFile(filepath.Join(root, "2024", "jan.txt"), []byte("January\n"), 0o644)
	os.WriteFile(filepath.Join(root, "readme.txt"), []byte("Notes, one file a month.\n"), 0o644)

	m, err := metainfo.Create(context.Background(), root, metainfo.CreateOptions{
		Trackers:     [][]string{{"http://tracker.example/announce"}},
		CreationDate: time.Unix(1700000000, 0),
	})
	if err != nil {
		log.Fatal(err)
	}
	data, err := m.Marshal()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.torrent"), data, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Info.Name, m.InfoHash, m.Info.PieceLength)
	for _, f := range m.Info.Files {
		fmt.Println(f.Path, f.Length)
	}
	// Output:
	// notes 1cac06cd6006c8ea2ce9b62c2122c2b93969718c 16384
	// [2024 jan.txt] 8
	// [readme.txt] 25
}
