package bt

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

// TestSwarm: one bt seed and several bt leechers in one swarm all complete.
// Each leecher is told only of the seed and of the leechers started before
// it, so pieces flow between leechers too.
func TestSwarm(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 1<<20, 300_000, 700_000)
	mi := makeTorrent(t, src, 16<<10)
	seeder := newTestClient(t, Config{UploadSlots: 2})
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
		sameTree(t, src, filepath.Join(dir, fmt.Sprint("leech", i), "tree"))
		fromLeechers += tor.Uploaded()
	}
	t.Logf("seed uploaded %d bytes, leechers %d bytes (torrent %d bytes)", st.Uploaded(), fromLeechers, mi.Info.TotalLength())
}
