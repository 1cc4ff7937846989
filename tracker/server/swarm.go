package server

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"
)

// Refusals of the swarm store; they become failure reasons.
var (
	errNotAllowed  = errors.New("torrent not allowed on this tracker")
	errRateLimited = errors.New("too many requests from your address; slow down")
)

// peerEntry is one announced peer of one torrent.
type peerEntry struct {
	addr      netip.AddrPort
	id        [20]byte
	seed      bool
	completed bool // it announced "completed" (counted once in downloaded)
	expires   time.Time
}

// swarm is one torrent's peers: a slice for uniform random sampling plus
// an index by address.
type swarm struct {
	peers      []peerEntry
	index      map[netip.AddrPort]int
	perIP      map[netip.Addr]int // entries per addrKey
	seeds      int
	downloaded int
}

// store holds every swarm. Its lock is held only for map and slice work,
// never across I/O. Memory is bounded by maxTorrents, maxPeersPerTorrent,
// maxPeers, and per address by maxPeersPerIP (per torrent) and
// maxEntriesPerIP (over all torrents).
type store struct {
	lim limits

	mu       sync.Mutex
	torrents map[[20]byte]*swarm
	total    int
	perIP    map[netip.Addr]int // entries per addrKey, over all torrents
	// counts keeps the downloaded count of a torrent whose last peer left,
	// so a scrape still reports it and the count goes on when the torrent
	// is announced again. At most maxTorrents entries; an arbitrary one
	// is dropped for a new one beyond that.
	counts map[[20]byte]int
}

type limits struct {
	maxTorrents, maxPeersPerTorrent, maxPeers int
	maxPeersPerIP, maxEntriesPerIP            int
	ttl                                       time.Duration
}

func newStore(lim limits) *store {
	return &store{lim: lim, torrents: make(map[[20]byte]*swarm), perIP: make(map[netip.Addr]int),
		counts: make(map[[20]byte]int)}
}

// announceArgs is an announce as both protocols deliver it.
type announceArgs struct {
	infoHash [20]byte
	peerID   [20]byte
	addr     netip.AddrPort // source address with the announced port
	left     int64
	event    string // "", "started", "completed", "stopped"
	numWant  int
	family   int // 4 or 6: only peers of this family; 0: both
}

// announceResult is what the reply needs.
type announceResult struct {
	complete, incomplete int
	peers                []netip.AddrPort
}

// announce records a (or removes it on "stopped") and picks up to numWant
// other peers at random: leechers only for a seed, since seeds have
// nothing to give each other. A peer that cannot be stored because of a
// limit still gets its reply.
func (s *store) announce(a announceArgs, now time.Time) announceResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	sw := s.torrents[a.infoHash]
	if a.event == "stopped" {
		if sw != nil {
			s.removeLocked(a.infoHash, sw, a.addr)
		}
		return announceResult{}
	}
	seed := a.left == 0
	key := addrKey(a.addr.Addr())
	if sw == nil && s.canAddLocked(nil, key) && len(s.torrents) < s.lim.maxTorrents {
		sw = &swarm{index: make(map[netip.AddrPort]int), perIP: make(map[netip.Addr]int),
			downloaded: s.counts[a.infoHash]}
		delete(s.counts, a.infoHash)
		s.torrents[a.infoHash] = sw
	}
	if sw == nil {
		return announceResult{}
	}
	if i, ok := sw.index[a.addr]; ok {
		p := &sw.peers[i]
		// Counted once per peer, as opentracker does: whether its
		// "started" already said left=0 (it finished before announcing)
		// does not matter.
		if a.event == "completed" && !p.completed {
			p.completed = true
			sw.downloaded++
		}
		if p.seed != seed {
			if seed {
				sw.seeds++
			} else {
				sw.seeds--
			}
		}
		p.id, p.seed, p.expires = a.peerID, seed, now.Add(s.lim.ttl)
	} else {
		if s.ipCountLocked(sw, key) >= s.lim.maxPeersPerIP {
			s.evictOldestLocked(a.infoHash, sw, key)
		}
		if s.canAddLocked(sw, key) {
			sw.index[a.addr] = len(sw.peers)
			sw.peers = append(sw.peers, peerEntry{addr: a.addr, id: a.peerID, seed: seed,
				completed: a.event == "completed", expires: now.Add(s.lim.ttl)})
			s.total++
			s.perIP[key]++
			sw.perIP[key]++
			if seed {
				sw.seeds++
			}
			if a.event == "completed" {
				sw.downloaded++
			}
		}
	}
	res := announceResult{complete: sw.seeds, incomplete: len(sw.peers) - sw.seeds}
	res.peers = sw.pick(a, seed, now)
	if len(sw.peers) == 0 {
		s.dropLocked(a.infoHash, sw)
	}
	return res
}

