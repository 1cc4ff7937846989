package server_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/tracker/server"
)

// startServer runs a tracker on loopback for the test and returns it with
// its HTTP and UDP announce URLs.
func startServer(t *testing.T) (srv *server.Server, httpURL, udpURL string) {
	t.Helper()
	srv = server.New(server.Config{Interval: time.Minute})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, pc) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv, "http://" + ln.Addr().String() + "/announce", "udp://" + pc.LocalAddr().String() + "/announce"
}

// waitPeers polls until the tracker holds n peers.
func waitPeers(t *testing.T, srv *server.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, p := srv.Stats(); p >= n {
			return
		}
		if time.Now().After(deadline) {
			_, p := srv.Stats()
			t.Fatalf("tracker holds %d peers, want %d", p, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// seedWithLibtorrent makes a torrent of a random file announcing to
// trackerURL and seeds it from a libtorrent session; it returns the .torrent
// path and the data's directory.
func seedWithLibtorrent(t *testing.T, trackerURL string) (torrentFile, dataDir string) {
	t.Helper()
	dataDir = t.TempDir()
	peertest.WriteRandomFile(t, filepath.Join(dataDir, "payload.bin"), 3<<20+12345)
	data, _ := peertest.CreateTorrent(t, filepath.Join(dataDir, "payload.bin"),
		peertest.CreateOptions{V1Only: true, PieceSize: 256 << 10, Trackers: []string{trackerURL}})
	torrentFile = filepath.Join(t.TempDir(), "payload.torrent")
	if err := os.WriteFile(torrentFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	seed := peertest.StartLibtorrent(t, nil)
	seed.AddTorrent(t, peertest.AddTorrent{TorrentFile: torrentFile, SavePath: dataDir, SeedMode: true})
	return torrentFile, dataDir
}

// TestLibtorrentSeedAria2Leecher: a libtorrent seed and an aria2 leecher
// announce to our tracker over HTTP, find each other through it alone, and
// the download completes.
func TestLibtorrentSeedAria2Leecher(t *testing.T) {
	peertest.RequireCommand(t, "aria2c")
	srv, httpURL, _ := startServer(t)
	torrentFile, dataDir := seedWithLibtorrent(t, httpURL)
	waitPeers(t, srv, 1)

	dl := t.TempDir()
	a := peertest.StartAria2(t, peertest.Aria2Options{TorrentFile: torrentFile, Dir: dl})
	select {
	case <-a.Done():
		if err := a.Err(); err != nil {
			t.Fatalf("aria2: %v\n%s", err, a.Log())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("aria2 did not finish\n%s", a.Log())
	}
	peertest.SameFiles(t, dataDir, dl)
}

// TestLibtorrentOverUDP: a libtorrent seed and a libtorrent leecher in
// another session announce to our tracker over UDP (BEP 15) and the
// download completes.
func TestLibtorrentOverUDP(t *testing.T) {
	srv, _, udpURL := startServer(t)
	torrentFile, dataDir := seedWithLibtorrent(t, udpURL)
	waitPeers(t, srv, 1)

	leecher := peertest.StartLibtorrent(t, nil)
	dl := t.TempDir()
	ih := leecher.AddTorrent(t, peertest.AddTorrent{TorrentFile: torrentFile, SavePath: dl})
	leecher.WaitStatus(t, ih, 2*time.Minute, func(s peertest.Status) bool { return s.IsSeeding })
	peertest.WaitSameFiles(t, dataDir, dl, 20*time.Second)
	if _, p := srv.Stats(); p != 2 {
		t.Errorf("tracker holds %d peers, want 2", p)
	}
}
