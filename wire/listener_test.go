package wire

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/waitfor"
)

// TestListenerBurst: a burst of honest peers larger than MaxHandshakes is
// served in full; none is hung up on.
func TestListenerBurst(t *testing.T) {
	conns := make(chan *Conn, 100)
	l, err := Listen("127.0.0.1:0", ListenConfig{
		Torrent:       func(Handshake, net.Addr) *Config { return testConfig('L') },
		Connected:     func(c *Conn) { conns <- c },
		MaxHandshakes: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const n = 60
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := Dial(ctx, l.Addr().String(), testConfig(byte(i)))
			if err != nil {
				errs <- err
				return
			}
			c.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("dial: %v", err)
	}
	for range n {
		(<-conns).Close()
	}
}

// TestListenerSilentPeers: peers that connect and say nothing fill every
// handshake slot, yet an honest peer is answered long before their
// handshakes would time out.
func TestListenerSilentPeers(t *testing.T) {
	conns := make(chan *Conn, 1)
	l, err := Listen("127.0.0.1:0", ListenConfig{
		Torrent:          func(Handshake, net.Addr) *Config { return testConfig('L') },
		Connected:        func(c *Conn) { conns <- c },
		MaxHandshakes:    4,
		HandshakeTimeout: time.Hour,
		HandshakeStale:   100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range 8 {
		nc, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, l.Addr().String(), testConfig('h'))
	if err != nil {
		t.Fatalf("an honest peer behind silent ones: %v", err)
	}
	c.Close()
	(<-conns).Close()
}

// TestIdleConnHoldsNoReadBuffer: once the messages that arrived are read,
// a connection gives its large read buffer back to the pool, whether they
// were short messages or blocks.
func TestIdleConnHoldsNoReadBuffer(t *testing.T) {
	a, b := tcpPair(t, testConfig('a'), testConfig('b'))
	got := make(chan MessageType, 16)
	a.Start(Funcs{Message: func(c *Conn, m *Message) {
		if m.Type == MsgRequest {
			c.Piece(m.Index, m.Begin, make([]byte, m.Length))
		}
	}})
	b.Start(Funcs{Message: func(c *Conn, m *Message) {
		if m.Type != MsgExtended {
			got <- m.Type
		}
	}})
	a.Unchoke()
	a.Have(3)
	for _, want := range []MessageType{MsgUnchoke, MsgHave} {
		if m := <-got; m != want {
			t.Fatalf("got %v, want %v", m, want)
		}
	}
	done := make(chan error, 1)
	b.Request(0, 0, BlockSize, func(_ []byte, err error) { done <- err })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	<-got // the piece
	a.Have(4)
	<-got
	// The reader goroutine is blocked in the next read: ask it nothing,
	// look at what it holds (it has given the buffer back before blocking).
	waitfor.Cond(t, 10*time.Second, "the read buffer to be released", func() bool { return !b.br.held.Load() })
	a.Close()
	b.Close()
}