// canAddLocked reports whether one more entry from key (an addrKey) fits
// the limits (sw nil: the torrent is new).
func (s *store) canAddLocked(sw *swarm, key netip.Addr) bool {
	if s.total >= s.lim.maxPeers || s.perIP[key] >= s.lim.maxEntriesPerIP {
		return false
	}
	return sw == nil || len(sw.peers) < s.lim.maxPeersPerTorrent && s.ipCountLocked(sw, key) < s.lim.maxPeersPerIP
}

func (s *store) ipCountLocked(sw *swarm, key netip.Addr) int { return sw.perIP[key] }

// evictOldestLocked drops key's entry of sw that expires first, making
// room for a client that restarted on a new port.
func (s *store) evictOldestLocked(ih [20]byte, sw *swarm, key netip.Addr) {
	oldest := -1
	for i, p := range sw.peers {
		if addrKey(p.addr.Addr()) == key && (oldest < 0 || p.expires.Before(sw.peers[oldest].expires)) {
			oldest = i
		}
	}
	if oldest >= 0 {
		s.removeLocked(ih, sw, sw.peers[oldest].addr)
	}
}

// removeLocked deletes addr from sw by swapping the last entry into its
// place, and drops sw when it empties.
func (s *store) removeLocked(ih [20]byte, sw *swarm, addr netip.AddrPort) {
	i, ok := sw.index[addr]
	if !ok {
		return
	}
	if sw.peers[i].seed {
		sw.seeds--
	}
	last := len(sw.peers) - 1
	if i != last {
		sw.peers[i] = sw.peers[last]
		sw.index[sw.peers[i].addr] = i
	}
	sw.peers = sw.peers[:last]
	delete(sw.index, addr)
	s.total--
	key := addrKey(addr.Addr())
	if s.perIP[key]--; s.perIP[key] <= 0 {
		delete(s.perIP, key)
	}
	if sw.perIP[key]--; sw.perIP[key] <= 0 {
		delete(sw.perIP, key)
	}
	if len(sw.peers) == 0 {
		s.dropLocked(ih, sw)
	}
}

// dropLocked forgets an empty swarm, keeping its downloaded count.
func (s *store) dropLocked(ih [20]byte, sw *swarm) {
	delete(s.torrents, ih)
	if sw.downloaded == 0 {
		return
	}
	if len(s.counts) >= s.lim.maxTorrents {
		for k := range s.counts {
			delete(s.counts, k)
			break
		}
	}
	s.counts[ih] = sw.downloaded
}

// pick returns up to a.numWant live peers other than a.addr, from a random
// starting point.
func (sw *swarm) pick(a announceArgs, seed bool, now time.Time) []netip.AddrPort {
	n := len(sw.peers)
	if n == 0 || a.numWant <= 0 {
		return nil
	}
	out := make([]netip.AddrPort, 0, min(a.numWant, n))
	start := rand.IntN(n)
	for k := 0; k < n && len(out) < a.numWant; k++ {
		p := &sw.peers[(start+k)%n]
		if p.addr == a.addr || seed && p.seed || now.After(p.expires) {
			continue
		}
		is4 := p.addr.Addr().Is4()
		if a.family == 4 && !is4 || a.family == 6 && is4 {
			continue
		}
		out = append(out, p.addr)
	}
	return out
}

// scrape returns the counts of each hash (zeros for unknown torrents).
func (s *store) scrape(hashes [][20]byte) []scrapeCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]scrapeCounts, len(hashes))
	for i, h := range hashes {
		if sw := s.torrents[h]; sw != nil {
			out[i] = scrapeCounts{complete: sw.seeds, incomplete: len(sw.peers) - sw.seeds, downloaded: sw.downloaded}
		} else {
			out[i] = scrapeCounts{downloaded: s.counts[h]}
		}
	}
	return out
}

type scrapeCounts struct{ complete, incomplete, downloaded int }

// expire drops every peer whose announce is older than the TTL.
func (s *store) expire(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ih, sw := range s.torrents {
		var gone []netip.AddrPort
		for _, p := range sw.peers {
			if now.After(p.expires) {
				gone = append(gone, p.addr)
			}
		}
		for _, a := range gone {
			s.removeLocked(ih, sw, a)
		}
	}
}

// stats reports the store's size.
func (s *store) stats() (torrents, peers int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.torrents), s.total
}
