package metainfo

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
)

// torrent500 is a realistic multi-file torrent: 500 files with two-level
// paths, three tracker tiers, about 100 KB (half of it piece hashes).
func torrent500(b testing.TB) []byte {
	files := make([]map[string]any, 500)
	for i := range files {
		files[i] = map[string]any{
			"path":   []any{fmt.Sprintf("Disc %d", i/50+1), fmt.Sprintf("%03d - Some Track Title Here.flac", i)},
			"length": int64(3_000_000 + i*7919),
		}
	}
	var total int64
	list := make([]any, len(files))
	for i, f := range files {
		total += f["length"].(int64)
		list[i] = f
	}
	const pl = 1 << 20
	info := map[string]any{"name": "Album", "files": list, "piece length": int64(pl),
		"pieces": strings.Repeat("h", int((total+pl-1)/pl)*20)}
	return torrent(b, info, map[string]any{
		"announce":      "http://tracker.example/announce",
		"announce-list": []any{[]any{"http://tracker.example/announce"}, []any{"udp://a.example:80", "udp://b.example:80"}, []any{"udp://c.example:6969"}},
		"comment":       "benchmark", "created by": "bt/0.1", "creation date": int64(1700000000),
	})
}

// BenchmarkParse500 parses a 500-file torrent: decode, validate, layout.
func BenchmarkParse500(b *testing.B) {
	data := torrent500(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPieceSpans looks up the file spans of every piece of the
// 500-file torrent.
func BenchmarkPieceSpans(b *testing.B) {
	m, err := Parse(torrent500(b))
	if err != nil {
		b.Fatal(err)
	}
	l := m.Info.Layout()
	b.ReportAllocs()
	for b.Loop() {
		for i := range l.NumPieces {
			_ = l.PieceSpans(i)
		}
	}
}

func BenchmarkParseMagnet(b *testing.B) {
	uri := "magnet:?xt=urn:btih:c0fda1edafdbdbb96443424e0b3899af7159d10e&dn=Some%20Name&tr=http%3A%2F%2Ftracker.example%2Fannounce&tr=udp%3A%2F%2Fa.example%3A80"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMagnet(uri); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreate hashes a 64 MiB file (from the page cache after the
// first run) with one worker and with one per core.
func BenchmarkCreate(b *testing.B) {
	p := b.TempDir() + "/data"
	if err := os.WriteFile(p, pattern(64<<20, 1), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(64 << 20)
			for b.Loop() {
				if _, err := Create(context.Background(), p, CreateOptions{Workers: workers}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
