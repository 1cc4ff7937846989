package server

import (
	"net/netip"
	"testing"
	"time"

	"github.com/bt-go/bt/tracker/internal/trackerwire"
)

func connect(t *testing.T, s *Server, src netip.AddrPort) uint64 {
	t.Helper()
	resp, err := trackerwire.ParseResponse(s.handleUDP((&trackerwire.ConnectRequest{TransactionID: 1}).AppendBinary(nil), src), false)
	if err != nil {
		t.Fatal(err)
	}
	return resp.(*trackerwire.ConnectResponse).ConnectionID
}

func TestUDPConnectionIDs(t *testing.T) {
	s := New(Config{})
	clock := time.Unix(1_000_000_020, 0)
	s.now = func() time.Time { return clock }
	src := netip.MustParseAddrPort("192.0.2.1:5000")
	id := connect(t, s, src)
	req := func(id uint64, from netip.AddrPort) []byte {
		return s.handleUDP((&trackerwire.AnnounceRequest{ConnectionID: id, TransactionID: 2, Port: 1, NumWant: -1}).AppendBinary(nil), from)
	}
	if req(id, src) == nil {
		t.Fatal("fresh connection id refused")
	}
	if req(id, netip.MustParseAddrPort("192.0.2.1:5001")) == nil {
		t.Error("connection id refused from another port of the same address")
	}
	if req(id, netip.MustParseAddrPort("192.0.2.2:5000")) != nil {
		t.Error("connection id accepted from another address")
	}
	if req(id^1, src) != nil {
		t.Error("forged connection id answered")
	}
	clock = clock.Add(time.Minute)
	if req(id, src) == nil {
		t.Error("connection id refused a minute later")
	}
	clock = clock.Add(time.Minute)
	if req(id, src) != nil {
		t.Error("connection id accepted two minutes later")
	}
}

// TestUDPReplySize: however many peers a torrent has and however many are
// asked for, an announce reply fits one small datagram.
func TestUDPReplySize(t *testing.T) {
	s := New(Config{MaxNumWant: 10000, MaxPeersPerIP: 1, RequestsPerSecond: 1e9, Burst: 1 << 30})
	for i := range 1000 {
		ip := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		s.store.announce(announceArgs{infoHash: hash(1), addr: netip.AddrPortFrom(ip, 1), left: 1}, s.now())
		ip6 := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 4: byte(i >> 8), 5: byte(i), 15: 1})
		s.store.announce(announceArgs{infoHash: hash(1), addr: netip.AddrPortFrom(ip6, 1), left: 1}, s.now())
	}
	for _, src := range []netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:1"), netip.MustParseAddrPort("[2001:db8:1::1]:1")} {
		id := connect(t, s, src)
		reply := s.handleUDP((&trackerwire.AnnounceRequest{ConnectionID: id, TransactionID: 2, InfoHash: hash(1), Port: 1, NumWant: 100000, Left: 1}).AppendBinary(nil), src)
		if len(reply) > udpPayloadBudget || len(reply) < udpPayloadBudget/2 {
			t.Errorf("from %v: reply of %d bytes", src, len(reply))
		}
		resp, err := trackerwire.ParseResponse(reply, src.Addr().Is6())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range resp.(*trackerwire.AnnounceResponse).Peers {
			if p.Addr().Is4() != src.Addr().Is4() {
				t.Fatalf("peer %v of the other family sent to %v", p, src)
			}
		}
	}
}

func TestUDPMalformedIsSilent(t *testing.T) {
	s := New(Config{})
	src := netip.MustParseAddrPort("192.0.2.1:1")
	for _, pkt := range [][]byte{
		nil, {1, 2, 3},
		(&trackerwire.ConnectRequest{}).AppendBinary(nil)[1:],
		(&trackerwire.AnnounceRequest{}).AppendBinary(nil)[:50],
		append((&trackerwire.ScrapeRequest{}).AppendBinary(nil), 1, 2),
	} {
		if reply := s.handleUDP(pkt, src); reply != nil {
			t.Errorf("%x answered with %x", pkt, reply)
		}
	}
}
