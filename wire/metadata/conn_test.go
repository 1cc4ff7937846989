package metadata_test

import (
	"context"
	"crypto/sha1"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/bt-go/bt/wire"
	"github.com/bt-go/bt/wire/metadata"
)

// fakeInfo returns a bencoded dictionary of n bytes or a little more.
func fakeInfo(n int) []byte {
	pad := make([]byte, n)
	for i := range pad {
		pad[i] = byte('a' + i%26)
	}
	return fmt.Appendf(nil, "d4:name3:abc6:pieces%d:%se", len(pad), pad)
}

// serve runs a listener whose connections serve info over ut_metadata.
func serve(t *testing.T, ih [20]byte, info []byte) string {
	t.Helper()
	ln, err := wire.Listen("127.0.0.1:0", wire.ListenConfig{
		Torrent: func(wire.Handshake, net.Addr) *wire.Config {
			return &wire.Config{InfoHash: ih, PeerID: peerID(9)}
		},
		Connected: func(c *wire.Conn) {
			c.Use(metadata.New(metadata.Config{Info: info}))
			c.Start(wire.Funcs{})
			t.Cleanup(func() { c.Close(); <-c.Done() })
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// TestFetchOverConnections fetches over real connections from three of our
// own peers, one of which serves metadata that fails the hash.
func TestFetchOverConnections(t *testing.T) {
	info := fakeInfo(5*metadata.PieceSize + 123)
	ih := sha1.Sum(info)
	bad := append([]byte(nil), info...)
	bad[len(bad)/2] ^= 1
	addrs := []string{serve(t, ih, bad), serve(t, ih, info), serve(t, ih, info)}

	f := metadata.NewFetcher(ih, metadata.FetcherConfig{MaxOutstanding: 2})
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i, a := range addrs {
		c, err := wire.Dial(ctx, a, &wire.Config{InfoHash: ih, PeerID: peerID(byte(10 + i))})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { c.Close(); <-c.Done() }()
		c.Use(metadata.New(metadata.Config{Fetcher: f}))
		if err := c.Start(wire.Funcs{}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sha1.Sum(got) != ih {
		t.Fatal("metadata does not match the info hash")
	}
}
