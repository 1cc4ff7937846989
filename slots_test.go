package bt

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/wire"
)

// TestIdlePeersDisplaced: a seed whose connection slots are all held by
// idle peers (keep-alives only, arriving in a burst larger than the
// listener's handshake bound) still serves a real libtorrent leecher: an
// idle peer makes room for it.
func TestIdlePeersDisplaced(t *testing.T) {
	peertest.RequireLibtorrent(t)
	old := displaceGrace
	displaceGrace = time.Second // the rule, sooner
	t.Cleanup(func() { displaceGrace = old })
	dir := t.TempDir()
	src, mi, file, ih := ltTorrent(t, dir, false, 300_000, 200_000)
	c := newTestClient(t, Config{MaxConnsPerTorrent: 40})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, tor, 10*time.Second)

	// 150 idle peers at once: more than the 64 handshakes the listener
	// runs at a time, and than the torrent's 40 slots.
	var mu sync.Mutex
	var idle []*wire.Conn
	var wg sync.WaitGroup
	for i := range 150 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var pid [20]byte
			copy(pid[:], "-XX0000-idle")
			pid[18], pid[19] = byte(i>>8), byte(i)
			conn, err := wire.Dial(ctx, loopback(c.Port()).String(), &wire.Config{InfoHash: mi.InfoHash, PeerID: pid,
				PieceLength: mi.Info.PieceLength, TotalLength: mi.Info.TotalLength()})
			if err != nil {
				t.Errorf("idle peer %d: the listener did not answer: %v", i, err)
				return
			}
			conn.HaveNone()
			conn.Start(nil)
			mu.Lock()
			idle = append(idle, conn)
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range idle {
			c.Close()
		}
	})
	waitfor.Cond(t, 20*time.Second, "the torrent's slots to fill", func() bool { return tor.Stats().Peers >= 40 })

	lt := peertest.StartLibtorrent(t, nil)
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Join(dir, "leech")})
	lt.ConnectPeer(t, ih, loopback(c.Port()).String())
	lt.WaitStatus(t, ih, 60*time.Second, func(s peertest.Status) bool { return s.IsSeeding })
	peertest.WaitSameFiles(t, src, filepath.Join(dir, "leech", "tree"), 20*time.Second)
	if n := tor.Stats().Peers; n > 40 {
		t.Errorf("%d peers connected, bound 40", n)
	}
}
