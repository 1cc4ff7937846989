package bt

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/wire"
	"github.com/bt-go/bt/wire/metadata"
)

// dhtContactsClient returns a client whose DHT contacts (the nodes its
// peers' port messages name) are recorded, and a function listing them.
func dhtContactsClient(t *testing.T) (*Client, func() []netip.AddrPort) {
	c := newTestClient(t, Config{})
	var mu sync.Mutex
	var got []netip.AddrPort
	c.SetDHTPortHandler(func(a netip.AddrPort) {
		mu.Lock()
		got = append(got, a)
		mu.Unlock()
	})
	return c, func() []netip.AddrPort {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// privateTorrent makes a torrent of new data in dir/seed/name, private or
// not.
func privateTorrent(t *testing.T, dir, name string, private bool) *metainfo.MetaInfo {
	src := makeData(t, filepath.Join(dir, "seed"), name, 40_000)
	mi, err := metainfo.Create(context.Background(), src, metainfo.CreateOptions{PieceLength: 16 << 10, Private: private})
	if err != nil {
		t.Fatal(err)
	}
	return mi
}

// TestPrivatePortMessage: the DHT port a peer of a private torrent sends
// (BEP 5 port message) never reaches the DHT (BEP 27); a public torrent's
// peer's does.
func TestPrivatePortMessage(t *testing.T) {
	dir := t.TempDir()
	c, contacts := dhtContactsClient(t)
	for _, private := range []bool{true, false} {
		name := fmt.Sprint("private-", private)
		mi := privateTorrent(t, dir, name, private)
		tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
		if err != nil {
			t.Fatal(err)
		}
		waitSeeding(t, tor, 10*time.Second)

		// A peer that sends a port message whatever the torrent: the
		// engine handles one connection's messages in order, so once its
		// interest shows, the port message before it has been handled.
		var pid [20]byte
		copy(pid[:], "-XX0001-")
		rand.Read(pid[8:])
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, err := wire.Dial(ctx, loopback(c.Port()).String(), &wire.Config{InfoHash: mi.InfoHash, PeerID: pid, DHT: true,
			PieceLength: mi.Info.PieceLength, TotalLength: mi.Info.TotalLength()})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(); <-conn.Done() })
		port := uint16(6000)
		if !private {
			port = 6001
		}
		if err := conn.HaveNone(); err != nil {
			t.Fatal(err)
		}
		if err := conn.Start(nopHandler{}); err != nil {
			t.Fatal(err)
		}
		if err := conn.Port(port); err != nil {
			t.Fatal(err)
		}
		if err := conn.Interested(); err != nil {
			t.Fatal(err)
		}
		waitfor.Cond(t, 10*time.Second, name+": the peer's interest", func() bool {
			ps := tor.Peers()
			return len(ps) == 1 && ps[0].Flags.PeerInterested
		})
		list := contacts()
		want := 0
		if !private {
			want = 1
		}
		if len(list) != want {
			t.Errorf("%s: DHT contacts %v, want %d", name, list, want)
		}
	}
}

type nopHandler struct{}

func (nopHandler) HandleMessage(*wire.Conn, *wire.Message) {}
func (nopHandler) HandleEvent(*wire.Conn, wire.Event)      {}

// TestMagnetPortMessageWaitsForMetadata: a magnet link does not say whether
// its torrent is private, so a port message that arrives before the
// metadata is held; once the metadata says private it is dropped, and
// public it reaches the DHT.
func TestMagnetPortMessageWaitsForMetadata(t *testing.T) {
	dir := t.TempDir()
	c, contacts := dhtContactsClient(t)
	for _, private := range []bool{true, false} {
		name := fmt.Sprint("magnet-private-", private)
		mi := privateTorrent(t, dir, name, private)
		port := uint16(7000)
		if !private {
			port = 7001
		}
		// A peer that serves the metadata and sends its DHT port first.
		var pid [20]byte
		copy(pid[:], "-XX0001-")
		rand.Read(pid[8:])
		ln, err := wire.Listen("127.0.0.1:0", wire.ListenConfig{
			Torrent: func(wire.Handshake, net.Addr) *wire.Config {
				return &wire.Config{InfoHash: mi.InfoHash, PeerID: pid, DHT: true}
			},
			Connected: func(conn *wire.Conn) {
				conn.Use(metadata.New(metadata.Config{Info: mi.InfoBytes}))
				conn.Port(port)
				conn.Start(nopHandler{})
				t.Cleanup(func() { conn.Close(); <-conn.Done() })
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		tor, err := c.AddMagnet(mi.Magnet().String(), &TorrentOptions{Dir: filepath.Join(dir, "leech"),
			Peers: []netip.AddrPort{netip.MustParseAddrPort(ln.Addr().String())}})
		if err != nil {
			t.Fatal(err)
		}
		waitfor.Cond(t, 10*time.Second, name+": the metadata", tor.HasMetadata)
		list := contacts()
		want := 0
		if !private {
			want = 1
		}
		if len(list) != want || want == 1 && list[0].Port() != port {
			t.Errorf("%s: DHT contacts %v, want %d with port %d", name, list, want, port)
		}
	}
}
