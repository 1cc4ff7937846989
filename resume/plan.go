package resume

import (
	"fmt"

	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/storage"
)

// Files builds the Files of a record from the priorities and from the
// files as storage.Store.Stat describes them after a Sync.
func Files(layout *metainfo.Layout, prios []int, stats []storage.FileStat) []File {
	out := make([]File, len(layout.Files))
	for i, fe := range layout.Files {
		f := File{Length: fe.Length, Priority: 1}
		if i < len(prios) {
			f.Priority = prios[i]
		}
		if i < len(stats) {
			f = withStat(f, stats[i])
		}
		out[i] = f
	}
	return out
}

// PartFile converts storage.Store.PartStat's result for a record's Part.
func PartFile(st storage.FileStat) File { return withStat(File{}, st) }

func withStat(f File, st storage.FileStat) File {
	f.Exists, f.InPart = st.Exists, st.InPart
	if st.Exists {
		f.Size, f.ModTime = st.Size, st.ModTime
	}
	return f
}

// A Plan says how to start a torrent from a record.
type Plan struct {
	// Trusted are the recorded pieces whose files are unchanged: they are
	// had without checking.
	Trusted bitfield.Bitfield
	// Recheck are the pieces touching a changed file, in increasing order:
	// they must be hash-checked (whether recorded or not: a changed file
	// may hold new data as well as damaged data).
	Recheck []int
	// Changed are the indices of the files that changed.
	Changed []int
}

// Plan compares the record with the torrent (info hash ih, layout) and
// with its files as they are now (stats from storage.Store.Stat, part from
// PartStat). It fails with ErrForeign or ErrMismatch when the record does
// not belong to the torrent; the caller then checks everything.
func (d *Data) Plan(ih metainfo.Hash, layout *metainfo.Layout, stats []storage.FileStat, part storage.FileStat) (*Plan, error) {
	if d.InfoHash != ih {
		return nil, fmt.Errorf("%w: %v, not %v", ErrForeign, d.InfoHash, ih)
	}
	if d.Magnet != "" && len(d.Files) == 0 {
		return nil, fmt.Errorf("%w: recorded before the metadata was known", ErrMismatch)
	}
	if d.NumPieces != layout.NumPieces || d.PieceLength != layout.PieceLength ||
		d.Have.Len() != layout.NumPieces || len(d.Files) != len(layout.Files) {
		return nil, fmt.Errorf("%w: %d pieces of %d bytes and %d files, not %d of %d and %d",
			ErrMismatch, d.NumPieces, d.PieceLength, len(d.Files),
			layout.NumPieces, layout.PieceLength, len(layout.Files))
	}
	if len(stats) != len(layout.Files) {
		return nil, fmt.Errorf("resume: %d file stats for %d files", len(stats), len(layout.Files))
	}
	for i, fe := range layout.Files {
		if d.Files[i].Length != fe.Length {
			return nil, fmt.Errorf("%w: file %d is %d bytes, not %d", ErrMismatch, i, d.Files[i].Length, fe.Length)
		}
	}
	partChanged := !sameStat(d.Part, PartFile(part))
	p := &Plan{Trusted: d.Have.Clone()}
	recheck := bitfield.New(layout.NumPieces)
	for i, fe := range layout.Files {
		if fe.Pad || fe.Length == 0 {
			continue
		}
		rec, cur := d.Files[i], withStat(File{}, stats[i])
		first, end := layout.FilePieces(i)
		switch {
		case !cur.Exists && !cur.InPart:
			// Nowhere on disk: no piece touching it can be had, and
			// checking would only confirm that.
			for k := first; k < end; k++ {
				p.Trusted.Clear(k)
			}
			if rec.Exists || rec.InPart {
				p.Changed = append(p.Changed, i)
			}
		case !sameStat(rec, cur) || (cur.InPart || rec.InPart) && partChanged:
			p.Changed = append(p.Changed, i)
			for k := first; k < end; k++ {
				recheck.Set(k)
			}
		}
	}
	for k := recheck.Next(0); k >= 0; k = recheck.Next(k + 1) {
		if p.Trusted.Has(k) || !pieceMissing(layout, k, stats) {
			p.Recheck = append(p.Recheck, k)
		}
		p.Trusted.Clear(k)
	}
	return p, nil
}

// pieceMissing reports whether piece k touches a file that is nowhere on
// disk, so that a check of it would certainly fail.
func pieceMissing(layout *metainfo.Layout, k int, stats []storage.FileStat) bool {
	for _, sp := range layout.PieceSpans(k) {
		fe := layout.Files[sp.File]
		if fe.Pad || fe.Length == 0 {
			continue
		}
		if st := stats[sp.File]; !st.Exists && !st.InPart {
			return true
		}
	}
	return false
}

// sameStat reports whether a file looks the same on disk as recorded.
func sameStat(a, b File) bool {
	if a.Exists != b.Exists || a.InPart != b.InPart {
		return false
	}
	return !a.Exists || a.Size == b.Size && a.ModTime.Equal(b.ModTime)
}
