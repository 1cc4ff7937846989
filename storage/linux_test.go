//go:build linux

package storage

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/bt-go/bt/internal/peertest"
)

// TestSparse checks files are extended with holes, not zeros.
func TestSparse(t *testing.T) {
	dir := t.TempDir()
	l := makeLayout(1<<16, fspec{path: "big", length: 64 << 20})
	data, hashes := torrentData(t, l, 14)
	s := mustOpen(t, dir, l, hashes, Options{})
	last := l.NumPieces - 1
	must(t, s.WritePiece(last, piece(l, data, last)))
	must(t, s.Sync())
	fi, err := os.Stat(filepath.Join(dir, "big"))
	must(t, err)
	if fi.Size() != 64<<20 {
		t.Fatalf("size %d, want %d", fi.Size(), 64<<20)
	}
	if used := fi.Sys().(*syscall.Stat_t).Blocks * 512; used > 1<<20 {
		t.Fatalf("a 64 MiB file with one 64 KiB piece uses %d bytes on disk: not sparse", used)
	}
}

// TestTmpfsFull fills a real size-limited file system (a 1 MiB tmpfs) in the
// middle of a download, then gives it more space and finishes. It needs the
// privilege to mount: it skips without it, but fails under CI (root).
func TestTmpfsFull(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "small")
	must(t, os.MkdirAll(dir, 0o755))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		peertest.Unavailable(t, "cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v: %s", err, out)
		}
	})
	l := makeLayout(1<<16, fspec{path: "t/a", length: 1 << 20}, fspec{path: "t/b", length: 1<<20 + 1000})
	data, hashes := torrentData(t, l, 15)
	s := mustOpen(t, dir, l, hashes, Options{})
	var full int
	var err error
	for full = 0; full < l.NumPieces; full++ {
		if err = s.WritePiece(full, piece(l, data, full)); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrNoSpace) || !Fatal(err) {
		t.Fatalf("WritePiece(%d) on a full tmpfs = %v; want ErrNoSpace", full, err)
	}
	t.Logf("disk full at piece %d of %d: %v", full, l.NumPieces, err)
	for i := range full {
		if ok, err := s.VerifyPiece(i); !ok || err != nil {
			t.Fatalf("piece %d written before the disk filled: VerifyPiece = %v, %v", i, ok, err)
		}
	}
	if out, err := exec.Command("mount", "-o", "remount,size=4m", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v: %s", err, out)
	}
	for i := full; i < l.NumPieces; i++ {
		must(t, s.WritePiece(i, piece(l, data, i)))
	}
	must(t, s.Sync())
	checkAll(t, s, l, data)
	must(t, s.Close())
}

// TestFDLimit runs Stores under a file descriptor limit lower than their
// pool's bound (in a child process, whose RLIMIT_NOFILE it lowers): opens
// that meet EMFILE close an idle handle and try again, so every piece is
// written and verified and nothing fails.
func TestFDLimit(t *testing.T) {
	if os.Getenv("BT_STORAGE_FD_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFDLimit$", "-test.v")
		cmd.Env = append(os.Environ(), "BT_STORAGE_FD_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	// The runtime's poller takes descriptors of its own when first used: a
	// real client has used it long before it runs short.
	r, w, err := os.Pipe()
	must(t, err)
	r.Close()
	w.Close()
	lim := syscall.Rlimit{Cur: 48, Max: 48}
	must(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
	fp := NewFilePool(10000) // no help from the bound: EMFILE must be met
	l := makeLayout(64, fspec{path: "d/a", length: 100}, fspec{path: "d/b", length: 100}, fspec{path: "d/c", length: 100})
	var stores []*Store
	var datas [][]byte
	for k := range 40 {
		data, hashes := torrentData(t, l, uint64(200+k))
		stores = append(stores, mustOpen(t, t.TempDir(), l, hashes, Options{Files: fp}))
		datas = append(datas, data)
	}
	for k, s := range stores {
		for i := range l.NumPieces {
			must(t, s.WritePiece(i, piece(l, datas[k], i)))
		}
	}
	for _, s := range stores {
		must(t, s.Sync())
		verify(t, s, []int{0, 1, 2, 3, 4}, true)
	}
	if fp.FDWaits() == 0 {
		t.Fatalf("never met the descriptor limit (%d handles open)", fp.Len())
	}
	t.Logf("%d opens met EMFILE; %d handles open", fp.FDWaits(), fp.Len())
}
