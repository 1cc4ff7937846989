package dht

import (
	"math/rand/v2"
	"net/netip"
	"time"
)

// peerTTL is how long an announced peer is kept without a new announce.
const peerTTL = 30 * time.Minute

// peerStore keeps the peers announced to us, bounded per info hash and in
// total. When a bound is reached, new announcements for new peers are refused
// (existing entries are refreshed); entries expire after peerTTL.
type peerStore struct {
	maxPerHash, maxTotal, maxHashes int
	total                           int
	hashes                          map[ID]map[netip.AddrPort]time.Time // peer → expiry
}

func newPeerStore(maxPerHash, maxTotal, maxHashes int) *peerStore {
	return &peerStore{
		maxPerHash: maxPerHash, maxTotal: maxTotal, maxHashes: maxHashes,
		hashes: make(map[ID]map[netip.AddrPort]time.Time),
	}
}

// add records peer for ih, reporting whether it was stored.
func (s *peerStore) add(ih ID, peer netip.AddrPort, now time.Time) bool {
	peers := s.hashes[ih]
	if _, ok := peers[peer]; ok {
		peers[peer] = now.Add(peerTTL)
		return true
	}
	if s.total >= s.maxTotal || len(peers) >= s.maxPerHash {
		return false
	}
	if peers == nil {
		if len(s.hashes) >= s.maxHashes {
			return false
		}
		peers = make(map[netip.AddrPort]time.Time)
		s.hashes[ih] = peers
	}
	peers[peer] = now.Add(peerTTL)
	s.total++
	return true
}

// get returns up to n random peers of ih whose address family is v6 or not.
func (s *peerStore) get(ih ID, n int, v6 bool) []netip.AddrPort {
	peers := s.hashes[ih]
	if len(peers) == 0 || n <= 0 {
		return nil
	}
	out := make([]netip.AddrPort, 0, min(n, len(peers)))
	seen := 0
	// Reservoir sampling over the map: a uniform sample of at most n.
	for p := range peers {
		if p.Addr().Is6() != v6 {
			continue
		}
		seen++
		if len(out) < n {
			out = append(out, p)
		} else if j := rand.IntN(seen); j < n {
			out[j] = p
		}
	}
	return out
}

// expire removes peers whose time has passed.
func (s *peerStore) expire(now time.Time) {
	for ih, peers := range s.hashes {
		for p, exp := range peers {
			if now.After(exp) {
				delete(peers, p)
				s.total--
			}
		}
		if len(peers) == 0 {
			delete(s.hashes, ih)
		}
	}
}
