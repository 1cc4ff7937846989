package peertest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// makeTorrent writes two files and a v1 torrent of them, and returns the data
// directory, the .torrent path and the info hash.
func makeTorrent(t *testing.T) (data, torrentFile, ih string) {
	dir := t.TempDir()
	data = filepath.Join(dir, "seed", "data")
	WriteRandomFile(t, filepath.Join(data, "a.bin"), 200_000)
	WriteRandomFile(t, filepath.Join(data, "sub", "b.bin"), 50_000)
	torrent, ih := CreateTorrent(t, data, CreateOptions{V1Only: true, PieceSize: 16384})
	torrentFile = filepath.Join(dir, "x.torrent")
	if err := os.WriteFile(torrentFile, torrent, 0o644); err != nil {
		t.Fatal(err)
	}
	return data, torrentFile, ih
}

// seedTo starts a libtorrent session seeding data and has it dial addr,
// since neither Transmission nor aria2 dials a loopback peer itself.
func seedTo(t *testing.T, data, torrentFile, ih, addr string) {
	seed := StartLibtorrent(t, nil)
	seed.AddTorrent(t, AddTorrent{TorrentFile: torrentFile, SavePath: filepath.Dir(data), SeedMode: true})
	seed.ConnectPeer(t, ih, addr)
}

// waitFiles polls until the tree under got equals want, and fails with the
// end of the downloader's log if it does not in time.
func waitFiles(t *testing.T, want, got string, timeout time.Duration, log func() string) {
	t.Helper()
	if diffs := waitTrees(t, want, got, timeout); len(diffs) > 0 {
		t.Fatalf("data not complete after %v: %v\n%s", timeout, diffs, tail(log(), 3000))
	}
}

func TestTransmissionDownloadsFromLibtorrent(t *testing.T) {
	t.Parallel()
	data, tf, ih := makeTorrent(t)
	dst := t.TempDir()
	tr := StartTransmission(t, TransmissionOptions{TorrentFile: tf, Dir: dst})
	seedTo(t, data, tf, ih, tr.Addr)
	waitFiles(t, data, filepath.Join(dst, "data"), 60*time.Second, tr.Log)
}

func TestAria2DownloadsFromLibtorrent(t *testing.T) {
	t.Parallel()
	data, tf, ih := makeTorrent(t)
	dst := t.TempDir()
	a := StartAria2(t, Aria2Options{TorrentFile: tf, Dir: dst})
	seedTo(t, data, tf, ih, a.Addr)
	select {
	case <-a.Done():
		if err := a.Err(); err != nil {
			t.Fatalf("aria2c: %v\n%s", err, a.Log())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("aria2 did not finish\n%s", a.Log())
	}
	SameFiles(t, data, filepath.Join(dst, "data"))
}
