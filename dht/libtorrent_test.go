package dht

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/internal/waitfor"
)

// startLibtorrentDHT starts a libtorrent session with its DHT on, joined
// through bootstrap. Found while writing these tests (libtorrent 2.0.8):
//   - libtorrent keeps one routing-table node per IP address unless
//     dht_restrict_routing_ips and dht_restrict_search_ips are off, and
//     every node here is on 127.0.0.1;
//   - nodes named in dht_bootstrap_nodes are "router" nodes, which
//     libtorrent queries but never puts in its routing table; so the
//     bootstrap node is given with add_dht_node instead.
func startLibtorrentDHT(t *testing.T, bootstrap netip.AddrPort) *peertest.Libtorrent {
	t.Helper()
	lt := peertest.StartLibtorrent(t, map[string]any{
		"enable_dht":               true,
		"dht_bootstrap_nodes":      "",
		"dht_restrict_routing_ips": false,
		"dht_restrict_search_ips":  false,
	})
	lt.AddDHTNode(t, bootstrap.String())
	return lt
}

// ltRoutingTable returns the nodes in a libtorrent session's DHT routing
// table, from its saved session state.
func ltRoutingTable(t *testing.T, lt *peertest.Libtorrent) []netip.AddrPort {
	t.Helper()
	raw := lt.Exec(t, `
st = ses.save_state()
nodes = st.get(b'dht state', {}).get(b'nodes', [])
result = [n.hex() for n in nodes]
`, nil)
	var hexes []string
	if err := json.Unmarshal(raw, &hexes); err != nil {
		t.Fatal(err)
	}
	var out []netip.AddrPort
	for _, h := range hexes {
		b, _ := hex.DecodeString(h)
		if len(b) == 6 {
			out = append(out, netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[:4])), uint16(b[4])<<8|uint16(b[5])))
		}
	}
	return out
}

func ltAddr(lt *peertest.Libtorrent) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(lt.Port()))
}

// TestLibtorrentBootstrap: a bt node and a libtorrent session bootstrap from
// each other and end up in each other's routing table.
func TestLibtorrentBootstrap(t *testing.T) {
	peertest.RequireLibtorrent(t)
	ours := newTestServer(t, Config{})
	lt := startLibtorrentDHT(t, ours.Addr())
	ours.AddNode(ltAddr(lt))
	waitfor.Cond(t, 20*time.Second, "libtorrent in our routing table", func() bool { return hasNode(ours, ltAddr(lt)) })
	waitfor.Cond(t, 20*time.Second, "us in libtorrent's routing table", func() bool {
		return slices.Contains(ltRoutingTable(t, lt), ours.Addr())
	})
	// A second bt node that knows only the libtorrent session joins too.
	other := newTestServer(t, Config{Bootstrap: []string{ltAddr(lt).String()}})
	waitfor.Cond(t, 20*time.Second, "libtorrent in the second node's table", func() bool { return hasNode(other, ltAddr(lt)) })
	waitfor.Cond(t, 20*time.Second, "second node in libtorrent's table", func() bool {
		return slices.Contains(ltRoutingTable(t, lt), other.Addr())
	})
	// A second libtorrent session given only our node learns of the first
	// session from our find_node/get_peers replies.
	lt2 := startLibtorrentDHT(t, ours.Addr())
	waitfor.Cond(t, 20*time.Second, "the second session to learn the first through us", func() bool {
		return slices.Contains(ltRoutingTable(t, lt2), ltAddr(lt))
	})
	t.Logf("libtorrent %v and %v and bt nodes %v, %v know each other; our stats: %+v",
		ltAddr(lt), ltAddr(lt2), ours.Addr(), other.Addr(), ours.Stats())
}

// TestLibtorrentSeedFound: a libtorrent seed announces its torrent to the
// DHT; our GetPeers finds the seed's address.
func TestLibtorrentSeedFound(t *testing.T) {
	peertest.RequireLibtorrent(t)
	ours := newTestServer(t, Config{})
	lt := startLibtorrentDHT(t, ours.Addr())
	ours.AddNode(ltAddr(lt))
	waitfor.Cond(t, 20*time.Second, "libtorrent in our routing table", func() bool { return hasNode(ours, ltAddr(lt)) })

	dir := t.TempDir()
	data := filepath.Join(dir, "data.bin")
	peertest.WriteRandomFile(t, data, 64<<10)
	torrent, ihHex := peertest.CreateTorrent(t, data, peertest.CreateOptions{V1Only: true})
	tf := filepath.Join(t.TempDir(), "t.torrent")
	if err := os.WriteFile(tf, torrent, 0o644); err != nil {
		t.Fatal(err)
	}
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: tf, SavePath: dir, SeedMode: true})
	var ih ID
	hex.Decode(ih[:], []byte(ihHex))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// libtorrent announces once its DHT is up; look until the seed shows.
	waitfor.Cond(t, 30*time.Second, "the seed through GetPeers", func() bool {
		return slices.Contains(collect(ours.GetPeers(ctx, ih)), ltAddr(lt))
	})
	t.Logf("found libtorrent seed %v for %s; our stats: %+v", ltAddr(lt), ihHex, ours.Stats())
}

// TestLibtorrentFindsUs: we announce an info hash with the port of a TCP
// listener; a libtorrent session given only a magnet link for it finds us
// through the DHT and connects to that listener with the right info hash.
func TestLibtorrentFindsUs(t *testing.T) {
	peertest.RequireLibtorrent(t)
	ours := newTestServer(t, Config{})
	store := newTestServer(t, Config{Bootstrap: []string{ours.Addr().String()}}) // a bt node to announce to
	lt := startLibtorrentDHT(t, ours.Addr())
	ours.AddNode(ltAddr(lt))
	waitfor.Cond(t, 20*time.Second, "nodes to join", func() bool {
		return hasNode(ours, ltAddr(lt)) && hasNode(ours, store.Addr())
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	ih := RandomID()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ours.Announce(ctx, ih, port, false); err != nil {
		t.Fatalf("Announce: %v", err)
	}

	lt.AddTorrent(t, peertest.AddTorrent{Magnet: "magnet:?xt=urn:btih:" + ih.String(), SavePath: t.TempDir()})
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(30 * time.Second))
	conn, err := ln.Accept()
	if err != nil {
		t.Fatalf("libtorrent did not connect to our announced port: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	hs := make([]byte, 68)
	if _, err := io.ReadFull(conn, hs); err != nil {
		t.Fatalf("reading handshake: %v", err)
	}
	if string(hs[1:20]) != "BitTorrent protocol" || ID(hs[28:48]) != ih {
		t.Fatalf("handshake %x is not for %s", hs, ih)
	}
	t.Logf("libtorrent connected from %v for %s", conn.RemoteAddr(), ih)
}
