package bt

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/metainfo"
)

// What idle peers and torrents cost: goroutines, counted.

// TestIdlePeerGoroutines: a connected peer that moves no data costs the two
// goroutines of its wire.Conn, nothing more.
func TestIdlePeerGoroutines(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 100_000)
	mi := makeTorrent(t, src, 16<<10)
	s, st := seedTorrent(t, Config{}, mi, dir)
	before := runtime.NumGoroutine()
	const n = 20
	for range n {
		dialScripted(t, s.Port(), mi, nil, nil, false)
	}
	waitfor.Cond(t, 10*time.Second, "the peers", func() bool { return len(st.Peers()) == n })
	// Each connection has two ends in this process: the scripted peer's
	// wire.Conn (two goroutines) and the seed's. Goroutines of earlier
	// work may still be ending: poll.
	var perPeer float64
	waitfor.Cond(t, 10*time.Second, "two goroutines per idle peer", func() bool {
		perPeer = float64(runtime.NumGoroutine()-before)/n - 2
		return perPeer <= 2
	})
	t.Logf("%.2f goroutines per idle peer", perPeer)
}

// TestIdleTorrentGoroutines: a started torrent with no peers costs one
// goroutine, its loop.
func TestIdleTorrentGoroutines(t *testing.T) {
	c := newTestClient(t, Config{})
	dir := t.TempDir()
	var mis []*metainfo.MetaInfo
	for k := range 10 {
		mis = append(mis, makeTorrent(t, makeData(t, dir, fmt.Sprint("t", k), 20_000+k), 16<<10))
	}
	before := runtime.NumGoroutine()
	var tors []*Torrent
	for _, mi := range mis {
		tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		tors = append(tors, tor)
	}
	for _, tor := range tors {
		waitSeeding(t, tor, 10*time.Second)
	}
	var perTorrent float64
	waitfor.Cond(t, 10*time.Second, "background work to end", func() bool {
		perTorrent = float64(runtime.NumGoroutine()-before) / float64(len(tors))
		return perTorrent <= 1
	})
	t.Logf("%.1f goroutines per idle torrent", perTorrent)
}
