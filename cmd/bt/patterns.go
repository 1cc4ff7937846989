package main

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/metainfo"
)

// selectFiles returns file priorities for a torrent's layout from --only
// and --skip style patterns: with only patterns, the files they match are
// at bt.PriorityNormal and every other file at bt.PrioritySkip; then files
// matching a skip pattern are skipped. A pattern is a file index as `bt
// info` shows it ("3"), a range of them ("2-5"), or a glob (path.Match
// syntax) matched against the file's path within the torrent (without the
// torrent's name for a multi-file torrent), against that path with the
// name, and against its base name. A pattern that matches no file is an
// error, so that a typo does not silently download everything.
func selectFiles(layout *metainfo.Layout, multiFile bool, only, skip []string) ([]int, error) {
	prios := make([]int, len(layout.Files))
	def := bt.PriorityNormal
	if len(only) > 0 {
		def = bt.PrioritySkip
	}
	for i := range prios {
		prios[i] = def
	}
	apply := func(pats []string, prio int) error {
		for _, pat := range pats {
			n, err := matchFiles(layout, multiFile, pat, func(i int) { prios[i] = prio })
			if err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("pattern %q matches no file", pat)
			}
		}
		return nil
	}
	if err := apply(only, bt.PriorityNormal); err != nil {
		return nil, err
	}
	if err := apply(skip, bt.PrioritySkip); err != nil {
		return nil, err
	}
	return prios, nil
}

// matchFiles calls fn for each (non-pad) file pat matches and returns how
// many it matched.
func matchFiles(layout *metainfo.Layout, multiFile bool, pat string, fn func(int)) (int, error) {
	if first, last, ok := indexRange(pat); ok {
		if first < 0 || last >= len(layout.Files) || first > last {
			return 0, fmt.Errorf("file index %q out of range [0,%d)", pat, len(layout.Files))
		}
		n := 0
		for i := first; i <= last; i++ {
			if !layout.Files[i].Pad {
				fn(i)
				n++
			}
		}
		return n, nil
	}
	if _, err := path.Match(pat, ""); err != nil {
		return 0, fmt.Errorf("bad pattern %q: %w", pat, err)
	}
	n := 0
	for i, fe := range layout.Files {
		if fe.Pad {
			continue
		}
		full := strings.Join(fe.Path, "/")
		rel := full
		if multiFile && len(fe.Path) > 1 {
			rel = strings.Join(fe.Path[1:], "/")
		}
		for _, s := range []string{rel, full, fe.Path[len(fe.Path)-1]} {
			if ok, _ := path.Match(pat, s); ok || pat == s {
				fn(i)
				n++
				break
			}
		}
	}
	return n, nil
}

// indexRange parses "N" or "N-M".
func indexRange(s string) (first, last int, ok bool) {
	a, b, isRange := strings.Cut(s, "-")
	first, err := strconv.Atoi(a)
	if err != nil {
		return 0, 0, false
	}
	if !isRange {
		return first, first, true
	}
	last, err = strconv.Atoi(b)
	if err != nil {
		return 0, 0, false
	}
	return first, last, true
}
