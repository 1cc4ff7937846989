package bt

import (
	"github.com/bt-go/bt/internal/peertest"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/waitfor"
)

// TestPEXIntroducesPeers: two leechers that only know the seed learn of
// each other through the seed's ut_pex messages and connect.
func TestPEXIntroducesPeers(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 100_000)
	mi := makeTorrent(t, src, 16<<10)
	s := newTestClient(t, Config{})
	st, _ := s.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	waitSeeding(t, st, 10*time.Second)
	seed := []netip.AddrPort{loopback(s.Port())}

	// Paused leechers stay incomplete, so they keep wanting each other.
	a := newTestClient(t, Config{})
	ta, _ := a.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "a"), State: Paused, Peers: seed})
	b := newTestClient(t, Config{})
	tb, _ := b.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "b"), State: Paused, Peers: seed})
	connected := func(tor *Torrent, peerID [20]byte) bool {
		for _, p := range tor.Peers() {
			if p.PeerID == peerID {
				return true
			}
		}
		return false
	}
	// ut_pex sends at most one message a minute per connection, but the
	// first one goes out as soon as there is something to say.
	waitfor.Cond(t, 90*time.Second, "the leechers to find each other by PEX", func() bool {
		return connected(ta, b.PeerID()) && connected(tb, a.PeerID())
	})
}

// TestIPv6 downloads over ::1. The leecher starts paused, so its
// connection lasts until the seed's side of it has been looked at: the
// seed sees an IPv6 address (not 127.0.0.1, nor ::ffff:127.0.0.1).
func TestIPv6(t *testing.T) {
	peertest.RequireIPv6Loopback(t)
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 120_000, 3)
	mi := makeTorrent(t, src, 16<<10)
	s := newTestClient(t, Config{ListenAddr: "[::1]:0"})
	st, _ := s.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	waitSeeding(t, st, 10*time.Second)
	c := newTestClient(t, Config{ListenAddr: "[::1]:0"})
	tor, _ := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), State: Paused,
		Peers: []netip.AddrPort{netip.AddrPortFrom(netip.IPv6Loopback(), uint16(s.Port()))}})
	waitfor.Cond(t, 10*time.Second, "the seed to see the leecher", func() bool { return len(st.Peers()) == 1 })
	if a := st.Peers()[0].Addr.Addr(); !a.Is6() || a.Is4In6() || a != netip.IPv6Loopback() {
		t.Errorf("the seed sees the leecher at %v, want ::1", a)
	}
	if err := tor.Start(); err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 30*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
}
