package storage

import (
	"context"
	"fmt"
	"testing"
)

// benchLayout is a 256 MiB single-file torrent of 256 KiB pieces.
func benchStore(b *testing.B) (*Store, []byte) {
	const pieceLength = 256 << 10
	l := makeLayout(pieceLength, fspec{path: "bench.bin", length: 256 << 20})
	buf := make([]byte, pieceLength)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	s := mustOpen(b, b.TempDir(), l, func(int) [20]byte { return [20]byte{} }, Options{})
	return s, buf
}

// BenchmarkWritePiece writes every piece of a 256 MiB file once per
// iteration (into the page cache; see BenchmarkWritePieceSync).
func BenchmarkWritePiece(b *testing.B) {
	s, buf := benchStore(b)
	b.SetBytes(int64(s.NumPieces()) * int64(len(buf)))
	for b.Loop() {
		for i := range s.NumPieces() {
			if err := s.WritePiece(i, buf); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkWritePieceSync is BenchmarkWritePiece with a Sync at the end of
// each pass: the throughput to the disk itself.
func BenchmarkWritePieceSync(b *testing.B) {
	s, buf := benchStore(b)
	b.SetBytes(int64(s.NumPieces()) * int64(len(buf)))
	for b.Loop() {
		for i := range s.NumPieces() {
			if err := s.WritePiece(i, buf); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Sync(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadBlock reads the whole file in 16 KiB blocks, as peers'
// requests do.
func BenchmarkReadBlock(b *testing.B) {
	s, buf := benchStore(b)
	for i := range s.NumPieces() {
		if err := s.WritePiece(i, buf); err != nil {
			b.Fatal(err)
		}
	}
	block := make([]byte, 16<<10)
	b.SetBytes(int64(s.NumPieces()) * int64(len(buf)))
	for b.Loop() {
		for i := range s.NumPieces() {
			for begin := int64(0); begin < int64(len(buf)); begin += int64(len(block)) {
				if err := s.ReadBlock(i, begin, block); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

// BenchmarkCheck hash-checks the whole 256 MiB file.
func BenchmarkCheck(b *testing.B) {
	s, buf := benchStore(b)
	for i := range s.NumPieces() {
		if err := s.WritePiece(i, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(s.NumPieces()) * int64(len(buf)))
	for b.Loop() {
		if err := s.Check(context.Background(), nil, func(int, bool) {}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadBlockParallel reads blocks from many goroutines at once
// across 16 files, to show the handle pool does not serialise I/O.
func BenchmarkReadBlockParallel(b *testing.B) {
	var files []fspec
	for i := range 16 {
		files = append(files, fspec{path: fmt.Sprintf("d/f%02d", i), length: 4 << 20})
	}
	l := makeLayout(256<<10, files...)
	s := mustOpen(b, b.TempDir(), l, func(int) [20]byte { return [20]byte{} }, Options{MaxOpenFiles: 8})
	buf := make([]byte, l.PieceLength)
	for i := range s.NumPieces() {
		if err := s.WritePiece(i, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(16 << 10)
	b.RunParallel(func(pb *testing.PB) {
		block := make([]byte, 16<<10)
		i := 0
		for pb.Next() {
			i = (i + 7) % s.NumPieces()
			if err := s.ReadBlock(i, 0, block); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
