package server

import (
	"net"
	"net/netip"
	"sync"
)

// connLimitListener bounds the HTTP connections open at once, in all and
// per address (addrKey: an IPv4 address or an IPv6 /64). A connection over
// either bound is closed as soon as it is accepted. Without it, one address
// opening connections and leaving them idle would hold a goroutine and
// buffers each until the server's timeouts, and could use up the process's
// file descriptors: the per-address request limit never sees them.
type connLimitListener struct {
	net.Listener
	max, maxPerIP int

	mu    sync.Mutex
	total int
	perIP map[netip.Addr]int
}

func newConnLimitListener(ln net.Listener, max, maxPerIP int) *connLimitListener {
	return &connLimitListener{Listener: ln, max: max, maxPerIP: maxPerIP, perIP: make(map[netip.Addr]int)}
}

// Accept returns the next connection within the bounds, closing those
// over them.
func (l *connLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		var key netip.Addr
		if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
			key = addrKey(ap.Addr())
		}
		l.mu.Lock()
		ok := l.total < l.max && l.perIP[key] < l.maxPerIP
		if ok {
			l.total++
			l.perIP[key]++
		}
		l.mu.Unlock()
		if ok {
			return &limitedConn{Conn: c, l: l, key: key}, nil
		}
		c.Close()
	}
}

func (l *connLimitListener) release(key netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.perIP[key]--; l.perIP[key] <= 0 {
		delete(l.perIP, key)
	}
}

// limitedConn gives its place back when it is closed (once).
type limitedConn struct {
	net.Conn
	l    *connLimitListener
	key  netip.Addr
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.key) })
	return err
}
