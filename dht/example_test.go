package dht_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"log"
	"net/netip"

	"github.com/bt-go/bt/dht"
)

// Three nodes on the loopback interface: one announces that it is a peer
// of an info hash on TCP port 6881, another finds it.
func Example() {
	ctx := context.Background()
	first, err := dht.New(dht.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	defer first.Close()
	boot := []string{first.Addr().String()}
	seeder, err := dht.New(dht.Config{Addr: "127.0.0.1:0", Bootstrap: boot})
	if err != nil {
		log.Fatal(err)
	}
	defer seeder.Close()
	leecher, err := dht.New(dht.Config{Addr: "127.0.0.1:0", Bootstrap: boot})
	if err != nil {
		log.Fatal(err)
	}
	defer leecher.Close()

	var infoHash [20]byte
	hex.Decode(infoHash[:], []byte("0123456789abcdef0123456789abcdef01234567"))
	if err := seeder.Announce(ctx, infoHash, 6881, false); err != nil {
		log.Fatal(err)
	}
	for peers := range leecher.GetPeers(ctx, infoHash) {
		fmt.Println(peers)
	}
	// Output: [127.0.0.1:6881]
}

// The engine adds the DHT node of each peer that sends a BEP 5 PORT
// message: the node is pinged and joins the routing table if it answers.
func ExampleServer_AddNode() {
	a, _ := dht.New(dht.Config{Addr: "127.0.0.1:0"})
	defer a.Close()
	b, _ := dht.New(dht.Config{Addr: "127.0.0.1:0"})
	defer b.Close()

	peerIP := netip.MustParseAddr("127.0.0.1") // the peer's address
	portMessage := b.Addr().Port()             // the port its PORT message named
	a.AddNode(netip.AddrPortFrom(peerIP, portMessage))
}

// BEP 42 ties a node id to its external IP address.
func ExampleIsSecureID() {
	var id dht.ID
	hex.Decode(id[:], []byte("5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401"))
	fmt.Println(dht.IsSecureID(id, netip.MustParseAddr("124.31.75.21")))
	fmt.Println(dht.IsSecureID(id, netip.MustParseAddr("21.75.31.124")))
	own := dht.SecureID(netip.MustParseAddr("21.75.31.124"))
	fmt.Println(dht.IsSecureID(own, netip.MustParseAddr("21.75.31.124")))
	// Output:
	// true
	// false
	// true
}
