package dht

import (
	"net/netip"
	"time"
)

// NodeInfo is a node's id and UDP address.
type NodeInfo struct {
	ID   ID
	Addr netip.AddrPort
}

// Nodes returns the nodes in the routing tables (IPv4 then IPv6).
func (s *Server) Nodes() []NodeInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []NodeInfo
	for _, t := range []*table{s.t4, s.t6} {
		for _, n := range t.all() {
			out = append(out, NodeInfo{ID: n.id, Addr: n.addr})
		}
	}
	return out
}

// Stats are counters and sizes describing a Server.
type Stats struct {
	ID                  ID
	Nodes4, Nodes6      int // routing table sizes
	GoodNodes           int
	Buckets4, Buckets6  int
	InfoHashes, Peers   int // peer store sizes
	Pending             int // outstanding queries
	PacketsIn           uint64
	PacketsOut          uint64
	BytesIn, BytesOut   uint64
	QueriesIn           uint64 // queries answered
	QueriesOut          uint64 // queries sent
	Lookups             uint64 // lookups finished (FindNode, GetPeers, Announce, refreshes)
	RepliesIn           uint64 // responses and errors matched to our queries
	Timeouts            uint64 // our queries that went unanswered
	Malformed           uint64 // datagrams that are not valid KRPC
	Unsolicited         uint64 // replies to queries we did not send (or from another address)
	RateLimited         uint64 // queries dropped by the per-IP limit
	BadTokens           uint64 // announce_peer queries with an invalid token
	Dropped             uint64 // other queries not answered (read-only mode, bad arguments)
	NonSecureIDs        uint64 // responders whose id breaks BEP 42 for their address
	AnnouncesStored     uint64 // announce_peer queries stored
	VerificationsIssued uint64 // pings sent to querying nodes before inserting them
}

// Stats returns a snapshot of the Server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Nodes4, st.Nodes6 = s.t4.len(), s.t6.len()
	st.Buckets4, st.Buckets6 = len(s.t4.buckets), len(s.t6.buckets)
	now := time.Now()
	for _, t := range []*table{s.t4, s.t6} {
		for _, n := range t.all() {
			if n.good(now) {
				st.GoodNodes++
			}
		}
	}
	st.InfoHashes, st.Peers = len(s.store.hashes), s.store.total
	st.Pending = len(s.txns)
	return st
}
