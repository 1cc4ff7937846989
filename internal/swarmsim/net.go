// Package swarmsim runs real bt.Clients in one process over an in-memory
// network, for tests under testing/synctest: a scenario of minutes runs in
// moments on the bubble's fake clock and replays exactly.
//
// The network gives every host an address and every link between two hosts
// a latency and a bandwidth. A connection is a pair of one-way streams; a
// write is queued behind what the link is still sending, arrives one latency
// after its last byte left, and blocks the writer only while more than a
// window of bytes is in flight (as a full TCP send buffer would).
package swarmsim

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Link is what a connection between two hosts carries in each direction.
type Link struct {
	Latency   time.Duration // one way
	Bandwidth int64         // bytes per second; 0: unlimited
}

// window is how many bytes a stream holds in flight before writes block.
const window = 256 << 10

// Network is an in-memory network. Its zero value has no hosts; Link gives
// every link the same properties unless LinkFunc is set.
type Network struct {
	Link     Link
	LinkFunc func(from, to netip.Addr) Link // overrides Link when set

	mu        sync.Mutex
	listeners map[netip.AddrPort]*listener
	nextPort  map[netip.Addr]uint16
}

func (n *Network) link(from, to netip.Addr) Link {
	if n.LinkFunc != nil {
		return n.LinkFunc(from, to)
	}
	return n.Link
}

// Listen accepts connections to addr.
func (n *Network) Listen(addr netip.AddrPort) (net.Listener, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.listeners == nil {
		n.listeners = make(map[netip.AddrPort]*listener)
	}
	if n.listeners[addr] != nil {
		return nil, fmt.Errorf("swarmsim: listen %v: address in use", addr)
	}
	l := &listener{n: n, addr: addr, conns: make(chan net.Conn, 64), done: make(chan struct{})}
	n.listeners[addr] = l
	return l, nil
}

// Dial connects from host from to addr.
func (n *Network) Dial(ctx context.Context, from netip.Addr, addr netip.AddrPort) (net.Conn, error) {
	n.mu.Lock()
	l := n.listeners[addr]
	if n.nextPort == nil {
		n.nextPort = make(map[netip.Addr]uint16)
	}
	port := 40000 + n.nextPort[from]
	n.nextPort[from]++
	n.mu.Unlock()
	if l == nil {
		return nil, fmt.Errorf("swarmsim: dial %v: connection refused", addr)
	}
	local := netip.AddrPortFrom(from, port)
	out, back := n.link(from, addr.Addr()), n.link(addr.Addr(), from)
	a2b, b2a := newStream(out), newStream(back)
	client := &conn{local: local, remote: addr, r: b2a, w: a2b}
	server := &conn{local: addr, remote: local, r: a2b, w: b2a}
	// The connection is established after one round trip.
	select {
	case <-time.After(out.Latency + back.Latency):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return nil, fmt.Errorf("swarmsim: dial %v: connection refused", addr)
}

type listener struct {
	n     *Network
	addr  netip.AddrPort
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *listener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.n.mu.Lock()
		delete(l.n.listeners, l.addr)
		l.n.mu.Unlock()
		for {
			select {
			case c := <-l.conns:
				c.Close()
			default:
				return
			}
		}
	})
	return nil
}

func (l *listener) Addr() net.Addr { return net.TCPAddrFromAddrPort(l.addr) }

// chunk is bytes in flight, readable from at.
type chunk struct {
	b  []byte
	at time.Time
}

// stream is one direction of a connection.
type stream struct {
	link     Link
	mu       sync.Mutex
	q        []chunk
	inFlight int
	busy     time.Time     // when the link has sent everything queued
	changed  chan struct{} // closed and replaced on every change
	closed   bool          // the writer closed: reads end after the queue
	broken   bool          // the reader closed: writes fail
}

func newStream(l Link) *stream { return &stream{link: l, changed: make(chan struct{})} }

