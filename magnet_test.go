package bt

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/internal/waitfor"
)

// TestMagnetPeerBeforeFetch: a magnet link whose first peer is connected
// as early as can be (the torrent registered and its loop running, add not
// yet done) still gets the metadata from that peer and completes. The
// metadata fetcher used to be made only after that point, and a peer
// connected before it was never asked for the metadata.
func TestMagnetPeerBeforeFetch(t *testing.T) {
	peertest.RequireLibtorrent(t)
	dir := t.TempDir()
	src, mi, file, _ := ltTorrent(t, dir, true, 90_000, 40_000)
	lt := peertest.StartLibtorrent(t, nil)
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Join(dir, "seed"), SeedMode: true})

	c := newTestClient(t, Config{})
	c.afterAdd = func(tor *Torrent) {
		tor.AddPeers(ltAddr(t, lt))
		// Connected, or already gone: the metadata and the data can all
		// arrive, and the two seeds part, between two polls.
		waitfor.Cond(t, 30*time.Second, "the seed to be connected", func() bool {
			return len(tor.Peers()) > 0 || tor.HasMetadata()
		})
	}
	tor, err := c.AddMagnet(mi.Magnet().String(), &TorrentOptions{Dir: filepath.Join(dir, "leech")})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 30*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
}
