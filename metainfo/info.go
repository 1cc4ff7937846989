package metainfo

import (
	"crypto/sha1"
	"fmt"
	"math/bits"
	"strings"
)

// Info is a torrent's info dictionary: what the info hash identifies.
type Info struct {
	// Name is the suggested name of the file (single-file torrent) or of
	// the top directory (multi-file torrent), as written in the torrent;
	// Layout gives the sanitized form.
	Name string
	// PieceLength is the number of bytes in each piece but the last.
	PieceLength int64
	// Pieces is the concatenation of the pieces' SHA-1 hashes.
	Pieces []byte
	// Length is the file's size in a single-file torrent; 0 otherwise.
	Length int64
	// Files lists the files of a multi-file torrent in torrent order,
	// BEP 47 pad files included; nil for a single-file torrent.
	Files []File
	// Private is the BEP 27 private flag: peers come only from trackers.
	Private bool
	// Source is the optional "source" string private trackers use to make
	// a torrent's info hash their own.
	Source string
	// Hybrid is true for a v1+v2 hybrid torrent (BEP 52: "meta version" 2
	// with a v1 side, as libtorrent 2.0 writes by default). bt uses its v1
	// side.
	Hybrid bool

	// hash is the info hash, set when the Info was parsed from bytes.
	hash Hash
	// layout is made once the Info is validated.
	layout *Layout
}

// File is one entry of a multi-file torrent's file list.
type File struct {
	// Length is the file's size in bytes.
	Length int64
	// Path is the file's path inside the torrent's directory, as written
	// in the torrent (raw, unsanitized). It may be empty for a pad file.
	Path []string
	// Attr holds BEP 47 attributes: p pad, l symlink, x executable, h hidden.
	Attr string
	// SymlinkPath is the target of a symlink (attr l), as written.
	SymlinkPath []string
}

// isPad reports whether f is a padding file: attr p, or the name old
// BitComet-style pad files carry.
func (f *File) isPad() bool {
	return strings.ContainsRune(f.Attr, 'p') ||
		(len(f.Path) > 0 && strings.HasPrefix(f.Path[len(f.Path)-1], "_____padding_file_"))
}

// isSymlink reports whether f is a symbolic link (attr l). A symlink
// occupies no bytes in the piece layout whatever its length says.
func (f *File) isSymlink() bool { return strings.ContainsRune(f.Attr, 'l') }

// NumPieces returns the number of pieces.
func (info *Info) NumPieces() int { return len(info.Pieces) / sha1.Size }

// PieceHash returns the SHA-1 hash of piece i. It panics if i is out of
// range, like an index expression.
func (info *Info) PieceHash(i int) Hash {
	return Hash(info.Pieces[i*sha1.Size : (i+1)*sha1.Size])
}

// TotalLength returns the torrent's size in bytes: the file's length, or
// the sum of the files' lengths (pad files included, symlinks excluded).
func (info *Info) TotalLength() int64 {
	if info.Files == nil {
		return info.Length
	}
	var n int64
	for i := range info.Files {
		if !info.Files[i].isSymlink() {
			n += info.Files[i].Length
		}
	}
	return n
}

// IsMultiFile reports whether the torrent has a file list (a directory)
// rather than a single file.
func (info *Info) IsMultiFile() bool { return info.Files != nil }

// Layout returns the piece ↔ file layout with sanitized, unique paths.
// For an Info from ParseInfo, Parse or Create it is computed once and
// shared: treat it as read-only. For an Info built by hand it is computed
// on each call and may be nil if the Info is invalid (see Validate).
func (info *Info) Layout() *Layout {
	if info.layout != nil {
		return info.layout
	}
	if info.Validate() != nil {
		return nil
	}
	return newLayout(info, info.displayName(), windowsRules)
}

// displayName is the sanitized torrent name; a name with nothing usable
// left (like "..") becomes the info hash in hex, or "_" if unknown.
func (info *Info) displayName() string {
	if s := sanitizeElement(info.Name, windowsRules); s != "" {
		return s
	}
	if !info.hash.IsZero() {
		return info.hash.String()
	}
	return "_"
}

