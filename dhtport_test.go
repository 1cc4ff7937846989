package bt

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/wire"
)

// TestPrivatePortMessage: the DHT port a peer of a private torrent sends
// (BEP 5 port message) never reaches the DHT (BEP 27); a public torrent's
// peer's does.
func TestPrivatePortMessage(t *testing.T) {
	dir := t.TempDir()
	c := newTestClient(t, Config{})
	var mu sync.Mutex
	var got []netip.AddrPort
	c.SetDHTPortHandler(func(a netip.AddrPort) {
		mu.Lock()
		got = append(got, a)
		mu.Unlock()
	})
	for _, private := range []bool{true, false} {
		name := fmt.Sprint("private-", private)
		src := makeData(t, filepath.Join(dir, "seed"), name, 40_000)
		mi, err := metainfo.Create(context.Background(), src, metainfo.CreateOptions{PieceLength: 16 << 10, Private: private})
		if err != nil {
			t.Fatal(err)
		}
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
		waitFor(t, 10*time.Second, name+": the peer's interest", func() bool {
			ps := tor.Peers()
			return len(ps) == 1 && ps[0].Flags.PeerInterested
		})
		mu.Lock()
		list := append([]netip.AddrPort(nil), got...)
		mu.Unlock()
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
