package storage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bt-go/bt/metainfo"
)

// FuzzPaths opens stores whose file paths are arbitrary elements (split at
// 0xff) and writes them: nothing may appear outside the download directory.
func FuzzPaths(f *testing.F) {
	for _, s := range []string{
		"a", "..", "a\xff..\xff..\xffx", "/etc/passwd", ".\xffa", "a\\..\\..\\x",
		"a\x00b", "", "\xff", "ok", "ok\xffb", "..\xff", "d\xffd\xff..\xff..\xff..\xffescape",
	} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, s string, length int64) {
		length = max(0, min(length, 300))
		elems := strings.Split(s, "\xff")
		if len(elems) > 8 {
			elems = elems[:8]
		}
		base := t.TempDir()
		dir := filepath.Join(base, "d")
		must(t, os.MkdirAll(dir, 0o755))
		// A link inside the directory that points outside, as a trap.
		must(t, os.Symlink(base, filepath.Join(dir, "up")))
		l := &metainfo.Layout{PieceLength: 64, TotalLength: length + 5, Files: []metainfo.FileEntry{
			{Index: 0, Path: elems, Length: length},
			{Index: 1, Path: []string{"z"}, Offset: length, Length: 5},
		}}
		l.NumPieces = int((l.TotalLength + 63) / 64)
		s2, err := Open(dir, l, func(int) [20]byte { return [20]byte{} }, Options{})
		if err == nil {
			buf := make([]byte, l.TotalLength)
			s2.WriteAt(buf, 0)
			s2.Sync()
			s2.Close()
		}
		ents, err := os.ReadDir(base)
		must(t, err)
		if len(ents) != 1 || ents[0].Name() != "d" {
			t.Fatalf("entries outside the download dir after path %q: %v", elems, ents)
		}
	})
}
