package storage

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestSymlinkEscape plants symbolic links inside the download directory that
// point outside it and checks nothing is ever written through them.
func TestSymlinkEscape(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, dir, outside string)
		files []fspec
	}{
		{"directory link", func(t *testing.T, dir, outside string) {
			must(t, os.Symlink(outside, filepath.Join(dir, "t")))
		}, []fspec{{path: "t/a", length: 100}}},
		{"nested directory link", func(t *testing.T, dir, outside string) {
			must(t, os.MkdirAll(filepath.Join(dir, "t", "sub"), 0o755))
			must(t, os.Symlink(outside, filepath.Join(dir, "t", "sub", "deep")))
		}, []fspec{{path: "t/ok", length: 50}, {path: "t/sub/deep/a", length: 100}}},
		{"relative link", func(t *testing.T, dir, outside string) {
			rel, err := filepath.Rel(dir, outside)
			must(t, err)
			must(t, os.Symlink(rel, filepath.Join(dir, "t")))
		}, []fspec{{path: "t/a", length: 100}}},
		{"file link to a missing file", func(t *testing.T, dir, outside string) {
			must(t, os.Symlink(filepath.Join(outside, "victim"), filepath.Join(dir, "a.bin")))
		}, []fspec{{path: "a.bin", length: 100}}},
		{"file link to an existing file", func(t *testing.T, dir, outside string) {
			must(t, os.WriteFile(filepath.Join(outside, "victim"), []byte("keep me"), 0o644))
			must(t, os.Symlink(filepath.Join(outside, "victim"), filepath.Join(dir, "a.bin")))
		}, []fspec{{path: "a.bin", length: 100}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, "download")
			outside := filepath.Join(base, "outside")
			must(t, os.MkdirAll(dir, 0o755))
			must(t, os.MkdirAll(outside, 0o755))
			tc.plant(t, dir, outside)
			before := snapshot(t, outside)

			l := makeLayout(64, tc.files...)
			data, hashes := torrentData(t, l, 3)
			s := mustOpen(t, dir, l, hashes, Options{})
			var failed bool
			for i := range l.NumPieces {
				if err := s.WritePiece(i, piece(l, data, i)); err != nil {
					failed = true
					if !Fatal(err) {
						t.Errorf("WritePiece(%d) = %v: an escape must be fatal", i, err)
					}
				}
			}
			if !failed {
				t.Errorf("every write succeeded through a link out of the directory")
			}
			s.Sync()
			s.Close()
			if after := snapshot(t, outside); after != before {
				t.Fatalf("outside directory changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// TestRootRefusesEscape checks the os.Root layer alone refuses paths that
// checkPaths would have stopped, as a second line of defence.
func TestRootRefusesEscape(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "d")
	must(t, os.MkdirAll(dir, 0o755))
	r, err := openRootFS(dir)
	must(t, err)
	defer r.Close()
	for _, name := range []string{"../x", "a/../../x", "/tmp/x"} {
		if f, err := r.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644); err == nil {
			f.Close()
			t.Errorf("OpenFile(%q) succeeded", name)
		}
		if err := r.MkdirAll(name, 0o755); err == nil {
			t.Errorf("MkdirAll(%q) succeeded", name)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "x")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was created outside: %v", err)
	}
}

// snapshot describes every entry under dir with its size.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var out string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		data := ""
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			data = string(b)
		}
		out += p + "=" + data + ";"
		return nil
	})
	must(t, err)
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
