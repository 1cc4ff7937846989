package resume

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/bt-go/bt/metainfo"
)

// DefaultDir returns the default state directory of the bt client:
// $XDG_STATE_HOME/bt, or ~/.local/state/bt when XDG_STATE_HOME is unset
// (XDG base directory rules), or os.UserConfigDir()/bt on systems without
// that convention (macOS, Windows, Plan 9).
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "bt"), nil
	}
	switch runtime.GOOS {
	case "darwin", "windows", "plan9", "ios", "android":
		d, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("resume: no state directory: %w", err)
		}
		return filepath.Join(d, "bt"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("resume: no state directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "bt"), nil
}

// Dir is a state directory: <infohash>.torrent and <infohash>.resume for
// each torrent a client keeps. Its methods may be called concurrently for
// different torrents; writes of one torrent's record must be serialised by
// the caller (the torrent's owner).
type Dir struct {
	Path string
}

// staleTemp is the age past which a temporary file of WriteFile is taken
// for a crash's leftover: a live writer renames its file within moments.
const staleTemp = 10 * time.Minute

// Open creates the state directory if needed and removes temporary files
// a crash left behind: those older than a few minutes, so that another
// process writing in the same directory keeps its own.
func Open(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("resume: state directory: %w", err)
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("resume: state directory: %w", err)
	}
	for _, e := range ents {
		if !strings.Contains(e.Name(), tmpInfix) || e.IsDir() {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
			os.Remove(filepath.Join(path, e.Name()))
		}
	}
	return &Dir{Path: path}, nil
}

// TorrentPath and ResumePath name a torrent's files.
func (d *Dir) TorrentPath(ih metainfo.Hash) string {
	return filepath.Join(d.Path, ih.String()+".torrent")
}

// ResumePath names the resume file of the torrent ih.
func (d *Dir) ResumePath(ih metainfo.Hash) string {
	return filepath.Join(d.Path, ih.String()+".resume")
}

// SaveTorrent records the metainfo of torrent ih (the bytes of a .torrent
// file), unless it is already recorded.
func (d *Dir) SaveTorrent(ih metainfo.Hash, torrent []byte) error {
	if _, err := os.Stat(d.TorrentPath(ih)); err == nil {
		return nil
	}
	return WriteFile(d.TorrentPath(ih), torrent, 0o600)
}

// Save writes the resume record of a torrent atomically.
func (d *Dir) Save(r *Data) error {
	p, err := r.Encode()
	if err != nil {
		return err
	}
	return WriteFile(d.ResumePath(r.InfoHash), p, 0o600)
}

// checkHash fails with ErrForeign unless the record is torrent ih's.
func (d *Data) checkHash(ih metainfo.Hash) error {
	if d.InfoHash != ih {
		return fmt.Errorf("%w: %v in the file of %v", ErrForeign, d.InfoHash, ih)
	}
	return nil
}

// Load reads the resume record of torrent ih (see ReadFile). It fails
// with ErrForeign if the file holds another torrent's record.
func (d *Dir) Load(ih metainfo.Hash) (*Data, error) {
	r, err := ReadFile(d.ResumePath(ih))
	if err != nil {
		return nil, err
	}
	if err := r.checkHash(ih); err != nil {
		return nil, err
	}
	return r, nil
}

// LoadTorrent reads the recorded metainfo of torrent ih; a missing one is
// an error satisfying errors.Is(err, fs.ErrNotExist).
func (d *Dir) LoadTorrent(ih metainfo.Hash) (*metainfo.MetaInfo, error) {
	mi, err := metainfo.LoadFile(d.TorrentPath(ih))
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	if mi.InfoHash != ih {
		return nil, fmt.Errorf("%w: %s holds %v", ErrForeign, d.TorrentPath(ih), mi.InfoHash)
	}
	return mi, nil
}

// List returns the info hashes of the torrents in the directory (those
// with a .torrent or a .resume file), sorted.
func (d *Dir) List() ([]metainfo.Hash, error) {
	ents, err := os.ReadDir(d.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("resume: state directory: %w", err)
	}
	seen := map[metainfo.Hash]bool{}
	var out []metainfo.Hash
	for _, e := range ents {
		name := e.Name()
		stem, ok := strings.CutSuffix(name, ".torrent")
		if !ok {
			stem, ok = strings.CutSuffix(name, ".resume")
		}
		if !ok || len(stem) != 40 || e.IsDir() {
			continue
		}
		ih, err := metainfo.ParseHash(stem)
		if err != nil || seen[ih] || stem != ih.String() {
			continue
		}
		seen[ih] = true
		out = append(out, ih)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// Remove forgets torrent ih: its .torrent and .resume files.
func (d *Dir) Remove(ih metainfo.Hash) error {
	var errs []error
	for _, p := range []string{d.ResumePath(ih), d.TorrentPath(ih)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	return syncDir(d.Path)
}
