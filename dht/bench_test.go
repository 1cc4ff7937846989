package dht

import (
	"net/netip"
	"testing"
	"time"

	"github.com/bt-go/bt/dht/internal/krpc"
)

// BenchmarkHandleGetPeers measures the work of answering one get_peers
// query (parse, routing-table search, token, encode, send) on a node with a
// populated routing table.
func BenchmarkHandleGetPeers(b *testing.B) {
	s := newTestServer(b, Config{QueryRate: -1})
	sinkSrv := newTestServer(b, Config{ReadOnly: true})
	sink := sinkSrv.Addr()
	now := time.Now()
	s.mu.Lock()
	for i := range 2000 {
		s.t4.heardReply(RandomID(), netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 6881), now)
	}
	// The sink is already in the table, so no verification pings are sent.
	s.t4.heardReply(RandomID(), sink, now)
	s.mu.Unlock()
	q := krpc.AppendQuery(nil, []byte("aa"), krpc.MethodGetPeers, &krpc.Args{ID: RandomID(), InfoHash: RandomID()}, false)
	b.ReportAllocs()
	for b.Loop() {
		s.handlePacket(q, sink)
	}
}
