package dht

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/bt-go/bt/dht/internal/krpc"
)

// FindNode runs an iterative find_node lookup for target and returns the k
// closest nodes that answered, closest first, over all address families.
func (s *Server) FindNode(ctx context.Context, target ID) ([]NodeInfo, error) {
	out, _, err := s.findNode(ctx, target, false)
	return out, err
}

// findNode is FindNode, also returning the number of queries sent.
func (s *Server) findNode(ctx context.Context, target ID, wide bool) ([]NodeInfo, int, error) {
	defer s.countLookup()
	var out []NodeInfo
	queries := 0
	for _, v6 := range s.families() {
		l := s.newLookup(target, krpc.MethodFindNode, v6, wide)
		err := l.run(ctx)
		queries += l.queries
		if err != nil {
			return out, queries, err
		}
		for _, c := range l.closest() {
			out = append(out, NodeInfo{ID: c.id, Addr: c.addr})
		}
	}
	return out, queries, nil
}

// GetPeers looks up the peers of infoHash. Peers are sent on the returned
// channel in batches as they are found (each address once); the channel is
// closed when the lookup ends: it converged, ctx was cancelled, or the
// Server closed. The caller must read the channel until it is closed or
// cancel ctx.
func (s *Server) GetPeers(ctx context.Context, infoHash [20]byte) <-chan []netip.AddrPort {
	ch := make(chan []netip.AddrPort, 8)
	ok := s.goTracked(func() {
		defer close(ch)
		s.getPeers(ctx, ID(infoHash), func(p []netip.AddrPort) {
			select {
			case ch <- p:
			case <-ctx.Done():
			case <-s.closing:
			}
		})
	})
	if !ok {
		close(ch)
	}
	return ch
}

// getPeers runs get_peers lookups in every family and returns them.
func (s *Server) getPeers(ctx context.Context, ih ID, onValues func([]netip.AddrPort)) ([]*lookup, error) {
	defer s.countLookup()
	var ls []*lookup
	for _, v6 := range s.families() {
		l := s.newLookup(ih, krpc.MethodGetPeers, v6, false)
		// Peers announced to us count too.
		s.mu.Lock()
		local := s.store.get(ih, maxLookupValues, v6)
		s.mu.Unlock()
		for _, p := range local {
			l.values[p] = true
		}
		if len(local) > 0 {
			onValues(local)
		}
		l.onValues = onValues
		if err := l.run(ctx); err != nil {
			return ls, err
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// Announce tells the DHT that we are a peer of infoHash listening on TCP
// port (or, if impliedPort, on the source port of our UDP packets, BEP 5's
// implied_port): it looks up the k nodes closest to infoHash and sends each
// an announce_peer with the token it gave us. It returns nil if at least one
// node accepted, ErrNoNodes if none did.
func (s *Server) Announce(ctx context.Context, infoHash [20]byte, port int, impliedPort bool) error {
	_, err := s.AnnounceAndGetPeers(ctx, infoHash, port, impliedPort)
	return err
}

// AnnounceAndGetPeers is Announce, also returning the peers that the
// lookup found on the way.
func (s *Server) AnnounceAndGetPeers(ctx context.Context, infoHash [20]byte, port int, impliedPort bool) ([]netip.AddrPort, error) {
	if port < 0 || port > 65535 || (port == 0 && !impliedPort) {
		return nil, fmt.Errorf("dht: announce: bad port %d", port)
	}
	var peers []netip.AddrPort
	ls, err := s.getPeers(ctx, ID(infoHash), func(p []netip.AddrPort) { peers = append(peers, p...) })
	if err != nil {
		return peers, err
	}
	accepted := 0
	for _, l := range ls {
		accepted += l.announce(ctx, port, impliedPort)
	}
	if accepted == 0 {
		return peers, ErrNoNodes
	}
	return peers, nil
}

// announce sends announce_peer to the closest nodes that gave a token and
// returns how many accepted.
func (l *lookup) announce(ctx context.Context, port int, impliedPort bool) int {
	byTID := make(map[uint16]netip.AddrPort)
	defer func() {
		for tid := range byTID {
			l.s.cancelTxn(tid, false)
		}
	}()
	for _, c := range l.closest() {
		if len(c.token) == 0 {
			continue
		}
		a := krpc.Args{InfoHash: l.target, Port: port, ImpliedPort: impliedPort, Token: c.token}
		tid, err := l.s.query(c.addr, krpc.MethodAnnouncePeer, &a, l.ch)
		if err == nil {
			byTID[tid] = c.addr
		}
	}
	accepted := 0
	timer := time.NewTimer(l.s.cfg.QueryTimeout)
	defer timer.Stop()
	for len(byTID) > 0 {
		select {
		case r := <-l.ch:
			if addr, ok := byTID[r.tid]; ok && addr == r.from {
				delete(byTID, r.tid)
				if r.msg != nil && r.msg.Y == krpc.Response {
					accepted++
				}
			}
		case <-timer.C:
			return accepted
		case <-ctx.Done():
			return accepted
		case <-l.s.closing:
			return accepted
		}
	}
	return accepted
}
