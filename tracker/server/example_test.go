package server_test

import (
	"context"
	"fmt"
	"net"

	"github.com/bt-go/bt/tracker"
	"github.com/bt-go/bt/tracker/server"
)

func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan [2]net.Addr, 1)
	done := make(chan error, 1)
	srv := server.New(server.Config{})
	go func() {
		done <- srv.ListenAndServe(ctx, "127.0.0.1:0", "127.0.0.1:0", func(h, u net.Addr) { addrs <- [2]net.Addr{h, u} })
	}()
	a := <-addrs

	var c tracker.Client
	ih := [20]byte{1, 2, 3}
	for i, url := range []string{"http://" + a[0].String() + "/announce", "udp://" + a[1].String()} {
		resp, err := c.Announce(ctx, url, tracker.AnnounceRequest{
			InfoHash: ih, PeerID: [20]byte{byte(i)}, Port: uint16(6881 + i), Left: 100, Event: tracker.EventStarted,
		})
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println("leechers:", resp.Incomplete, "peers:", len(resp.Peers))
	}
	cancel()
	fmt.Println(<-done)
	// Output:
	// leechers: 1 peers: 0
	// leechers: 2 peers: 1
	// <nil>
}