// Validate checks the info dictionary's fields against each other and
// against the package limits (see the package documentation). ParseInfo
// and Parse call it; it is exported for an Info built by hand.
func (info *Info) Validate() error {
	_, err := info.validate()
	return err
}

// validate checks info and returns its total length.
func (info *Info) validate() (int64, error) {
	if info.Name == "" {
		return 0, fmt.Errorf("%w: the name is empty", ErrName)
	}
	if hasNUL(info.Name) {
		return 0, fmt.Errorf("%w: the name contains a NUL byte", ErrName)
	}
	switch pl := info.PieceLength; {
	case pl <= 0:
		return 0, fmt.Errorf("%w: %d is not positive", ErrPieceLength, pl)
	case pl > MaxPieceLength:
		return 0, fmt.Errorf("%w: %d is more than %d (512 MiB)", ErrPieceLength, pl, MaxPieceLength)
	case info.Hybrid && (bits.OnesCount64(uint64(pl)) != 1 || pl < 16<<10):
		return 0, fmt.Errorf("%w: %d in a hybrid torrent is not a power of two of at least 16 KiB", ErrPieceLength, pl)
	}
	var total int64
	if info.Files == nil {
		if info.Length < 0 {
			return 0, fmt.Errorf("%w: length %d is negative", ErrLength, info.Length)
		}
		total = info.Length
	} else {
		if len(info.Files) == 0 {
			return 0, fmt.Errorf("%w: the file list is empty", ErrNoFiles)
		}
		if len(info.Files) > MaxFiles {
			return 0, fmt.Errorf("%w: %d files, more than %d", ErrTooManyFiles, len(info.Files), MaxFiles)
		}
		if info.Length != 0 {
			return 0, fmt.Errorf("%w: both length and files are present", ErrLength)
		}
		for i := range info.Files {
			f := &info.Files[i]
			if f.Length < 0 {
				return 0, fmt.Errorf("%w: file %d has length %d", ErrLength, i, f.Length)
			}
			if len(f.Path) == 0 && !f.isPad() {
				return 0, fmt.Errorf("%w: file %d has no path", ErrPath, i)
			}
			if hasNUL(f.Path...) || hasNUL(f.SymlinkPath...) {
				return 0, fmt.Errorf("%w: file %d's path contains a NUL byte", ErrPath, i)
			}
			if err := checkPathSize(info.Name, f.Path); err != nil {
				return 0, fmt.Errorf("%w: file %d's %w", ErrPath, i, err)
			}
			if err := checkPathSize(info.Name, f.SymlinkPath); err != nil {
				return 0, fmt.Errorf("%w: file %d's symlink target's %w", ErrPath, i, err)
			}
			if f.isSymlink() {
				continue
			}
			if total > (1<<63-1)-f.Length {
				return 0, fmt.Errorf("%w: the total length overflows at file %d", ErrLength, i)
			}
			total += f.Length
		}
	}
	if total == 0 {
		return 0, fmt.Errorf("%w: the total length is 0", ErrNoFiles)
	}
	want := (total-1)/info.PieceLength + 1
	if want > MaxPieces {
		return 0, fmt.Errorf("%w: %d pieces, more than %d", ErrTooManyPieces, want, MaxPieces)
	}
	if len(info.Pieces)%sha1.Size != 0 {
		return 0, fmt.Errorf("%w: %d bytes is not a multiple of 20", ErrPieces, len(info.Pieces))
	}
	if got := int64(len(info.Pieces) / sha1.Size); got != want {
		return 0, fmt.Errorf("%w: %d piece hashes for %d bytes in pieces of %d (want %d)", ErrPieceCount, got, total, info.PieceLength, want)
	}
	if info.Hybrid && info.Files != nil {
		// BEP 52: in a hybrid torrent every file starts on a piece boundary.
		var off int64
		for i := range info.Files {
			f := &info.Files[i]
			if f.isSymlink() {
				continue
			}
			if !f.isPad() && f.Length > 0 && off%info.PieceLength != 0 {
				return 0, fmt.Errorf("%w: file %d does not start on a piece boundary", ErrHybrid, i)
			}
			off += f.Length
		}
	}
	return total, nil
}
