package pex

import (
	"net"
	"net/netip"

	"github.com/bt-go/bt/wire"
)

var _ wire.Extension = (*Extension)(nil)

// Name returns "ut_pex", the extension's key in the "m" dictionary.
func (e *Extension) Name() string { return Name }

// ExtendHandshake notes our listen port ("p") so that our own address is
// never announced.
func (e *Extension) ExtendHandshake(h *wire.ExtendedHandshake) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ourPort = h.P
}

// PeerHandshake starts the exchange when the peer names ut_pex in its
// extended handshake, and stops it if a later handshake withdraws it.
func (e *Extension) PeerHandshake(c *wire.Conn, h *wire.ExtendedHandshake, supported bool) {
	remote := addrPort(c.RemoteAddr())
	var listen netip.AddrPort
	if remote.IsValid() && h.P > 0 && h.P <= 0xffff {
		listen = netip.AddrPortFrom(remote.Addr(), uint16(h.P))
	}
	e.mu.Lock()
	port := e.ourPort
	e.mu.Unlock()
	var self []netip.AddrPort
	if port > 0 && port <= 0xffff {
		if ip, ok := netip.AddrFromSlice(h.YourIP); ok {
			self = append(self, netip.AddrPortFrom(ip, uint16(port)))
		}
		if local := addrPort(c.LocalAddr()); local.IsValid() {
			self = append(self, netip.AddrPortFrom(local.Addr(), uint16(port)))
		}
	}
	if local := addrPort(c.LocalAddr()); local.IsValid() {
		self = append(self, local)
	}
	e.attach(remote, listen, self, supported, func(payload []byte) error {
		return c.SendExtended(Name, payload)
	})
}

// HandleMessage handles a ut_pex message from the peer. It returns an error,
// closing the connection, for a payload that is not a dictionary
// (ErrInvalidMessage) or when the peer sends too often (ErrTooFrequent).
func (e *Extension) HandleMessage(c *wire.Conn, payload []byte) error {
	return e.handle(payload)
}

// Close stops the timer when the connection closes.
func (e *Extension) Close(c *wire.Conn) { e.close() }

// addrPort converts a TCP address, or returns the zero AddrPort.
func addrPort(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		return normalize(t.AddrPort())
	}
	return netip.AddrPort{}
}
