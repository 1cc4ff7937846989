package metadata_test

import (
	"encoding/hex"
	"net"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/wire"
	"github.com/bt-go/bt/wire/metadata"
)

func TestDebugTiming(t *testing.T) {
	lt := peertest.StartLibtorrent(t, nil)
	_, _, info, ih := makeTorrent(t, 8<<20, 16<<10)
	start := time.Now()
	ln, _ := wire.Listen("127.0.0.1:0", wire.ListenConfig{
		Torrent: func(h wire.Handshake, _ net.Addr) *wire.Config {
			t.Logf("%v handshake in", time.Since(start))
			return &wire.Config{InfoHash: ih, PeerID: peerID(2)}
		},
		Connected: func(c *wire.Conn) {
			c.Use(metadata.New(metadata.Config{Info: info}))
			c.Start(wire.Funcs{Message: func(c *wire.Conn, m *wire.Message) { t.Logf("%v msg %v %d", time.Since(start), m.Type, m.ExtendedID) },
				Event: func(c *wire.Conn, e wire.Event) { t.Logf("%v event %v %v", time.Since(start), e.Type, e.Err) }})
		},
	})
	defer ln.Close()
	ihHex := lt.AddTorrent(t, peertest.AddTorrent{Magnet: "magnet:?xt=urn:btih:" + hex.EncodeToString(ih[:]), SavePath: t.TempDir()})
	start = time.Now()
	st := lt.WaitStatus(t, ihHex, 30*time.Second, func(s peertest.Status) bool { return s.State == "downloading_metadata" })
	t.Logf("%v state %+v", time.Since(start), st)
	lt.ConnectPeer(t, ihHex, ln.Addr().String())
	t.Logf("%v connect_peer returned", time.Since(start))
	lt.WaitStatus(t, ihHex, 30*time.Second, func(s peertest.Status) bool { return s.HasMetadata })
	t.Logf("%v has metadata", time.Since(start))
}
