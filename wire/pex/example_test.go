package pex_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/bt-go/bt/wire"
	"github.com/bt-go/bt/wire/pex"
)

func ExampleParseMessage() {
	payload := []byte("d5:added12:\xc0\x00\x02\x07\x1a\xe1\xc0\x00\x02\x08\x1a\xe27:added.f2:\x12\x007:dropped6:\xc0\x00\x02\x09\x1a\xe3e")
	m, err := pex.ParseMessage(payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range m.Added {
		fmt.Println("added", p.Addr, p.Flags)
	}
	for _, a := range m.Dropped {
		fmt.Println("dropped", a)
	}
	// Output:
	// added 192.0.2.7:6881 seed|reachable
	// added 192.0.2.8:6882 0
	// dropped 192.0.2.9:6883
}

func ExampleMessage_Marshal() {
	m := pex.Message{
		Added:   []pex.Peer{{Addr: netip.MustParseAddrPort("[2001:db8::1]:6881"), Flags: pex.FlagUTP}},
		Dropped: []netip.AddrPort{netip.MustParseAddrPort("192.0.2.9:6883")},
	}
	b, err := m.Marshal()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", b)
	// Output:
	// "d6:added618: \x01\r\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1a\xe18:added6.f1:\x047:dropped6:\xc0\x00\x02\t\x1a\xe3e"
}

// Two peers of ours exchange peers over a loopback connection: the listening
// side announces a peer, the dialing side learns it.
func ExampleNew() {
	var infoHash [20]byte
	learnt := make(chan netip.AddrPort, 1)

	// The listening side announces the peers it is connected to.
	ln, err := wire.Listen("127.0.0.1:0", wire.ListenConfig{
		Torrent: func(wire.Handshake, net.Addr) *wire.Config {
			return &wire.Config{InfoHash: infoHash, PeerID: [20]byte{1}}
		},
		Connected: func(c *wire.Conn) {
			ext := pex.New(pex.Config{})
			c.Use(ext) // before Start
			c.Start(wire.Funcs{})
			ext.AddPeerFlags(netip.MustParseAddrPort("192.0.2.7:6881"), pex.FlagSeed)
			ext.Start() // the first message goes out once the remote's handshake arrives
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()

	// The dialing side reports what it hears.
	ext := pex.New(pex.Config{
		OnPeer: func(addr netip.AddrPort, f pex.Flags) {
			fmt.Println("peer", addr, f)
			learnt <- addr
		},
	})
	c, err := wire.Dial(context.Background(), ln.Addr().String(), &wire.Config{InfoHash: infoHash, PeerID: [20]byte{2}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { c.Close(); <-c.Done() }()
	c.Use(ext)
	c.Start(wire.Funcs{})
	<-learnt
	// Output:
	// peer 192.0.2.7:6881 seed
}
