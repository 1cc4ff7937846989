package bt

import (
	"context"
	"crypto/rand"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/wire"
	"github.com/bt-go/bt/wire/pex"
)

// TestPEXOwnAddress: a peer that tells us, by ut_pex, of our own listen
// address and of another peer: the other is dialled, our own address is
// never taken as a peer (ut_pex leaves it out, knowing our listen port from
// the wire configuration).
func TestPEXOwnAddress(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 50_000)
	mi := makeTorrent(t, src, 16<<10)
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, tor, 10*time.Second)
	self := loopback(c.Port())

	// The other peer: a listener that reports the first connection.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dialled := make(chan struct{})
	go func() {
		if conn, err := ln.Accept(); err == nil {
			close(dialled)
			conn.Close()
		}
	}()
	other := netip.MustParseAddrPort(ln.Addr().String())

	// The telling peer, which bt dials (so the connection's local address
	// is not our listen address), declares ut_pex and sends one message
	// naming both.
	var pid [20]byte
	copy(pid[:], "-XX0001-")
	rand.Read(pid[8:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stub := &pexStub{ready: make(chan struct{})}
	conns := make(chan *wire.Conn, 1)
	tl, err := wire.Listen("127.0.0.1:0", wire.ListenConfig{
		Torrent: func(wire.Handshake, net.Addr) *wire.Config {
			return &wire.Config{InfoHash: mi.InfoHash, PeerID: pid,
				PieceLength: mi.Info.PieceLength, TotalLength: mi.Info.TotalLength()}
		},
		Connected: func(c *wire.Conn) {
			c.Use(stub)
			c.HaveNone()
			if c.Start(nopHandler{}) == nil {
				select {
				case conns <- c:
					return
				default:
				}
			}
			c.Close()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	tor.AddPeers(netip.MustParseAddrPort(tl.Addr().String()))
	var conn *wire.Conn
	select {
	case conn = <-conns:
	case <-ctx.Done():
		t.Fatal("bt did not connect to the telling peer")
	}
	defer func() { conn.Close(); <-conn.Done() }()
	select {
	case <-stub.ready:
	case <-ctx.Done():
		t.Fatal("no extended handshake naming ut_pex from bt")
	}
	payload, err := (&pex.Message{Added: []pex.Peer{{Addr: self}, {Addr: other}}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.SendExtended(pex.Name, payload); err != nil {
		t.Fatal(err)
	}
	select {
	case <-dialled:
	case <-ctx.Done():
		t.Fatal("the peer learnt by PEX was not dialled")
	}
	// Both arrived in one message and were queued together: once the
	// other is dialled, our own address would be known or dialling.
	var known, dialling bool
	tor.call(func() { _, known = tor.known[self]; dialling = tor.dialing[self] })
	if known || dialling || c.isSelf(self) {
		t.Errorf("our own address %v taken from PEX: known %v, dialling %v, dialled %v", self, known, dialling, c.isSelf(self))
	}
}

// pexStub declares ut_pex in our extended handshake and reports when the
// peer's names it too.
type pexStub struct{ ready chan struct{} }

func (*pexStub) Name() string                            { return pex.Name }
func (*pexStub) ExtendHandshake(*wire.ExtendedHandshake) {}
func (s *pexStub) PeerHandshake(_ *wire.Conn, _ *wire.ExtendedHandshake, supported bool) {
	if supported {
		select {
		case <-s.ready:
		default:
			close(s.ready)
		}
	}
}
func (*pexStub) HandleMessage(*wire.Conn, []byte) error { return nil }
func (*pexStub) Close(*wire.Conn)                       {}
