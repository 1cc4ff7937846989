package peertest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestLibtorrentTransfer checks the harness itself: one session seeds a
// torrent it made, a second downloads it, and the data matches.
func TestLibtorrentTransfer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join(dir, "seed", "data")
	WriteRandomFile(t, filepath.Join(src, "a.bin"), 300_000)
	WriteRandomFile(t, filepath.Join(src, "sub", "b.bin"), 70_000)
	torrent, ih := CreateTorrent(t, src, CreateOptions{V1Only: true, PieceSize: 32768})
	tf := filepath.Join(dir, "x.torrent")
	if err := os.WriteFile(tf, torrent, 0o644); err != nil {
		t.Fatal(err)
	}

	seed := StartLibtorrent(t, nil)
	if got := seed.AddTorrent(t, AddTorrent{TorrentFile: tf, SavePath: filepath.Dir(src), SeedMode: true}); got != ih {
		t.Fatalf("info hash %s, created %s", got, ih)
	}
	leech := StartLibtorrent(t, nil)
	dst := filepath.Join(dir, "leech")
	leech.AddTorrent(t, AddTorrent{TorrentFile: tf, SavePath: dst})
	leech.ConnectPeer(t, ih, seed.Addr())
	leech.WaitAlert(t, "torrent_finished_alert", time.Minute)
	WaitSameFiles(t, src, filepath.Join(dst, "data"), 20*time.Second)
	if s := leech.Status(t, ih); s.Progress != 1 || s.TotalPayloadDownload < 370_000 {
		t.Fatalf("status %+v", s)
	}
	if ps := leech.Peers(t, ih); len(ps) == 0 {
		t.Log("seed already disconnected (fine)")
	}
}
