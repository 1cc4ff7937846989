package metadata_test

import (
	"context"
	"crypto/sha1"
	"fmt"
	"net"
	"time"

	"github.com/bt-go/bt/wire"
	"github.com/bt-go/bt/wire/metadata"
)

func ExampleParseMessage() {
	for _, payload := range []string{
		"d8:msg_typei0e5:piecei0ee",
		"d8:msg_typei1e5:piecei1e10:total_sizei16390eeabcdef",
		"d8:msg_typei2e5:piecei0ee",
	} {
		m, err := metadata.ParseMessage([]byte(payload))
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%v piece %d total_size %d data %q\n", m.Type, m.Piece, m.TotalSize, m.Data)
	}
	// Output:
	// request piece 0 total_size 0 data ""
	// data piece 1 total_size 16390 data "abcdef"
	// reject piece 0 total_size 0 data ""
}

// A peer that has the info dictionary serves it; another, knowing only the
// info hash, fetches it with a Fetcher shared by all its connections.
func ExampleFetcher() {
	info := []byte("d6:lengthi1024e4:name8:demo.bin12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae")
	infoHash := sha1.Sum(info)

	// The serving side.
	ln, err := wire.Listen("127.0.0.1:0", wire.ListenConfig{
		Torrent: func(wire.Handshake, net.Addr) *wire.Config {
			return &wire.Config{InfoHash: infoHash, PeerID: [20]byte{1}}
		},
		Connected: func(c *wire.Conn) {
			c.Use(metadata.New(metadata.Config{Info: info}))
			c.Start(wire.Funcs{})
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()

	// The fetching side: one Fetcher, an Extension on each connection.
	f := metadata.NewFetcher(infoHash, metadata.FetcherConfig{})
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wire.Dial(ctx, ln.Addr().String(), &wire.Config{InfoHash: infoHash, PeerID: [20]byte{2}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { c.Close(); <-c.Done() }()
	c.Use(metadata.New(metadata.Config{Fetcher: f}))
	c.Start(wire.Funcs{})

	parsed, infoBytes, err := f.WaitInfo(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(parsed.Name, parsed.TotalLength(), len(infoBytes) == len(info))
	// Output:
	// demo.bin 1024 true
}
