package main

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bt-go/bt/internal/peertest"
)

// TestDiskFullSaidOnce: a download onto a 1 MiB tmpfs of a 3 MiB file stops
// with an error, and says the disk is full once, not once from the engine
// and again from the command. It needs the privilege to mount: it skips
// without it, but fails under CI (which runs as root).
func TestDiskFullSaidOnce(t *testing.T) {
	bin := buildBT(t)
	_, file, port := seedFixtureNamed(t, "big.bin", 3<<20)
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		peertest.Unavailable(t, "cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v: %s", err, out)
		}
	})
	cmd := exec.Command(bin, "download", "--no-dht", "--port", "0", "--state-dir", "", "--dir", dir,
		"--peer", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String(), file)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("a 3 MiB download onto 1 MiB succeeded:\n%s", out)
	}
	t.Logf("%v:\n%s", err, out)
	if n := strings.Count(strings.ToLower(string(out)), "no space"); n != 1 {
		t.Errorf("the full disk was reported %d times, want once", n)
	}
}
