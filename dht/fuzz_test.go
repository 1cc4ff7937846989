package dht

import (
	"net/netip"
	"testing"
)

// FuzzServerPacket feeds datagrams to a running Server's packet handler, as
// if they came from a node on 127.0.0.1: whatever arrives, nothing panics
// and the Server's state stays within its bounds.
func FuzzServerPacket(f *testing.F) {
	f.Add([]byte("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"))
	f.Add([]byte("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe"))
	s := newTestServer(f, Config{QueryRate: -1})
	sink := newRawSink(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		s.handlePacket(b, sink)
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.txns) > maxTxns || s.pings > maxServerPings || s.store.total > s.cfg.MaxPeers {
			t.Fatalf("bounds exceeded: %d txns, %d pings, %d peers", len(s.txns), s.pings, s.store.total)
		}
	})
}

// newRawSink returns the address of a UDP socket on 127.0.0.1 that nobody
// reads: replies sent there are discarded by the kernel once its buffer is
// full.
func newRawSink(f *testing.F) netip.AddrPort {
	f.Helper()
	s := newTestServer(f, Config{ReadOnly: true})
	return s.Addr()
}
