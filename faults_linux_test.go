//go:build linux

package bt

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/storage"
)

// TestDiskFull downloads onto a 2 MiB tmpfs: the torrent stops with
// storage.ErrNoSpace (an error event, Stopped), keeps every verified piece,
// and completes after the file system grows and the torrent is started
// again, without fetching again what it had. It needs the privilege to
// mount: it skips without it, but fails under CI (which runs as root).
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	leech := filepath.Join(dir, "small")
	if err := os.MkdirAll(leech, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", leech).CombinedOutput(); err != nil {
		peertest.Unavailable(t, "cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", leech).CombinedOutput(); err != nil {
			t.Errorf("umount: %v: %s", err, out)
		}
	})
	src, mi, seed, _, _ := faultSeed(t, dir, "data", 64<<10, 3<<20, 1<<20)
	tor, log := faultLeech(t, mi, leech, seed, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := tor.WaitComplete(ctx)
	if !errors.Is(err, storage.ErrNoSpace) {
		t.Fatalf("WaitComplete on a full disk: %v; want ErrNoSpace", err)
	}
	t.Logf("stopped with: %v", err)
	if e := log.wait(t, EventError, 5*time.Second); !errors.Is(e.Err, storage.ErrNoSpace) {
		t.Fatalf("error event: %v", e.Err)
	}
	if s := tor.State(); s != Stopped {
		t.Fatalf("state %v after the disk filled; want stopped", s)
	}
	have := tor.Bitfield()
	down := tor.Downloaded()
	t.Logf("%d of %d pieces verified when the disk filled", have.Count(), tor.NumPieces())
	if have.Count() == 0 || have.All() {
		t.Fatalf("%d pieces verified; the disk should have filled midway", have.Count())
	}

	if out, err := exec.Command("mount", "-o", "remount,size=8m", leech).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v: %s", err, out)
	}
	// The seed may not have seen the old connection close yet: the new
	// one from the same address replaces it.
	if err := tor.Start(); err != nil {
		t.Fatal(err)
	}
	for i := have.Next(0); i >= 0; i = have.Next(i + 1) {
		if !tor.Bitfield().Has(i) {
			t.Fatalf("piece %d was verified before the disk filled and is lost after Start", i)
		}
	}
	waitComplete(t, tor, 30*time.Second)
	peertest.SameFiles(t, src, filepath.Join(leech, "data"))
	missing := tor.Size() - int64(have.Count())*tor.PieceLength()
	again := tor.Downloaded() - down
	t.Logf("after the restart: %d bytes downloaded for %d missing", again, missing)
	if again > missing+missing/4+(256<<10) {
		t.Errorf("downloaded %d bytes after the restart for %d missing: verified pieces were fetched again", again, missing)
	}
}
