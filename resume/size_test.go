package resume

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/bt-go/bt/metainfo"
)

// sparse makes a file of n bytes that costs no disk.
func sparse(t *testing.T, name string, n int64) {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(n); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestOversizedFilesNotRead: a resume record or a recorded .torrent that
// an outsider made huge is refused from its size, before it is read (a
// 70 MB resume file used to be read whole: the process reached 172 MB).
func TestOversizedFilesNotRead(t *testing.T) {
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var ih metainfo.Hash
	ih[0] = 1
	sparse(t, d.ResumePath(ih), 70<<20)
	sparse(t, d.TorrentPath(ih), metainfo.MaxTorrentSize+1)
	n := allocated(func() {
		if _, err := d.Load(ih); !errors.Is(err, ErrCorrupt) {
			t.Errorf("70 MB resume file: %v, want ErrCorrupt", err)
		}
		if _, err := d.LoadTorrent(ih); !errors.Is(err, metainfo.ErrTooLarge) {
			t.Errorf("oversized .torrent: %v, want metainfo.ErrTooLarge", err)
		}
	})
	t.Logf("refusing both allocated %d bytes", n)
	if n > 1<<20 {
		t.Errorf("refusing oversized files allocated %d bytes", n)
	}
	if _, err := ReadFile(filepath.Join(d.Path, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
