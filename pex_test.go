package bt

import (
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"
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
	waitFor(t, 90*time.Second, "the leechers to find each other by PEX", func() bool {
		return connected(ta, b.PeerID()) && connected(tb, a.PeerID())
	})
}

// TestIPv6 downloads over ::1.
func TestIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback here")
	}
	ln.Close()
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 120_000, 3)
	mi := makeTorrent(t, src, 16<<10)
	s := newTestClient(t, Config{ListenAddr: "[::1]:0"})
	st, _ := s.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	waitSeeding(t, st, 10*time.Second)
	c := newTestClient(t, Config{ListenAddr: "[::1]:0"})
	tor, _ := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"),
		Peers: []netip.AddrPort{netip.AddrPortFrom(netip.IPv6Loopback(), uint16(s.Port()))}})
	waitComplete(t, tor, 30*time.Second)
	sameTree(t, src, filepath.Join(dir, "leech", "tree"))
	if ps := st.Peers(); len(ps) > 0 && !ps[0].Addr.Addr().Is6() {
		t.Errorf("seeder sees %v, want an IPv6 address", ps[0].Addr)
	}
}
