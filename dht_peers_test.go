package bt

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/dht"
	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/internal/waitfor"
)

// startLibtorrentDHT starts a libtorrent session with its DHT on
// 127.0.0.1, joined through the node at boot. libtorrent 2.0 keeps one
// routing-table node per IP unless dht_restrict_routing_ips and
// dht_restrict_search_ips are off (every node here is on 127.0.0.1), and
// never puts the dht_bootstrap_nodes ("routers") in its table, so the
// contact is given with add_dht_node.
func startLibtorrentDHT(t *testing.T, boot netip.AddrPort) *peertest.Libtorrent {
	t.Helper()
	lt := peertest.StartLibtorrent(t, map[string]any{
		"enable_dht":               true,
		"dht_bootstrap_nodes":      "",
		"dht_restrict_routing_ips": false,
		"dht_restrict_search_ips":  false,
	})
	lt.AddDHTNode(t, boot.String())
	return lt
}

// dhtSwarm is a bare DHT node (a "router"), a bt client with its DHT
// joined through it, and a libtorrent session joined through both.
func dhtSwarm(t *testing.T) (router *dht.Server, c *Client, lt *peertest.Libtorrent) {
	t.Helper()
	router = startRouter(t)
	c = newTestClient(t, Config{DHT: true, DHTBootstrap: []string{router.Addr().String()}})
	lt = startLibtorrentDHT(t, router.Addr())
	lt.AddDHTNode(t, c.DHT().Addr().String())
	ltNode := ltAddr(t, lt) // libtorrent's DHT is on its TCP port number
	router.AddNode(ltNode)
	c.DHT().AddNode(ltNode)
	waitfor.Cond(t, 15*time.Second, "libtorrent in our routing tables", func() bool {
		return hasDHTNode(router, ltNode) && hasDHTNode(c.DHT(), ltNode)
	})
	return router, c, lt
}

// TestDHTLibtorrentSeed: a torrent seeded by libtorrent is found by bt
// through the DHT alone and downloaded from a magnet link (no tracker, no
// peer address).
func TestDHTLibtorrentSeed(t *testing.T) {
	peertest.RequireLibtorrent(t)
	dir := t.TempDir()
	data, file, _, mi := ltSwarmTorrent(t, dir, 2<<20)
	router, c, lt := dhtSwarm(t)
	start := time.Now()
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Dir(data), SeedMode: true})
	waitfor.Cond(t, 20*time.Second, "libtorrent's announce", func() bool { return router.Stats().InfoHashes > 0 })
	ltAnnounced := time.Since(start)

	start = time.Now()
	tor, err := c.AddMagnet(mi.Magnet().String(), &TorrentOptions{Dir: filepath.Join(dir, "leech")})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 20*time.Second, "libtorrent's address through the DHT", func() bool { return tor.Stats().Peers > 0 })
	found := time.Since(start)
	waitComplete(t, tor, 20*time.Second)
	t.Logf("libtorrent announced on the DHT %v after adding its torrent; bt found it from a magnet in %v, 2 MiB downloaded after %v; our node: %+v",
		ltAnnounced.Round(time.Millisecond), found.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), c.DHT().Stats())
	peertest.SameFiles(t, filepath.Dir(data), filepath.Join(dir, "leech"))
}

// TestDHTLibtorrentFindsBt: a bt seed announces itself on the DHT; a
// libtorrent session given only a magnet link finds it there and
// downloads the data.
func TestDHTLibtorrentFindsBt(t *testing.T) {
	peertest.RequireLibtorrent(t)
	dir := t.TempDir()
	data, _, ih, mi := ltSwarmTorrent(t, dir, 2<<20)
	router, c, lt := dhtSwarm(t)
	st, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Dir(data)})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitfor.Cond(t, 20*time.Second, "our announce on the DHT", func() bool { return router.Stats().InfoHashes > 0 })
	announced := time.Since(start)

	start = time.Now()
	lt.AddTorrent(t, peertest.AddTorrent{Magnet: mi.Magnet().String(), SavePath: filepath.Join(dir, "leech")})
	waitfor.Cond(t, 20*time.Second, "libtorrent to connect", func() bool { return st.Stats().Peers > 0 })
	connected := time.Since(start)
	lt.WaitStatus(t, ih, 20*time.Second, func(s peertest.Status) bool { return s.IsSeeding })
	t.Logf("bt announced on the DHT in %v; libtorrent, given a magnet, connected to bt after %v and had the 2 MiB after %v",
		announced.Round(time.Millisecond), connected.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	peertest.WaitSameFiles(t, filepath.Dir(data), filepath.Join(dir, "leech"), 20*time.Second)
	if st.Uploaded() < 2<<20 {
		t.Errorf("bt uploaded %d bytes", st.Uploaded())
	}
}
