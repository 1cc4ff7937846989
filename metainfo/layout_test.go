package metainfo

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestLayoutSpans(t *testing.T) {
	// Files of 5, 0, 20, 3 bytes in pieces of 8: pieces [0,8) [8,16) [16,24) [24,28).
	info := multiInfo(
		map[string]any{"path": []any{"a"}, "length": int64(5)},
		map[string]any{"path": []any{"empty"}, "length": int64(0)},
		map[string]any{"path": []any{"b"}, "length": int64(20)},
		map[string]any{"path": []any{"c"}, "length": int64(3)},
	)
	info["piece length"] = int64(8)
	info["pieces"] = strings.Repeat("p", 4*20)
	m, err := Parse(torrent(t, info, nil))
	if err != nil {
		t.Fatal(err)
	}
	l := m.Info.Layout()
	if l.NumPieces != 4 || l.PieceSize(3) != 4 || l.PieceSize(0) != 8 || l.PieceSize(4) != 0 || l.PieceSize(-1) != 0 {
		t.Fatalf("layout %+v", l)
	}
	want := []string{
		"[{0 0 5} {2 0 3}]",
		"[{2 3 8}]",
		"[{2 11 8}]",
		"[{2 19 1} {3 0 3}]",
	}
	for i, w := range want {
		if got := fmt.Sprint(l.PieceSpans(i)); got != w {
			t.Errorf("PieceSpans(%d) = %s, want %s", i, got, w)
		}
	}
	if l.PieceSpans(4) != nil {
		t.Error("spans past the end")
	}
	for f, w := range [][2]int{{0, 1}, {0, 0}, {0, 4}, {3, 4}} {
		first, end := l.FilePieces(f)
		if first != w[0] || end != w[1] {
			t.Errorf("FilePieces(%d) = [%d,%d), want [%d,%d)", f, first, end, w[0], w[1])
		}
	}
	if got := strings.Join(l.Files[1].Path, "/"); got != "dir/empty" {
		t.Errorf("path %q", got)
	}
}

// TestLayoutProperties checks the layout invariants on random file lists.
func TestLayoutProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		pl := rapid.Int64Range(1, 1<<12).Draw(rt, "pl")
		sizes := rapid.SliceOfN(rapid.Int64Range(0, 1<<13), 1, 30).Draw(rt, "sizes")
		files := make([]map[string]any, len(sizes))
		var total int64
		for i, s := range sizes {
			name := rapid.SampledFrom([]string{"a", "b", "..", "", "c.txt", "d/e"}).Draw(rt, "name")
			files[i] = map[string]any{"path": []any{name, fmt.Sprint(i % 3)}, "length": s}
			total += s
		}
		if total == 0 {
			files[0]["length"] = int64(1)
			total = 1
		}
		info := multiInfo(files...)
		info["piece length"] = pl
		info["pieces"] = strings.Repeat("q", int((total+pl-1)/pl)*20)
		m, err := Parse(torrent(rt, info, nil))
		if err != nil {
			rt.Fatal(err)
		}
		checkLayout(rt, m)
	})
}
