package server

import (
	"net/netip"
	"testing"

	"github.com/bt-go/bt/tracker/internal/trackerwire"
)

// BenchmarkUDPAnnounce measures one UDP announce, parse to reply, in a
// swarm of 1000 peers returning 50.
func BenchmarkUDPAnnounce(b *testing.B) {
	s := New(Config{RequestsPerSecond: 1e12, Burst: 1 << 30, MaxPeersPerIP: 1})
	for i := range 1000 {
		ip := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		s.store.announce(announceArgs{infoHash: hash(1), addr: netip.AddrPortFrom(ip, 1), left: 1}, s.now())
	}
	src := netip.MustParseAddrPort("192.0.2.1:1")
	id := s.connectionID(src.Addr(), s.now().Unix()/60)
	pkt := (&trackerwire.AnnounceRequest{ConnectionID: id, InfoHash: hash(1), Port: 1, Left: 1, NumWant: 50}).AppendBinary(nil)
	b.ReportAllocs()
	for b.Loop() {
		if s.handleUDP(pkt, src) == nil {
			b.Fatal("no reply")
		}
	}
}