// signal wakes waiters; s.mu is held.
func (s *stream) signal() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// wait blocks until the stream changes, deadline passes (false), or at if
// not zero.
func wait(changed <-chan struct{}, deadline, at time.Time) bool {
	var timeout, wake <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return false
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	if !at.IsZero() {
		t := time.NewTimer(time.Until(at))
		defer t.Stop()
		wake = t.C
	}
	select {
	case <-changed:
	case <-wake:
	case <-timeout:
		return false
	}
	return true
}

func (s *stream) write(b []byte, deadline func() time.Time) (int, error) {
	n := 0
	for len(b) > 0 {
		s.mu.Lock()
		if s.broken || s.closed {
			s.mu.Unlock()
			return n, net.ErrClosed
		}
		if s.inFlight >= window {
			ch := s.changed
			s.mu.Unlock()
			if !wait(ch, deadline(), time.Time{}) {
				return n, os.ErrDeadlineExceeded
			}
			continue
		}
		k := min(len(b), window-s.inFlight)
		now := time.Now()
		start := s.busy
		if start.Before(now) {
			start = now
		}
		if s.link.Bandwidth > 0 {
			s.busy = start.Add(time.Duration(int64(k) * int64(time.Second) / s.link.Bandwidth))
		} else {
			s.busy = start
		}
		s.q = append(s.q, chunk{b: append([]byte(nil), b[:k]...), at: s.busy.Add(s.link.Latency)})
		s.inFlight += k
		s.signal()
		s.mu.Unlock()
		n += k
		b = b[k:]
	}
	return n, nil
}

func (s *stream) read(b []byte, deadline func() time.Time) (int, error) {
	for {
		s.mu.Lock()
		if s.broken {
			s.mu.Unlock()
			return 0, net.ErrClosed
		}
		var at time.Time
		if len(s.q) > 0 {
			c := &s.q[0]
			if !time.Now().Before(c.at) {
				n := copy(b, c.b)
				c.b = c.b[n:]
				if len(c.b) == 0 {
					s.q[0] = chunk{}
					s.q = s.q[1:]
				}
				s.inFlight -= n
				s.signal()
				s.mu.Unlock()
				return n, nil
			}
			at = c.at
		} else if s.closed {
			s.mu.Unlock()
			return 0, io.EOF
		}
		ch := s.changed
		s.mu.Unlock()
		if !wait(ch, deadline(), at) {
			return 0, os.ErrDeadlineExceeded
		}
	}
}

// conn is one end of a connection.
type conn struct {
	local, remote netip.AddrPort
	r, w          *stream
	mu            sync.Mutex
	rdl, wdl      time.Time
	closeOnce     sync.Once
}

func (c *conn) readDeadline() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rdl
}

func (c *conn) writeDeadline() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wdl
}

func (c *conn) Read(b []byte) (int, error) {
	return c.r.read(b, c.readDeadline)
}

func (c *conn) Write(b []byte) (int, error) { return c.w.write(b, c.writeDeadline) }

func (c *conn) Close() error {
	c.closeOnce.Do(func() {
		for _, s := range []*stream{c.w} {
			s.mu.Lock()
			s.closed = true
			s.signal()
			s.mu.Unlock()
		}
		s := c.r
		s.mu.Lock()
		s.broken = true
		s.q = nil
		s.inFlight = 0
		s.signal()
		s.mu.Unlock()
	})
	return nil
}

func (c *conn) LocalAddr() net.Addr  { return net.TCPAddrFromAddrPort(c.local) }
func (c *conn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.remote) }

func (c *conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline and SetWriteDeadline take effect for the next wait: a
// blocked call sees a new deadline when its stream next changes or its old
// deadline passes, and wakes at once when set to the past.
func (c *conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl = t
	c.mu.Unlock()
	c.r.poke()
	return nil
}

func (c *conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.wdl = t
	c.mu.Unlock()
	c.w.poke()
	return nil
}

// poke wakes the stream's waiters so they read their deadlines again.
func (s *stream) poke() {
	s.mu.Lock()
	s.signal()
	s.mu.Unlock()
}
