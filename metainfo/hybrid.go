package metainfo

import (
	"fmt"
	"strings"

	"github.com/bt-go/bt/bencode"
)

// checkFileTree checks that the v2 file tree of a hybrid torrent (BEP 52)
// describes the same files as its v1 side: the same paths with the same
// lengths, pad files aside. bt downloads by the v1 side only, but a hybrid
// whose two sides disagree is a different torrent to v2 peers, so it is
// refused as libtorrent refuses it.
func checkFileTree(info *Info, raw bencode.RawMessage) error {
	if len(raw) == 0 {
		return fmt.Errorf("%w: meta version 2 without a file tree", ErrHybrid)
	}
	var tree map[string]any
	if err := bencode.Unmarshal(raw, &tree); err != nil {
		return fmt.Errorf("%w: file tree: %w", ErrHybrid, err)
	}
	v2 := make(map[string]int64)
	if err := walkTree(tree, nil, v2); err != nil {
		return err
	}
	v1 := make(map[string]int64)
	if info.Files == nil {
		v1[info.Name] = info.Length
	} else {
		for i := range info.Files {
			f := &info.Files[i]
			if f.isPad() || f.isSymlink() {
				continue
			}
			v1[strings.Join(f.Path, "/")] = f.Length
		}
	}
	if len(v1) != len(v2) {
		return fmt.Errorf("%w: %d files in v1, %d in v2", ErrHybrid, len(v1), len(v2))
	}
	for p, n := range v1 {
		m, ok := v2[p]
		if !ok {
			return fmt.Errorf("%w: %q is not in the v2 file tree", ErrHybrid, truncate(p, 80))
		}
		if m != n {
			return fmt.Errorf("%w: %q has length %d in v1, %d in v2", ErrHybrid, truncate(p, 80), n, m)
		}
	}
	return nil
}

// walkTree flattens a BEP 52 file tree into path → length. A file is a
// dict whose only key is "" holding {length, pieces root}; symlinks
// (attr l) are left out, as in the v1 comparison.
func walkTree(node map[string]any, prefix []string, out map[string]int64) error {
	if len(out) > MaxFiles {
		return fmt.Errorf("%w: more than %d files in the v2 file tree", ErrTooManyFiles, MaxFiles)
	}
	for name, v := range node {
		child, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%w: file tree entry %q is not a dictionary", ErrHybrid, truncate(name, 80))
		}
		if name == "" {
			if len(prefix) == 0 || len(node) != 1 {
				return fmt.Errorf("%w: misplaced file entry in the file tree", ErrHybrid)
			}
			length, ok := child["length"].(int64)
			if !ok || length < 0 {
				return fmt.Errorf("%w: file %q has no valid length in the file tree", ErrHybrid, truncate(strings.Join(prefix, "/"), 80))
			}
			if attr, _ := child["attr"].(string); strings.ContainsRune(attr, 'l') {
				continue
			}
			out[strings.Join(prefix, "/")] = length
			continue
		}
		if len(child) == 0 {
			return fmt.Errorf("%w: empty directory %q in the file tree", ErrHybrid, truncate(name, 80))
		}
		if err := walkTree(child, append(prefix[:len(prefix):len(prefix)], name), out); err != nil {
			return err
		}
	}
	return nil
}
