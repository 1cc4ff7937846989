package resume

import (
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/storage"
)

// TestPlanProperties: whatever changed on disk, a plan never trusts a
// piece the record did not hold or a piece touching a changed file, and
// every recorded piece is either trusted, rechecked, or touches a file that
// is gone.
func TestPlanProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pieceLen := int64(rapid.IntRange(1, 64).Draw(t, "pieceLen"))
		nf := rapid.IntRange(1, 8).Draw(t, "files")
		l := &metainfo.Layout{PieceLength: pieceLen}
		for i := range nf {
			n := int64(rapid.IntRange(0, 200).Draw(t, "len"))
			l.Files = append(l.Files, metainfo.FileEntry{Index: i, Path: []string{string(rune('a' + i))},
				Length: n, Offset: l.TotalLength, Pad: rapid.IntRange(0, 5).Draw(t, "pad") == 0})
			l.TotalLength += n
		}
		if l.TotalLength == 0 {
			return
		}
		l.NumPieces = int((l.TotalLength + pieceLen - 1) / pieceLen)
		base := time.Unix(1700000000, 0)
		stat := func(i int) storage.FileStat {
			switch rapid.IntRange(0, 3).Draw(t, "kind") {
			case 0:
				return storage.FileStat{Index: i}
			case 1:
				return storage.FileStat{Index: i, InPart: true}
			}
			return storage.FileStat{Index: i, Exists: true, Size: l.Files[i].Length, ModTime: base}
		}
		var was, now []storage.FileStat
		for i := range l.Files {
			was = append(was, stat(i))
			st := was[i]
			switch rapid.IntRange(0, 4).Draw(t, "change") {
			case 0:
				st = stat(i)
			case 1:
				st.ModTime = st.ModTime.Add(time.Second)
			case 2:
				st.Size++
			}
			now = append(now, st)
		}
		partWas := storage.FileStat{Index: -1, Exists: true, Size: l.TotalLength, ModTime: base}
		partNow := partWas
		if rapid.Bool().Draw(t, "part changed") {
			partNow.ModTime = base.Add(time.Second)
		}
		have := bitfield.New(l.NumPieces)
		for i := range l.NumPieces {
			if rapid.Bool().Draw(t, "have") {
				have.Set(i)
			}
		}
		d := &Data{PieceLength: pieceLen, NumPieces: l.NumPieces, Have: have,
			Files: Files(l, nil, was), Part: PartFile(partWas)}
		p, err := d.Plan(metainfo.Hash{}, l, now, partNow)
		if err != nil {
			t.Fatal(err)
		}
		changed := make([]bool, len(l.Files))
		for _, f := range p.Changed {
			changed[f] = true
		}
		recheck := bitfield.New(l.NumPieces)
		for _, i := range p.Recheck {
			recheck.Set(i)
		}
		for i := range l.NumPieces {
			gone, touchesChanged := false, false
			for _, sp := range l.PieceSpans(i) {
				fe := l.Files[sp.File]
				if fe.Pad || fe.Length == 0 {
					continue
				}
				if !now[sp.File].Exists && !now[sp.File].InPart {
					gone = true
				}
				w, n := withStat(File{}, was[sp.File]), withStat(File{}, now[sp.File])
				if !sameStat(w, n) || (w.InPart || n.InPart) && !sameStat(PartFile(partWas), PartFile(partNow)) {
					touchesChanged = true
					if !changed[sp.File] && (n.Exists || n.InPart) {
						t.Fatalf("file %d changed but not reported", sp.File)
					}
				}
			}
			tr := p.Trusted.Has(i)
			switch {
			case tr && !have.Has(i):
				t.Fatalf("piece %d trusted but not recorded", i)
			case tr && (touchesChanged || gone):
				t.Fatalf("piece %d trusted but touches a changed or missing file", i)
			case tr && recheck.Has(i):
				t.Fatalf("piece %d both trusted and rechecked", i)
			case have.Has(i) && !tr && !recheck.Has(i) && !gone:
				t.Fatalf("recorded piece %d neither trusted nor rechecked", i)
			case !have.Has(i) && !tr && !touchesChanged && recheck.Has(i):
				t.Fatalf("piece %d rechecked for no reason", i)
			}
		}
	})
}
