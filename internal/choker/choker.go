// Package choker decides which peers we upload to.
//
// It is the tit-for-tat choker of BEP 3 as mature clients run it: every
// round (10 s) the interested peers are ranked and the best Slots of them
// unchoked — by how fast they upload to us while we download (reciprocation),
// and while seeding by how fast they take data from us or in round-robin
// order — plus one optimistic slot that rotates every 30 s to a random choked,
// interested peer (another than the last, when there is one), newly connected
// peers being three times as likely to win it.
// Peers that have not sent us a block for a minute despite our requests are
// snubbed: they lose their regular slot and can only win the optimistic one.
//
// The package is pure logic with the time passed in, so tests need no clock.
package choker

import (
	"math/rand/v2"
	"slices"
	"time"
)

// Defaults for Choker fields left zero.
const (
	DefaultSlots              = 4
	DefaultOptimisticInterval = 30 * time.Second
	SnubTimeout               = 60 * time.Second
	newPeerAge                = 3 * DefaultOptimisticInterval
)

// SeedMode chooses how regular slots are given while seeding.
type SeedMode int

const (
	// FastestUpload unchokes the peers that take data from us fastest.
	FastestUpload SeedMode = iota
	// RoundRobin unchokes peers in turn, those unchoked least recently first.
	RoundRobin
)

// Peer is what the choker needs to know about one connected peer.
type Peer struct {
	ID         int
	Interested bool // the peer wants data from us
	Snubbed    bool // see Snubbed
	// DownloadRate is how fast we receive from the peer, UploadRate how
	// fast we send to it (bytes/s, recent average).
	DownloadRate, UploadRate float64
	// Connected is when the connection was made.
	Connected time.Time
	// Choked is whether we choke it now.
	Choked bool
	// LastUnchoked is when it was last unchoked (for round-robin).
	LastUnchoked time.Time
}

// Snubbed reports whether a peer counts as snubbing us: we have had requests
// outstanding with it and received no block for SnubTimeout.
func Snubbed(now, lastBlock time.Time, outstanding bool) bool {
	return outstanding && now.Sub(lastBlock) >= SnubTimeout
}

// Choker holds the state that persists across rounds: the optimistic peer
// and when it was chosen.
type Choker struct {
	Slots              int // regular upload slots; DefaultSlots if 0
	OptimisticInterval time.Duration
	SeedMode           SeedMode
	Rand               *rand.Rand // nil: a random source

	optimistic     int
	haveOptimistic bool
	optimisticAt   time.Time
}

// Result is the outcome of a round.
type Result struct {
	Unchoke    []int // IDs to unchoke (regular and optimistic)
	Optimistic int   // ID of the optimistic peer, -1 if none
}

// Round ranks the peers and returns which to unchoke at time now; every
// other peer should be choked. seeding selects the seeding policy.
func (c *Choker) Round(now time.Time, peers []Peer, seeding bool) Result {
	slots := c.Slots
	if slots <= 0 {
		slots = DefaultSlots
	}
	interval := c.OptimisticInterval
	if interval <= 0 {
		interval = DefaultOptimisticInterval
	}
	rng := c.Rand
	if rng == nil {
		rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
		c.Rand = rng
	}

	cand := make([]*Peer, 0, len(peers))
	for i := range peers {
		if peers[i].Interested && (seeding || !peers[i].Snubbed) {
			cand = append(cand, &peers[i])
		}
	}
	switch {
	case !seeding:
		slices.SortStableFunc(cand, func(a, b *Peer) int { return cmpDesc(a.DownloadRate, b.DownloadRate) })
	case c.SeedMode == RoundRobin:
		slices.SortStableFunc(cand, func(a, b *Peer) int { return a.LastUnchoked.Compare(b.LastUnchoked) })
	default:
		slices.SortStableFunc(cand, func(a, b *Peer) int { return cmpDesc(a.UploadRate, b.UploadRate) })
	}
	res := Result{Optimistic: -1}
	regular := make(map[int]bool)
	for _, p := range cand[:min(slots, len(cand))] {
		regular[p.ID] = true
		res.Unchoke = append(res.Unchoke, p.ID)
	}

	// Keep the optimistic peer for its interval if it still qualifies.
	keep := false
	if c.haveOptimistic && now.Sub(c.optimisticAt) < interval {
		for _, p := range peers {
			if p.ID == c.optimistic && p.Interested && !regular[p.ID] {
				keep = true
			}
		}
	}
	if !keep {
		// Rotate: the previous optimistic peer had its turn, so it is
		// chosen again only when no other peer qualifies.
		prev, hadPrev := c.optimistic, c.haveOptimistic
		c.haveOptimistic = false
		var pool []int
		prevQualifies := false
		for _, p := range peers {
			if !p.Interested || regular[p.ID] {
				continue
			}
			if hadPrev && p.ID == prev {
				prevQualifies = true
				continue
			}
			w := 1
			if now.Sub(p.Connected) < newPeerAge {
				w = 3
			}
			for range w {
				pool = append(pool, p.ID)
			}
		}
		if len(pool) == 0 && prevQualifies {
			pool = append(pool, prev)
		}
		if len(pool) > 0 {
			c.optimistic = pool[rng.IntN(len(pool))]
			c.haveOptimistic = true
			c.optimisticAt = now
		}
	}
	if c.haveOptimistic {
		res.Optimistic = c.optimistic
		res.Unchoke = append(res.Unchoke, c.optimistic)
	}
	return res
}

func cmpDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}
