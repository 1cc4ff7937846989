package bt

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bt-go/bt/dht"
	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/internal/waitfor"
)

// startRouter runs a bare DHT node on 127.0.0.1 for clients to bootstrap
// from: tests never use DefaultDHTBootstrap.
func startRouter(t *testing.T) *dht.Server {
	t.Helper()
	s, err := dht.New(dht.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func hasDHTNode(s *dht.Server, addr netip.AddrPort) bool {
	return slices.ContainsFunc(s.Nodes(), func(n dht.NodeInfo) bool { return n.Addr == addr })
}

// TestDHTMagnet: a bt seed and a bt client given only a magnet link (no
// tracker, no peer) find each other through the DHT; the metadata and the
// data follow. The DHT runs on the TCP port number, and each side learns
// the other's node from its port message.
func TestDHTMagnet(t *testing.T) {
	router := startRouter(t)
	boot := []string{router.Addr().String()}
	dir := t.TempDir()
	src, mi := trackerTorrent(t, dir, false)

	seeder := newTestClient(t, Config{DHT: true, DHTBootstrap: boot})
	if got := seeder.DHT().Addr(); got != loopback(seeder.Port()) {
		t.Errorf("DHT on %v, want the TCP port %d", got, seeder.Port())
	}
	st, err := seeder.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, st, 10*time.Second)

	start := time.Now()
	c := newTestClient(t, Config{DHT: true, DHTBootstrap: boot})
	tor, err := c.AddMagnet(mi.Magnet().String(), &TorrentOptions{Dir: filepath.Join(dir, "leech")})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 20*time.Second)
	t.Logf("found and downloaded through the DHT in %v", time.Since(start).Round(time.Millisecond))
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
	waitfor.Cond(t, 10*time.Second, "each node in the other's table (port messages)", func() bool {
		return hasDHTNode(c.DHT(), seeder.DHT().Addr()) && hasDHTNode(seeder.DHT(), c.DHT().Addr())
	})
}

// TestDHTPrivate: a private torrent is never looked up or announced on the
// DHT, and its connections do not set the DHT bit. A public torrent of the
// same client is the control: once it is announced on the router, the
// private one has had as many chances.
func TestDHTPrivate(t *testing.T) {
	router := startRouter(t)
	dir := t.TempDir()
	_, mi := trackerTorrent(t, dir, true)
	_, pub := trackerTorrent(t, filepath.Join(dir, "public"), false)
	c := newTestClient(t, Config{DHT: true, DHTBootstrap: []string{router.Addr().String()}})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, tor, 10*time.Second)
	control, err := c.AddTorrent(pub, &TorrentOptions{Dir: filepath.Join(dir, "public", "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, control, 10*time.Second)
	if tor.useDHT() || tor.wireConfig().DHT {
		t.Error("a private torrent uses the DHT")
	}
	if !control.useDHT() {
		t.Fatal("the public torrent does not use the DHT")
	}
	waitfor.Cond(t, 20*time.Second, "the public torrent's announce", func() bool { return router.Stats().InfoHashes > 0 })
	var looked bool
	tor.call(func() { looked = tor.disc.dht.running || !tor.disc.dht.last.IsZero() })
	if looked {
		t.Error("a private torrent was looked up on the DHT")
	}
	if s := router.Stats(); s.InfoHashes != 1 {
		t.Errorf("the router stored %d info hashes, want only the public torrent's", s.InfoHashes)
	}
}

// TestDHTStateFile: the routing table is saved in the state directory and
// reused by the next client.
func TestDHTStateFile(t *testing.T) {
	router := startRouter(t)
	state := t.TempDir()
	c := newTestClient(t, Config{DHT: true, DHTBootstrap: []string{router.Addr().String()}, StateDir: state})
	waitfor.Cond(t, 10*time.Second, "the node to join", func() bool { return hasDHTNode(c.DHT(), router.Addr()) })
	c.Close()
	if _, err := os.Stat(filepath.Join(state, "dht.state")); err != nil {
		t.Fatalf("no DHT state file: %v", err)
	}
	c2 := newTestClient(t, Config{DHT: true, StateDir: state}) // no bootstrap this time
	waitfor.Cond(t, 10*time.Second, "the saved node back in the table", func() bool { return hasDHTNode(c2.DHT(), router.Addr()) })
}

// TestDHTMagnetIPv6: the same over ::1 (BEP 32): the nodes and the peers
// are IPv6 addresses.
func TestDHTMagnetIPv6(t *testing.T) {
	router, err := dht.New(dht.Config{Addr: "[::1]:0"})
	if err != nil {
		peertest.Unavailable(t, "no IPv6 loopback: %v", err)
	}
	defer router.Close()
	boot := []string{router.Addr().String()}
	dir := t.TempDir()
	src, mi := trackerTorrent(t, dir, false)
	seeder := newTestClient(t, Config{ListenAddr: "[::1]:0", DHT: true, DHTBootstrap: boot})
	st, err := seeder.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, st, 10*time.Second)
	c := newTestClient(t, Config{ListenAddr: "[::1]:0", DHT: true, DHTBootstrap: boot})
	tor, err := c.AddMagnet(mi.Magnet().String(), &TorrentOptions{Dir: filepath.Join(dir, "leech")})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 20*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
	if s := c.DHT().Stats(); s.Nodes6 == 0 {
		t.Errorf("no IPv6 node in the table: %+v", s)
	}
}
