package pex_test

import (
	"context"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/wire"
	"github.com/bt-go/bt/wire/pex"
)

// ltSettings keeps libtorrent from trying uTP first when it dials (it falls
// back to TCP only after about 4 s, and we have no uTP).
var ltSettings = map[string]any{"enable_outgoing_utp": false}

// swarmTorrent creates a torrent of a random file and returns its .torrent
// path and info hash. The sessions of these tests download it into empty
// directories, so no peer is a seed and connections stay up.
func swarmTorrent(t *testing.T) (string, [20]byte) {
	t.Helper()
	data := filepath.Join(t.TempDir(), "payload.bin")
	peertest.WriteRandomFile(t, data, 1<<20)
	torrent, ihHex := peertest.CreateTorrent(t, data, peertest.CreateOptions{V1Only: true})
	p := filepath.Join(t.TempDir(), "t.torrent")
	if err := os.WriteFile(p, torrent, 0o644); err != nil {
		t.Fatal(err)
	}
	var ih [20]byte
	if _, err := hex.Decode(ih[:], []byte(ihHex)); err != nil {
		t.Fatal(err)
	}
	return p, ih
}

func dial(t *testing.T, addr string, ih [20]byte, ext *pex.Extension) *wire.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var id [20]byte
	copy(id[:], "-BT0001-pextest00000")
	c, err := wire.Dial(ctx, addr, &wire.Config{InfoHash: ih, PeerID: id})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); <-c.Done() })
	c.Use(ext)
	if err := c.Start(wire.Funcs{}); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLearnPeerFromLibtorrent: libtorrent A is connected to libtorrent B; our
// connection to A learns B's address through ut_pex.
func TestLearnPeerFromLibtorrent(t *testing.T) {
	torrentPath, ih := swarmTorrent(t)
	a := peertest.StartLibtorrent(t, ltSettings)
	b := peertest.StartLibtorrent(t, ltSettings)
	ihHex := a.AddTorrent(t, peertest.AddTorrent{TorrentFile: torrentPath, SavePath: t.TempDir()})
	b.AddTorrent(t, peertest.AddTorrent{TorrentFile: torrentPath, SavePath: t.TempDir()})
	a.ConnectPeer(t, ihHex, b.Addr())
	a.WaitStatus(t, ihHex, 30*time.Second, func(s peertest.Status) bool { return s.NumPeers >= 1 })

	bAddr := netip.MustParseAddrPort(b.Addr())
	learnt := make(chan pex.Flags, 16)
	var mu sync.Mutex
	var seen []netip.AddrPort
	ext := pex.New(pex.Config{OnPeer: func(addr netip.AddrPort, f pex.Flags) {
		mu.Lock()
		seen = append(seen, addr)
		mu.Unlock()
		if addr == bAddr {
			learnt <- f
		}
	}})
	start := time.Now()
	c := dial(t, a.Addr(), ih, ext)
	select {
	case f := <-learnt:
		t.Logf("learnt libtorrent B (%v, flags %v) from A through ut_pex %v after connecting", bAddr, f, time.Since(start))
	case <-time.After(3 * time.Minute):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("no ut_pex announcement of %v from libtorrent in 3 minutes; learnt %v; peer extensions %v",
			bAddr, seen, c.PeerExtensions())
	}
	if got := ext.Peers(); len(got) == 0 {
		t.Error("Peers is empty after an announcement")
	}
}

// TestLibtorrentLearnsOurPeer: we announce an address with AddPeer on our
// connection to libtorrent; libtorrent, which wants peers, connects to it.
func TestLibtorrentLearnsOurPeer(t *testing.T) {
	torrentPath, ih := swarmTorrent(t)
	a := peertest.StartLibtorrent(t, ltSettings)
	ihHex := a.AddTorrent(t, peertest.AddTorrent{TorrentFile: torrentPath, SavePath: t.TempDir()})
	// While it checks files, libtorrent hangs up on incoming connections.
	a.WaitStatus(t, ihHex, 30*time.Second, func(s peertest.Status) bool { return s.State == "downloading" })

	// The announced peer: a listener of ours that records who arrives.
	arrived := make(chan net.Addr, 4)
	ln, err := wire.Listen("127.0.0.1:0", wire.ListenConfig{
		Torrent: func(h wire.Handshake, remote net.Addr) *wire.Config {
			if h.InfoHash == ih {
				select {
				case arrived <- remote:
				default:
				}
			}
			return nil // hang up: the arrival is all we need
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	announced := ln.Addr().(*net.TCPAddr).AddrPort()

	ext := pex.New(pex.Config{})
	ext.AddPeerFlags(announced, pex.FlagReachable)
	start := time.Now()
	dial(t, a.Addr(), ih, ext)
	ext.Start()
	select {
	case r := <-arrived:
		t.Logf("libtorrent connected to the announced %v (from %v) %v after we connected", announced, r, time.Since(start))
	case <-time.After(time.Minute):
		t.Fatalf("libtorrent did not connect to the announced %v in a minute; its peers: %+v", announced, a.Peers(t, ihHex))
	}
}
