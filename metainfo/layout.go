package metainfo

import (
	"sort"
	"strconv"
	"strings"
)

// Layout maps the torrent's byte stream onto pieces and files: the files
// in torrent order, laid end to end, cut into pieces of PieceLength bytes
// (the last one may be shorter). A Layout is read-only once made.
type Layout struct {
	PieceLength int64       // bytes in each piece but the last
	TotalLength int64       // bytes in the torrent, pad files included
	NumPieces   int         // number of pieces
	Files       []FileEntry // every file in torrent order, pad files and symlinks included
}

// FileEntry is one file of a Layout.
type FileEntry struct {
	// Index is the file's position in the torrent (and in Layout.Files).
	Index int
	// Path is where the file lives under the download directory, as safe
	// relative elements (see the package documentation): the torrent's
	// sanitized name first for a multi-file torrent, the name alone for a
	// single-file one. Paths are unique among files that are not pad files.
	Path []string
	// Length is the file's size in bytes (0 for a symlink).
	Length int64
	// Offset is where the file starts in the torrent's byte stream.
	Offset int64
	// Pad marks a BEP 47 padding file: its bytes are zeros, count in the
	// piece layout, and are never written to disk.
	Pad bool
	// Symlink marks a BEP 47 symbolic link. It takes no bytes in the
	// layout; bt never creates links on disk.
	Symlink bool
	// Attr is the file's raw BEP 47 attribute string ("x" executable,
	// "h" hidden, "p" pad, "l" symlink).
	Attr string
}

// Span is the part of one file that a piece covers.
type Span struct {
	File   int   // index in Layout.Files
	Offset int64 // offset in that file
	Length int64 // bytes of that file in the piece
}

// PieceSize returns the size of piece i: PieceLength except for a shorter
// last piece, and 0 when i is out of range.
func (l *Layout) PieceSize(i int) int64 {
	if i < 0 || i >= l.NumPieces {
		return 0
	}
	start := int64(i) * l.PieceLength
	return min(l.PieceLength, l.TotalLength-start)
}

// PieceOffset returns where piece i starts in the torrent's byte stream.
func (l *Layout) PieceOffset(i int) int64 { return int64(i) * l.PieceLength }

// PieceSpans returns the file ranges piece i covers, in order. Zero-length
// files are never part of a span; pad files are (their bytes are zeros).
// It returns nil when i is out of range.
func (l *Layout) PieceSpans(i int) []Span {
	size := l.PieceSize(i)
	if size == 0 {
		return nil
	}
	start := int64(i) * l.PieceLength
	end := start + size
	// First file that ends after start.
	f := sort.Search(len(l.Files), func(j int) bool {
		return l.Files[j].Offset+l.Files[j].Length > start
	})
	var spans []Span
	for ; f < len(l.Files) && l.Files[f].Offset < end; f++ {
		fe := &l.Files[f]
		if fe.Length == 0 {
			continue
		}
		from := max(start, fe.Offset)
		to := min(end, fe.Offset+fe.Length)
		spans = append(spans, Span{File: f, Offset: from - fe.Offset, Length: to - from})
	}
	return spans
}

// FilePieces returns the pieces [first, end) that file f touches. A
// zero-length file touches none: first == end.
func (l *Layout) FilePieces(f int) (first, end int) {
	if f < 0 || f >= len(l.Files) || l.PieceLength <= 0 {
		return 0, 0
	}
	fe := &l.Files[f]
	first = int(fe.Offset / l.PieceLength)
	if fe.Length == 0 {
		first = min(first, l.NumPieces)
		return first, first
	}
	end = int((fe.Offset+fe.Length-1)/l.PieceLength) + 1
	return first, end
}

// newLayout builds the layout of a validated info dictionary. name is the
// sanitized torrent name.
func newLayout(info *Info, name string, windows bool) *Layout {
	l := &Layout{PieceLength: info.PieceLength}
	if info.Files == nil {
		l.Files = []FileEntry{{Path: []string{name}, Length: info.Length}}
		l.TotalLength = info.Length
	} else {
		l.Files = make([]FileEntry, len(info.Files))
		// One backing array for every path: the name plus each element.
		n := 0
		for i := range info.Files {
			n += 1 + max(len(info.Files[i].Path), 2)
		}
		elems := make([]string, 0, n)
		var off int64
		for i := range info.Files {
			f := &info.Files[i]
			fe := FileEntry{Index: i, Offset: off, Length: f.Length, Attr: f.Attr, Pad: f.isPad(), Symlink: f.isSymlink()}
			if fe.Symlink {
				fe.Length = 0
			}
			start := len(elems)
			elems = append(elems, name)
			if fe.Pad && len(f.Path) == 0 {
				elems = append(elems, ".pad", strconv.FormatInt(f.Length, 10))
			} else {
				elems = appendSanitized(elems, f.Path, windows)
			}
			fe.Path = elems[start:len(elems):len(elems)]
			off += fe.Length
			l.Files[i] = fe
		}
		l.TotalLength = off
		dedupe(l.Files, foldCase)
	}
	if l.PieceLength > 0 {
		l.NumPieces = int((l.TotalLength + l.PieceLength - 1) / l.PieceLength)
	}
	return l
}

// dedupe renames files whose path repeats an earlier file's path or names
// a directory that holds another file: "a.txt" becomes "a.1.txt", then
// "a.2.txt", and so on. Pad files take no part: they are never on disk.
// With fold, names differing only in case clash too. Directories are
// numbered nodes, so the work is linear in the paths' size however deep or
// repetitive they are.
func dedupe(files []FileEntry, fold bool) {
	type key struct {
		dir  int // the parent directory's node number; 0 is the top
		name string
	}
	dirs := make(map[key]int)
	parent := make([]int, len(files))
	for i := range files {
		if files[i].Pad {
			continue
		}
		p := files[i].Path
		d := 0
		for _, e := range p[:len(p)-1] {
			k := key{d, foldName(e, fold)}
			n, ok := dirs[k]
			if !ok {
				n = len(dirs) + 1
				dirs[k] = n
			}
			d = n
		}
		parent[i] = d
	}
	used := make(map[key]bool, len(files))
	next := make(map[key]int) // per clashing path, the next suffix to try
	taken := func(k key) bool {
		_, isDir := dirs[k]
		return used[k] || isDir
	}
	for i := range files {
		if files[i].Pad {
			continue
		}
		p := files[i].Path
		last := p[len(p)-1]
		k := key{parent[i], foldName(last, fold)}
		if taken(k) {
			orig := k
			for n := next[orig] + 1; ; n++ {
				name := renamed(last, n)
				k.name = foldName(name, fold)
				if !taken(k) {
					next[orig] = n
					files[i].Path = append(p[:len(p)-1:len(p)-1], name)
					break
				}
			}
		}
		used[k] = true
	}
}

// foldName returns the name as dedupe compares it.
func foldName(name string, fold bool) string {
	if fold {
		return strings.ToLower(name)
	}
	return name
}
