package metainfo

import (
	"strings"
)

// checkLayout checks the invariants every Layout keeps: contiguous files,
// safe unique paths, spans that tile every piece.
func checkLayout(t tb, m *MetaInfo) {
	t.Helper()
	l := m.Info.Layout()
	if l == nil {
		t.Fatal("nil layout")
	}
	if l.NumPieces != m.Info.NumPieces() {
		t.Fatalf("layout has %d pieces, info %d", l.NumPieces, m.Info.NumPieces())
	}
	var off int64
	seen := map[string]bool{}
	for i, f := range l.Files {
		if f.Index != i || f.Offset != off {
			t.Fatalf("file %d: index %d offset %d, want offset %d", i, f.Index, f.Offset, off)
		}
		off += f.Length
		for _, e := range f.Path {
			if e == "" || e == "." || e == ".." || strings.ContainsAny(e, "/\\\x00") || len(e) > maxElement {
				t.Fatalf("file %d: unsafe element %q in %q", i, e, f.Path)
			}
		}
		if f.Pad {
			continue
		}
		key := strings.Join(f.Path, "/")
		if seen[key] {
			t.Fatalf("file %d: duplicate path %q", i, key)
		}
		seen[key] = true
	}
	if off != l.TotalLength {
		t.Fatalf("files sum to %d, total %d", off, l.TotalLength)
	}
	var covered int64
	for p := 0; p < l.NumPieces; p++ {
		var sum int64
		for _, s := range l.PieceSpans(p) {
			sum += s.Length
			fe := l.Files[s.File]
			if s.Offset < 0 || s.Length <= 0 || s.Offset+s.Length > fe.Length {
				t.Fatalf("piece %d: bad span %+v of file length %d", p, s, fe.Length)
			}
			if first, end := l.FilePieces(s.File); p < first || p >= end {
				t.Fatalf("piece %d spans file %d whose pieces are [%d,%d)", p, s.File, first, end)
			}
		}
		if sum != l.PieceSize(p) {
			t.Fatalf("piece %d: spans cover %d bytes, size %d", p, sum, l.PieceSize(p))
		}
		covered += sum
	}
	if covered != l.TotalLength {
		t.Fatalf("pieces cover %d bytes of %d", covered, l.TotalLength)
	}
}
