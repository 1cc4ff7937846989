package dht

import (
	"net/netip"
	"time"

	"github.com/bt-go/bt/dht/internal/krpc"

	"github.com/bt-go/bt/internal/compact"
)

// handleQuery answers a query. The answer goes only to the query's source
// address, and is at most amplificationMax times the query's size: node
// lists and peer values are cut to fit. Queries that are rate limited, that
// arrive in read-only mode, or that are malformed beyond repair get no
// answer at all.
func (s *Server) handleQuery(m *krpc.Msg, size int, from netip.AddrPort) {
	now := time.Now()
	s.mu.Lock()
	if !s.limit.allow(from.Addr(), now) {
		s.stats.RateLimited++
		s.mu.Unlock()
		return
	}
	if s.cfg.ReadOnly {
		s.stats.Dropped++
		s.mu.Unlock()
		return
	}
	id := ID(m.A.ID)
	verify := false
	if !m.RO && id != s.id {
		t := s.tableFor(from)
		_, pinging := s.pingAddrs[from]
		if !t.heardQuery(id, from, now) && t.lookup(from) == nil && !pinging && t.wouldAccept(id, now) &&
			s.pings < maxServerPings/2 {
			// A node we do not know queried us and its bucket has room:
			// ping it back (at its source address, never elsewhere) and
			// insert it if it answers.
			verify = true
			s.stats.VerificationsIssued++
		}
	}
	budget := amplificationMax * size
	tid := m.T
	var out []byte
	switch m.Q {
	case krpc.MethodPing:
		out = krpc.AppendResponse(nil, tid, &krpc.Return{ID: s.id}, from)
	case krpc.MethodFindNode, krpc.MethodGetPeers:
		target := m.A.Target
		if m.Q == krpc.MethodGetPeers {
			target = m.A.InfoHash
		}
		if (m.Q == krpc.MethodFindNode && !m.A.HasTarget) || (m.Q == krpc.MethodGetPeers && !m.A.HasInfoHash) {
			out = krpc.AppendError(nil, tid, krpc.ErrProtocol, "missing target", from)
			break
		}
		out = s.answerLookupLocked(m, ID(target), from, budget)
	case krpc.MethodAnnouncePeer:
		out = s.answerAnnounceLocked(m, from, now)
	default:
		out = krpc.AppendError(nil, tid, krpc.ErrMethod, "unknown method", from)
	}
	if len(out) > budget {
		// Only possible for absurdly short queries; never amplify.
		s.stats.Dropped++
		s.mu.Unlock()
		return
	}
	s.stats.QueriesIn++
	s.mu.Unlock()
	s.send(out, from)
	if verify {
		s.ping(from)
	}
}

// answerLookupLocked builds the reply to find_node or get_peers.
func (s *Server) answerLookupLocked(m *krpc.Msg, target ID, from netip.AddrPort, budget int) []byte {
	r := krpc.Return{ID: s.id}
	want := m.A.Want
	if want == 0 {
		want = krpc.WantN4
		if from.Addr().Is6() {
			want = krpc.WantN6
		}
	}
	if m.Q == krpc.MethodGetPeers {
		r.Token = s.tok.issue(from.Addr())
	}
	base := len(krpc.AppendResponse(nil, m.T, &r, from))
	room := budget - base
	if m.Q == krpc.MethodGetPeers {
		// Values first: they are what the asker wants. Each costs its
		// compact size plus a length prefix ("6:" or "18:"), and the list
		// itself costs "6:valuesl" + "e".
		v6 := from.Addr().Is6()
		each := compact.IPv4Len + 2
		if v6 {
			each = compact.IPv6Len + 3
		}
		if n := (room - 10) / each; n > 0 {
			r.Values = s.store.get(target, n, v6)
			if len(r.Values) > 0 {
				room -= 10 + each*len(r.Values)
			}
		}
	}
	// Then nodes: "5:nodes" + "NNN:" + 26 per node; "6:nodes6" + 38 per node.
	if want&krpc.WantN4 != 0 {
		r.Nodes = fitNodes(s.t4.closest(target, s.cfg.K), &room, 7+4, krpc.NodeLen4)
	}
	if want&krpc.WantN6 != 0 {
		r.Nodes6 = fitNodes(s.t6.closest(target, s.cfg.K), &room, 8+4, krpc.NodeLen6)
	}
	return krpc.AppendResponse(make([]byte, 0, base+budget), m.T, &r, from)
}

func fitNodes(nodes []*node, room *int, overhead, each int) []krpc.NodeInfo {
	n := min(len(nodes), (*room-overhead)/each)
	if n <= 0 {
		return nil
	}
	*room -= overhead + n*each
	out := make([]krpc.NodeInfo, n)
	for i := range out {
		out[i] = krpc.NodeInfo{ID: nodes[i].id, Addr: nodes[i].addr}
	}
	return out
}

// answerAnnounceLocked stores the querier as a peer if its token is valid.
func (s *Server) answerAnnounceLocked(m *krpc.Msg, from netip.AddrPort, now time.Time) []byte {
	if !m.A.HasInfoHash {
		return krpc.AppendError(nil, m.T, krpc.ErrProtocol, "missing info_hash", from)
	}
	if !s.tok.valid(m.A.Token, from.Addr()) {
		s.stats.BadTokens++
		return krpc.AppendError(nil, m.T, krpc.ErrProtocol, "bad token", from)
	}
	port := uint16(m.A.Port)
	if m.A.ImpliedPort {
		port = from.Port()
	}
	if port == 0 {
		return krpc.AppendError(nil, m.T, krpc.ErrProtocol, "bad port", from)
	}
	if s.store.add(ID(m.A.InfoHash), netip.AddrPortFrom(from.Addr(), port), now) {
		s.stats.AnnouncesStored++
	}
	return krpc.AppendResponse(nil, m.T, &krpc.Return{ID: s.id}, from)
}
