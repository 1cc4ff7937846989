package bt

import (
	"fmt"
	"github.com/bt-go/bt/internal/peertest"
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

// TestSwarm: one bt seed and several bt leechers in one swarm all complete.
// Each leecher is told only of the seed and of the leechers started before
// it. The seed uploads at 1 MiB/s, slower than loopback, so leechers must
// trade pieces: the leechers together upload at least one copy of the
// torrent, and the seed less than a copy per leecher.
func TestSwarm(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 1<<20, 300_000, 700_000)
	mi := makeTorrent(t, src, 16<<10)
	seeder := newTestClient(t, Config{UploadSlots: 2, MaxUploadRate: 1 << 20})
	st, err := seeder.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, st, 10*time.Second)

	const n = 4
	addrs := []netip.AddrPort{loopback(seeder.Port())}
	var tors []*Torrent
	for i := range n {
		c := newTestClient(t, Config{})
		tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, fmt.Sprint("leech", i)), Peers: addrs})
		if err != nil {
			t.Fatal(err)
		}
		tors = append(tors, tor)
		addrs = append(addrs, loopback(c.Port()))
	}
	var fromLeechers int64
	for i, tor := range tors {
		waitComplete(t, tor, 60*time.Second)
		peertest.SameFiles(t, src, filepath.Join(dir, fmt.Sprint("leech", i), "tree"))
		fromLeechers += tor.Uploaded()
	}
	total := mi.Info.TotalLength()
	t.Logf("seed uploaded %d bytes, leechers %d bytes (torrent %d bytes)", st.Uploaded(), fromLeechers, total)
	if fromLeechers < total {
		t.Errorf("leechers uploaded %d bytes to each other, less than one copy (%d)", fromLeechers, total)
	}
	if up := st.Uploaded(); up >= n*total {
		t.Errorf("the seed uploaded %d bytes, a copy for every leecher (%d): nothing flowed between them", up, n*total)
	}
}
