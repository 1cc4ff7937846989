package metainfo

import (
	"context"
	"crypto/sha1"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bt-go/bt/bencode"
)

// DefaultCreatedBy is what Create writes in "created by" by default.
const DefaultCreatedBy = "bt/0.0.1"

// CreateOptions tunes Create. The zero value makes a public torrent with
// no trackers and an automatic piece length.
type CreateOptions struct {
	// Name overrides the torrent's name (default: the base name of path).
	Name string
	// PieceLength is the piece length in bytes; 0 picks one with
	// PieceLengthFor. A given length must be a power of two from 16 KiB to
	// MaxPieceLength.
	PieceLength int64
	// Trackers are the tracker tiers (BEP 12). The first URL also becomes
	// announce; announce-list is written when there is more than one URL.
	Trackers [][]string
	// WebSeeds are web seed URLs (BEP 19 url-list).
	WebSeeds []string
	// Private sets the BEP 27 private flag.
	Private bool
	// Comment and Source are written when not empty.
	Comment, Source string
	// CreatedBy defaults to DefaultCreatedBy.
	CreatedBy string
	// CreationDate defaults to now; NoCreationDate leaves it out (for
	// reproducible torrents).
	CreationDate   time.Time
	NoCreationDate bool
	// Workers is the number of hashing goroutines; 0 means GOMAXPROCS.
	Workers int
	// Progress, if not nil, is called from Create's goroutine with the
	// bytes hashed so far and the total, ending with done == total.
	Progress func(done, total int64)
}

// infoDict is the info dictionary as Create writes it.
type infoDict struct {
	Files       []fileDict `bencode:"files,omitempty"`
	Length      int64      `bencode:"length,omitempty"`
	Name        string     `bencode:"name"`
	PieceLength int64      `bencode:"piece length"`
	Pieces      []byte     `bencode:"pieces"`
	Private     int64      `bencode:"private,omitempty"`
	Source      string     `bencode:"source,omitempty"`
}

type fileDict struct {
	Length int64    `bencode:"length"`
	Path   []string `bencode:"path"`
}

// Create makes a torrent of the file or directory at path. A directory's
// regular files, found recursively, are sorted by path (element by
// element, byte order) and all included, hidden and empty ones too;
// symlinks to files are followed. Create fails, rather than skip anything,
// on a symlink to a directory, a special file (device, socket, pipe), a
// file that cannot be read, or a file that changes size while hashed. A
// directory without data is an error (ErrNoFiles).
func Create(ctx context.Context, path string, opts CreateOptions) (*MetaInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("metainfo: create: %w", err)
	}
	name := opts.Name
	if name == "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("metainfo: create: %w", err)
		}
		name = filepath.Base(abs)
	}
	var files []sourceFile
	single := st.Mode().IsRegular()
	switch {
	case single:
		files = []sourceFile{{osPath: path, path: []string{name}, size: st.Size()}}
	case st.IsDir():
		if files, err = scanDir(path); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("metainfo: create: %s is not a regular file or directory", path)
	}
	var total int64
	for _, f := range files {
		total += f.size
	}
	if total == 0 {
		return nil, fmt.Errorf("%w: %s holds no data", ErrNoFiles, path)
	}
	if len(files) > MaxFiles {
		return nil, fmt.Errorf("%w: %d files, more than %d", ErrTooManyFiles, len(files), MaxFiles)
	}
	pl := opts.PieceLength
	if pl == 0 {
		pl = PieceLengthFor(total)
	} else if pl < 16<<10 || pl > MaxPieceLength || pl&(pl-1) != 0 {
		return nil, fmt.Errorf("%w: %d is not a power of two from 16 KiB to 512 MiB", ErrPieceLength, pl)
	}
	if n := (total + pl - 1) / pl; n > MaxPieces {
		return nil, fmt.Errorf("%w: %d pieces of %d bytes, more than %d; use a larger piece length", ErrTooManyPieces, n, pl, MaxPieces)
	}
	pieces, err := hashPieces(ctx, files, total, pl, opts.Workers, opts.Progress)
	if err != nil {
		return nil, err
	}
	d := infoDict{Name: name, PieceLength: pl, Pieces: pieces, Source: opts.Source}
	if opts.Private {
		d.Private = 1
	}
	if single {
		d.Length = total
	} else {
		d.Files = make([]fileDict, len(files))
		for i, f := range files {
			d.Files[i] = fileDict{Length: f.size, Path: f.path}
		}
	}
	infoBytes, err := bencode.Marshal(&d)
	if err != nil {
		return nil, fmt.Errorf("metainfo: create: %w", err)
	}
	info, err := ParseInfo(infoBytes)
	if err != nil {
		return nil, fmt.Errorf("metainfo: create: %w", err)
	}
	m := &MetaInfo{Info: *info, InfoBytes: infoBytes, InfoHash: sha1.Sum(infoBytes)}
	m.setTrackers(opts.Trackers)
	m.URLList = slices.Clone(opts.WebSeeds)
	m.Comment = opts.Comment
	m.CreatedBy = opts.CreatedBy
	if m.CreatedBy == "" {
		m.CreatedBy = DefaultCreatedBy
	}
	if !opts.NoCreationDate {
		t := opts.CreationDate
		if t.IsZero() {
			t = time.Now()
		}
		m.CreationDate = t.Unix()
	}
	return m, nil
}

// setTrackers sets Announce and AnnounceList from tiers, dropping empty
// URLs and tiers.
func (m *MetaInfo) setTrackers(tiers [][]string) {
	var out [][]string
	n := 0
	for _, tier := range tiers {
		var t []string
		for _, u := range tier {
			if u = strings.TrimSpace(u); u != "" {
				t = append(t, u)
			}
		}
		if len(t) > 0 {
			out = append(out, t)
			n += len(t)
		}
	}
	if n == 0 {
		return
	}
	m.Announce = out[0][0]
	if n > 1 {
		m.AnnounceList = out
	}
}

// scanDir lists the files under dir, sorted by path.
func scanDir(dir string) ([]sourceFile, error) {
	var files []sourceFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("metainfo: create: %w", err)
		}
		if d.IsDir() {
			return nil
		}
		info, err := os.Stat(p) // follows symlinks
		if err != nil {
			return fmt.Errorf("metainfo: create: %w", err)
		}
		switch {
		case info.Mode().IsRegular():
		case info.IsDir():
			return fmt.Errorf("metainfo: create: %s is a symlink to a directory, which is not followed", p)
		default:
			return fmt.Errorf("metainfo: create: %s is not a regular file (%v)", p, info.Mode().Type())
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return fmt.Errorf("metainfo: create: %w", err)
		}
		files = append(files, sourceFile{osPath: p, path: strings.Split(filepath.ToSlash(rel), "/"), size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: %s has no files", ErrNoFiles, dir)
	}
	slices.SortFunc(files, func(a, b sourceFile) int { return slices.Compare(a.path, b.path) })
	return files, nil
}
