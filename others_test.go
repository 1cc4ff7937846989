package bt

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
)

func parseAddr(t *testing.T, s string) netip.AddrPort {
	t.Helper()
	a, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestDownloadFromTransmission: bt downloads from a Transmission seed
// (bt dials it: Transmission ignores loopback peers it hears of).
func TestDownloadFromTransmission(t *testing.T) {
	peertest.RequireCommand(t, "transmission-cli")
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 300_000, 20_000, 150_000)
	mi := makeTorrent(t, src, 32<<10)
	file := writeTorrentFile(t, mi, dir)
	tr := peertest.StartTransmission(t, peertest.TransmissionOptions{TorrentFile: file, Dir: filepath.Join(dir, "seed")})
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), Peers: []netip.AddrPort{parseAddr(t, tr.Addr)}})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 90*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
}

// TestTransmissionDownloadsFromBt: Transmission downloads from bt seeding.
func TestTransmissionDownloadsFromBt(t *testing.T) {
	peertest.RequireCommand(t, "transmission-cli")
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 250_000, 80_000)
	mi := makeTorrent(t, src, 32<<10)
	file := writeTorrentFile(t, mi, dir)
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, tor, 10*time.Second)
	os.MkdirAll(filepath.Join(dir, "leech"), 0o755)
	tr := peertest.StartTransmission(t, peertest.TransmissionOptions{TorrentFile: file, Dir: filepath.Join(dir, "leech")})
	tor.AddPeers(parseAddr(t, tr.Addr))
	peertest.WaitSameFiles(t, src, filepath.Join(dir, "leech", "tree"), 90*time.Second)
}

// TestDownloadFromAria2: bt downloads from an aria2 seed.
func TestDownloadFromAria2(t *testing.T) {
	peertest.RequireCommand(t, "aria2c")
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 200_000, 90_000)
	mi := makeTorrent(t, src, 32<<10)
	file := writeTorrentFile(t, mi, dir)
	a := peertest.StartAria2(t, peertest.Aria2Options{TorrentFile: file, Dir: filepath.Join(dir, "seed"), Seed: true})
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), Peers: []netip.AddrPort{parseAddr(t, a.Addr)}})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 90*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
}

// TestAria2DownloadsFromBt: aria2 downloads from bt seeding; bt dials it,
// since aria2 cannot be told to dial a peer.
func TestAria2DownloadsFromBt(t *testing.T) {
	peertest.RequireCommand(t, "aria2c")
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 180_000, 70_000, 5)
	mi := makeTorrent(t, src, 32<<10)
	file := writeTorrentFile(t, mi, dir)
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, tor, 10*time.Second)
	os.MkdirAll(filepath.Join(dir, "leech"), 0o755)
	a := peertest.StartAria2(t, peertest.Aria2Options{TorrentFile: file, Dir: filepath.Join(dir, "leech")})
	tor.AddPeers(parseAddr(t, a.Addr))
	select {
	case <-a.Done():
		if err := a.Err(); err != nil {
			t.Fatalf("aria2: %v\n%s", err, a.Log())
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("aria2 did not finish\n%s", a.Log())
	}
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
}
