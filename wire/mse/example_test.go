package mse_test

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/bt-go/bt/wire/mse"
)

// Wrapping a net.Conn on each side: the receiver serves one torrent, the
// initiator asks for it, and the initiator's first Write (a BitTorrent
// handshake, here just its first 20 bytes) travels with the key exchange.
func Example() {
	infoHash := [20]byte{0xaa, 0xbb}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()

	served := make(chan string)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			panic(err)
		}
		defer nc.Close()
		byHash := map[[20]byte][20]byte{mse.SKeyHash(infoHash): infoHash}
		c, err := mse.Server(context.Background(), nc, &mse.Config{
			Find: func(h [20]byte) ([20]byte, bool) { ih, ok := byHash[h]; return ih, ok },
		})
		if err != nil {
			panic(err)
		}
		hs := make([]byte, 20)
		io.ReadFull(c, hs)
		served <- fmt.Sprintf("receiver: %q over %v", hs, c.Method())
		c.Write([]byte("welcome"))
	}()

	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	c := mse.Client(nc, &mse.Config{SKey: infoHash, Methods: mse.RC4})
	defer c.Close()
	if _, err := c.Write([]byte("\x13BitTorrent protocol")); err != nil {
		panic(err)
	}
	fmt.Println(<-served)
	reply := make([]byte, 7)
	io.ReadFull(c, reply)
	fmt.Printf("initiator: %q over %v\n", reply, c.Method())
	// Output:
	// receiver: "\x13BitTorrent protocol" over rc4
	// initiator: "welcome" over rc4
}
