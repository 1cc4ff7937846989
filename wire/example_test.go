package wire_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/wire"
)

var infoHash = [20]byte{'m', 'y', ' ', 'i', 'n', 'f', 'o', ' ', 'h', 'a', 's', 'h'}

func config(peerID string) *wire.Config {
	cfg := &wire.Config{InfoHash: infoHash, PieceLength: 1 << 18, TotalLength: 10 << 18}
	copy(cfg.PeerID[:], peerID)
	return cfg
}

// pipe joins two Conns over net.Pipe (the seed's "pipe to and from any
// stream"); both handshakes are exchanged.
func pipe() (*wire.Conn, *wire.Conn) {
	a, b := net.Pipe()
	var wg sync.WaitGroup
	var cb *wire.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		var err error
		cb, err = wire.NewConn(context.Background(), b, config("-BB0001-bbbbbbbbbbbb"))
		if err != nil {
			panic(err)
		}
	}()
	ca, err := wire.NewConn(context.Background(), a, config("-AA0001-aaaaaaaaaaaa"))
	if err != nil {
		panic(err)
	}
	wg.Wait()
	return ca, cb
}

// The peer-wire-protocol seed's first snippet: a connection over any
// stream, the peer's handshake, and the unchoke event.
func Example() {
	ours, theirs := pipe()
	h := ours.PeerHandshake()
	fmt.Printf("handshake: peer %s, extensions %v\n", h.PeerID[:8], h.Reserved)

	unchoked := make(chan struct{})
	ours.Start(wire.Funcs{Message: func(c *wire.Conn, m *wire.Message) {
		if m.Type == wire.MsgUnchoke {
			fmt.Println("peer is no longer choking us:", !c.PeerChoking())
			close(unchoked)
		}
	}})
	theirs.Start(nil)
	theirs.Unchoke()
	<-unchoked
	ours.Close()
	theirs.Close()
	<-ours.Done()
	<-theirs.Done()
	// Output:
	// handshake: peer -BB0001-, extensions fast,extended
	// peer is no longer choking us: true
}

// Requests and the responder: the seed's wire.request(..., callback) on one
// side and wire.on('request', ... callback(null, piece)) on the other.
func ExampleConn_Request() {
	downloader, seeder := pipe()
	seeder.HaveAll() // before Start: the first message after the handshake
	seeder.Start(wire.Funcs{Message: func(c *wire.Conn, m *wire.Message) {
		switch m.Type {
		case wire.MsgInterested:
			c.Unchoke()
		case wire.MsgRequest:
			// ... read the block (in another goroutine for real disks) ...
			block := make([]byte, m.Length)
			c.Piece(m.Index, m.Begin, block) // respond back to the peer
		}
	}})
	done := make(chan struct{})
	downloader.Start(wire.Funcs{Message: func(c *wire.Conn, m *wire.Message) {
		if m.Type == wire.MsgUnchoke {
			fmt.Println("peer has piece 7:", c.PeerHas(7))
			c.Request(7, 0, wire.BlockSize, func(block []byte, err error) {
				if err != nil {
					fmt.Println("request failed:", err) // e.g. choked, rejected, timed out
					return
				}
				fmt.Println("got", len(block), "bytes; pending requests:", len(c.Requests()))
				close(done)
			})
		}
	}})
	downloader.Interested()
	<-done
	downloader.Close()
	<-downloader.Done()
	<-seeder.Done()
	fmt.Println("downloaded:", downloader.Downloaded(), "uploaded by the seeder:", seeder.Uploaded())
	// Output:
	// peer has piece 7: true
	// got 16384 bytes; pending requests: 0
	// downloaded: 16384 uploaded by the seeder: 16384
}

