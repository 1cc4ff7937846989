package bt

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/metainfo"
)

// TestDiskBackPressure: with a disk queue of one byte and a slow disk, the
// loop stops reading peers after every piece until it is written, so no
// more than one piece ever waits for the disk, however fast the seed sends;
// the download still completes intact.
func TestDiskBackPressure(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 500_000, 70_000)
	const pieceLen = 32 << 10
	mi := makeTorrent(t, src, pieceLen)
	s, _ := seedTorrent(t, Config{}, mi, dir)
	c := newTestClient(t, Config{DiskQueueBytes: 1, HashWorkers: 1})
	c.slowDisk = 20 * time.Millisecond // a loopback seed sends many pieces in that time
	tor, _ := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), Peers: []netip.AddrPort{loopback(s.Port())}})
	waitComplete(t, tor, 30*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
	var peak int64
	tor.call(func() { peak = tor.peakDiskBytes })
	if peak > pieceLen {
		t.Errorf("%d bytes waited for the disk at once; the queue allows one piece (%d)", peak, pieceLen)
	}
}

// TestIdlePeerDropped: a peer neither side is interested in is dropped
// after IdleTimeout. The seed must first have adopted the connection (an
// empty peer list before that proves nothing), and the leecher, whose own
// time-out is minutes, must see the seed close it.
func TestIdlePeerDropped(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 40_000)
	mi := makeTorrent(t, src, 16<<10)
	s, st := seedTorrent(t, Config{IdleTimeout: 2 * time.Second}, mi, dir)
	// A leecher that wants nothing: every file skipped.
	c := newTestClient(t, Config{})
	tor, _ := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), FilePriorities: []int{0},
		Peers: []netip.AddrPort{loopback(s.Port())}})
	waitfor.Cond(t, 10*time.Second, "the seed to adopt the connection", func() bool { return len(st.Peers()) == 1 })
	waitfor.Cond(t, 10*time.Second, "the idle peer to be dropped", func() bool { return len(st.Peers()) == 0 })
	waitfor.Cond(t, 10*time.Second, "the leecher to see the connection closed", func() bool { return len(tor.Peers()) == 0 })
}

// TestNewClientContext: cancelling the context closes the client.
func TestNewClientContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c, err := NewClientContext(ctx, Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("client not closed after its context ended")
	}
	if _, err := c.AddMagnet("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", nil); err == nil {
		t.Error("AddMagnet on a closed client succeeded")
	}
}

// TestOnePortManyTorrents: one client seeds two torrents on one port;
// another downloads both from it. A torrent closed and added again works.
func TestOnePortManyTorrents(t *testing.T) {
	dir := t.TempDir()
	srcA := makeData(t, filepath.Join(dir, "seed"), "alpha", 90_000)
	srcB := makeData(t, filepath.Join(dir, "seed"), "beta", 30_000, 45_000)
	miA, miB := makeTorrent(t, srcA, 16<<10), makeTorrent(t, srcB, 16<<10)
	s := newTestClient(t, Config{})
	for _, mi := range []*metainfo.MetaInfo{miA, miB} {
		st, err := s.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
		if err != nil {
			t.Fatal(err)
		}
		waitSeeding(t, st, 10*time.Second)
	}
	if _, err := s.AddTorrent(miA, nil); err == nil {
		t.Error("adding a torrent twice succeeded")
	}
	c := newTestClient(t, Config{})
	seed := []netip.AddrPort{loopback(s.Port())}
	ta, _ := c.AddTorrent(miA, &TorrentOptions{Dir: filepath.Join(dir, "leech"), Peers: seed})
	tb, _ := c.AddTorrent(miB, &TorrentOptions{Dir: filepath.Join(dir, "leech"), Peers: seed})
	waitComplete(t, ta, 30*time.Second)
	waitComplete(t, tb, 30*time.Second)
	peertest.SameFiles(t, srcA, filepath.Join(dir, "leech", "alpha"))
	peertest.SameFiles(t, srcB, filepath.Join(dir, "leech", "beta"))
	if len(c.Torrents()) != 2 {
		t.Errorf("%d torrents, want 2", len(c.Torrents()))
	}
	ta.Close()
	if c.Torrent(miA.InfoHash) != nil {
		t.Error("closed torrent still listed")
	}
	ta, err := c.AddTorrent(miA, &TorrentOptions{Dir: filepath.Join(dir, "leech")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, ta, 10*time.Second)
}
