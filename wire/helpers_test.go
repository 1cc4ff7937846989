package wire

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"
)

var testHash = [20]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}

func testConfig(id byte) *Config {
	cfg := &Config{InfoHash: testHash, PieceLength: 64 << 10, TotalLength: 10*(64<<10) - 1000}
	cfg.PeerID[0] = id
	return cfg
}

// pipePair returns two unstarted Conns joined by net.Pipe.
func pipePair(t testing.TB, ca, cb *Config) (*Conn, *Conn) {
	t.Helper()
	pa, pb := net.Pipe()
	return pairOver(t, pa, pb, ca, cb)
}

// tcpPair returns two unstarted Conns joined by loopback TCP.
func tcpPair(t testing.TB, ca, cb *Config) (*Conn, *Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		nc, _ := ln.Accept()
		ch <- nc
	}()
	na, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	nb := <-ch
	return pairOver(t, na, nb, ca, cb)
}

func pairOver(t testing.TB, na, nb net.Conn, ca, cb *Config) (*Conn, *Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var b *Conn
	var errB error
	wg.Add(1)
	go func() {
		defer wg.Done()
		b, errB = NewConn(ctx, nb, cb)
	}()
	a, errA := NewConn(ctx, na, ca)
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("handshake: %v / %v", errA, errB)
	}
	t.Cleanup(func() {
		a.Close()
		b.Close()
		<-a.Done()
		<-b.Done()
	})
	return a, b
}

// recorder is a Handler that records messages and events on channels.
type recorder struct {
	msgs   chan Message
	events chan Event
	onMsg  func(c *Conn, m *Message)
}

func newRecorder() *recorder {
	return &recorder{msgs: make(chan Message, 1000), events: make(chan Event, 1000)}
}

func (r *recorder) HandleMessage(c *Conn, m *Message) {
	if r.onMsg != nil {
		r.onMsg(c, m)
	}
	mm := *m
	mm.Block = append([]byte(nil), m.Block...)
	mm.Payload = append([]byte(nil), m.Payload...)
	mm.Bitfield = append([]byte(nil), m.Bitfield...)
	select {
	case r.msgs <- mm:
	default:
	}
}

func (r *recorder) HandleEvent(c *Conn, e Event) {
	select {
	case r.events <- e:
	default:
	}
}

// next waits for a message of type t, skipping others.
func (r *recorder) next(t testing.TB, typ MessageType) Message {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-r.msgs:
			if m.Type == typ {
				return m
			}
		case <-timeout:
			t.Fatalf("no %v message", typ)
		}
	}
}

// nextEvent waits for an event of type typ, skipping others.
func (r *recorder) nextEvent(t testing.TB, typ EventType) Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-r.events:
			if e.Type == typ {
				return e
			}
		case <-timeout:
			t.Fatalf("no %v event", typ)
		}
	}
}