// Peerface's listen and connect: one listening port, the torrent chosen by
// the info hash of the incoming handshake.
func ExampleListen() {
	connected := make(chan *wire.Conn, 1)
	l, err := wire.Listen("127.0.0.1:0", wire.ListenConfig{
		Torrent: func(peer wire.Handshake, remote net.Addr) *wire.Config {
			if peer.InfoHash != infoHash {
				return nil // not ours: hang up
			}
			return config("-SV0001-ssssssssssss")
		},
		Connected: func(c *wire.Conn) { // Peerface's 'peer-connected'
			c.Bitfield(bitfield.Full(10))
			c.Start(nil)
			connected <- c
		},
		Error:    func(err error) { fmt.Println("server error:", err) },
		Stopping: func(time.Time) { fmt.Println("server stopping") },
		Stopped:  func(err error) { fmt.Println("server stopped, error:", err) },
	})
	if err != nil {
		panic(err)
	}
	got := make(chan struct{})
	c, err := wire.Dial(context.Background(), l.Addr().String(), config("-CL0001-cccccccccccc"))
	if err != nil {
		panic(err)
	}
	c.Start(wire.Funcs{Message: func(c *wire.Conn, m *wire.Message) {
		if m.Type == wire.MsgBitfield {
			fmt.Println("server has", c.PeerPieces().Count(), "pieces")
			close(got)
		}
	}})
	<-got
	server := <-connected
	c.Close()
	server.Close()
	<-c.Done()
	<-server.Done()
	l.Close()
	// Output:
	// server has 10 pieces
	// server stopping
	// server stopped, error: <nil>
}

// greeter is a tiny BEP 10 extension: it says hello when the peer supports it.
type greeter struct{ got chan string }

func (g *greeter) Name() string                              { return "x_greet" }
func (g *greeter) ExtendHandshake(h *wire.ExtendedHandshake) {}
func (g *greeter) PeerHandshake(c *wire.Conn, h *wire.ExtendedHandshake, supported bool) {
	if supported {
		id := c.OurHandshake().PeerID
		c.SendExtended("x_greet", []byte("hello from "+string(id[:8])))
	}
}
func (g *greeter) HandleMessage(c *wire.Conn, payload []byte) error {
	g.got <- string(payload)
	return nil
}
func (g *greeter) Close(c *wire.Conn) {}

// The extension protocol's plugins: the seed's wire.use(ext).
func ExampleConn_Use() {
	a, b := pipe()
	ga, gb := &greeter{got: make(chan string, 1)}, &greeter{got: make(chan string, 1)}
	a.Use(ga)
	b.Use(gb)
	a.Start(nil)
	b.Start(nil)
	fmt.Println(<-ga.got)
	fmt.Println(<-gb.got)
	fmt.Println("peer client:", a.PeerExtendedHandshake().V)
	a.Close()
	b.Close()
	<-a.Done()
	<-b.Done()
	// Output:
	// hello from -BB0001-
	// hello from -AA0001-
	// peer client: bt-go/0.1
}

// A request time-out: the seed's wire.setTimeout and its 'timeout' event.
func ExampleConn_SetTimeout() {
	a, b := pipe()
	b.HaveAll()
	b.Start(wire.Funcs{Message: func(c *wire.Conn, m *wire.Message) {
		if m.Type == wire.MsgInterested {
			c.Unchoke() // but never answers requests
		}
	}})
	done := make(chan struct{})
	a.Start(wire.Funcs{
		Message: func(c *wire.Conn, m *wire.Message) {
			if m.Type == wire.MsgUnchoke {
				c.SetTimeout(20 * time.Millisecond)
				c.Request(0, 0, wire.BlockSize, func(block []byte, err error) { fmt.Println("request:", err) })
			}
		},
		Event: func(c *wire.Conn, e wire.Event) {
			if e.Type == wire.EventTimeout {
				fmt.Println("timeout event for", e.Request)
				close(done)
			}
		},
	})
	a.Interested()
	<-done
	a.Close()
	b.Close()
	<-a.Done()
	<-b.Done()
	// Output:
	// request: wire: request timed out
	// timeout event for 0:0+16384
}
