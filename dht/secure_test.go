package dht

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/bt-go/bt/dht/internal/krpc"
)

// loopbackOnly is a PacketConn that refuses to send anywhere but loopback,
// so tests can feed the Server replies "from" public addresses without
// ever sending to one.
type loopbackOnly struct{ net.PacketConn }

func (c loopbackOnly) WriteTo(b []byte, addr net.Addr) (int, error) {
	if ua, ok := addr.(*net.UDPAddr); !ok || !ua.IP.IsLoopback() {
		return 0, errors.New("test: refusing to send off loopback")
	}
	return c.PacketConn.WriteTo(b, addr)
}

// fakeReply registers a query to addr and delivers a response from it with
// the given id, as if it had come over the network.
func fakeReply(t *testing.T, s *Server, addr netip.AddrPort, id ID) {
	t.Helper()
	s.mu.Lock()
	tid, err := s.newTxnLocked(addr, krpc.MethodPing, nil)
	s.pings++
	s.pingAddrs[addr] = struct{}{}
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	b := krpc.AppendResponse(nil, []byte{byte(tid >> 8), byte(tid)}, &krpc.Return{ID: id}, netip.AddrPort{})
	s.handlePacket(b, addr)
}

func TestEnforceSecureIDs(t *testing.T) {
	public := netip.MustParseAddrPort("124.31.75.21:6881")
	public2 := netip.MustParseAddrPort("21.75.31.124:6881")
	for _, enforce := range []bool{false, true} {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := newTestServer(t, Config{PacketConn: loopbackOnly{c}, EnforceSecureIDs: enforce, QueryRate: -1})
		fakeReply(t, s, public, RandomID())                // breaks BEP 42
		fakeReply(t, s, public2, SecureID(public2.Addr())) // satisfies it
		if got := s.Stats().NonSecureIDs; got != 1 {
			t.Errorf("enforce=%v: NonSecureIDs = %d, want 1", enforce, got)
		}
		if hasNode(s, public) == enforce {
			t.Errorf("enforce=%v: non-conforming node in table: %v", enforce, hasNode(s, public))
		}
		if !hasNode(s, public2) {
			t.Errorf("enforce=%v: conforming node not in table", enforce)
		}
		s.Close()
	}
}
