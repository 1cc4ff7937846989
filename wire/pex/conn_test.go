package pex_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/wire"
	"github.com/bt-go/bt/wire/pex"
)

var testHash = [20]byte{19: 1}

// rawPex is an extension named ut_pex that only lets a test send raw
// payloads.
type rawPex struct{}

func (rawPex) Name() string                                            { return pex.Name }
func (rawPex) ExtendHandshake(*wire.ExtendedHandshake)                 {}
func (rawPex) PeerHandshake(*wire.Conn, *wire.ExtendedHandshake, bool) {}
func (rawPex) HandleMessage(*wire.Conn, []byte) error                  { return nil }
func (rawPex) Close(*wire.Conn)                                        {}

// pair connects two of our Conns over loopback TCP, with ext on the
// listening side and other on the dialing side, starts both and waits for
// both extended handshakes.
func pair(t *testing.T, ext, other wire.Extension) (server, client *wire.Conn) {
	t.Helper()
	got := make(chan *wire.Conn, 1)
	ln, err := wire.Listen("127.0.0.1:0", wire.ListenConfig{
		Torrent: func(wire.Handshake, net.Addr) *wire.Config {
			return &wire.Config{InfoHash: testHash, PeerID: [20]byte{1}, ListenPort: 7001}
		},
		Connected: func(c *wire.Conn) {
			c.Use(ext)
			c.Start(wire.Funcs{})
			got <- c
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err = wire.Dial(ctx, ln.Addr().String(), &wire.Config{InfoHash: testHash, PeerID: [20]byte{2}, ListenPort: 7002})
	if err != nil {
		t.Fatal(err)
	}
	client.Use(other)
	client.Start(wire.Funcs{})
	server = <-got
	t.Cleanup(func() {
		client.Close()
		server.Close()
		<-client.Done()
		<-server.Done()
	})
	waitfor.Cond(t, 10*time.Second, "both sides to learn of the peers", func() bool {
		return client.PeerExtendedHandshake() != nil && server.PeerExtendedHandshake() != nil
	})
	return server, client
}

func TestExchangeOverConnection(t *testing.T) {
	learnt := make(chan netip.AddrPort, 10)
	a := pex.New(pex.Config{})
	b := pex.New(pex.Config{OnPeer: func(addr netip.AddrPort, _ pex.Flags) { learnt <- addr }})
	pair(t, a, b)
	// Our own listen address and the remote's are never announced.
	a.AddPeer(netip.MustParseAddrPort("127.0.0.1:7001"))
	a.AddPeer(netip.MustParseAddrPort("127.0.0.1:7002"))
	a.AddPeer(netip.MustParseAddrPort("127.0.0.9:6881"))
	a.Start()
	select {
	case got := <-learnt:
		if got != netip.MustParseAddrPort("127.0.0.9:6881") {
			t.Errorf("learnt %v", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing learnt")
	}
	select {
	case got := <-learnt:
		t.Errorf("also learnt %v", got)
	default:
	}
}

func TestFloodClosesConnection(t *testing.T) {
	ext := pex.New(pex.Config{})
	server, client := pair(t, ext, rawPex{})
	msg := []byte("d5:added6:\x0a\x00\x00\x01\x1a\xe17:added.f1:\x00e")
	for range pex.DefaultMaxPerMinute + 1 {
		if err := client.SendExtended(pex.Name, msg); err != nil {
			break
		}
	}
	select {
	case <-server.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("flooding peer not disconnected")
	}
	if err := server.Err(); !errors.Is(err, pex.ErrTooFrequent) {
		t.Errorf("connection ended with %v, want ErrTooFrequent", err)
	}
}

func TestNotADictionaryClosesConnection(t *testing.T) {
	ext := pex.New(pex.Config{})
	server, client := pair(t, ext, rawPex{})
	client.SendExtended(pex.Name, []byte("li1ei2ee"))
	select {
	case <-server.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("peer sending a list not disconnected")
	}
	if err := server.Err(); !errors.Is(err, pex.ErrInvalidMessage) {
		t.Errorf("connection ended with %v, want ErrInvalidMessage", err)
	}
}
