package picker

import "slices"

// Pick appends to dst up to n blocks to request from peer pe and records
// them as requested from it. It returns dst. An empty result means the peer
// has nothing we want right now (or, if it chokes us, nothing allowed fast).
func (p *Picker) Pick(pe *Peer, n int, dst []Block) []Block {
	limit := len(dst) + n
	if n <= 0 {
		return dst
	}
	if pe.Choking {
		for _, i := range pe.AllowedFast {
			if len(dst) >= limit {
				break
			}
			if i >= 0 && i < p.numPieces && pe.has(i) {
				dst = p.takePiece(pe.ID, i, limit, dst)
			}
		}
		if len(dst) < limit && p.unstarted == 0 {
			for _, i := range pe.AllowedFast {
				if pp, ok := p.partial[i]; ok && pe.has(i) && p.prio[i] > 0 {
					dst = p.take(pp, pe.ID, limit, dst, true)
				}
			}
		}
		return dst
	}
	// Unstarted pieces of a higher priority than any piece in progress come
	// first (a streaming reader's next pieces, a file just raised).
	dst = p.takeAbovePartials(pe, limit, dst)
	// Pieces in progress first.
	for _, pp := range p.plist {
		if len(dst) >= limit {
			return dst
		}
		if pp.free > 0 && p.prio[pp.piece] > 0 && pe.has(pp.piece) {
			dst = p.take(pp, pe.ID, limit, dst, false)
		}
	}
	// Then what the peer suggests.
	for _, i := range pe.Suggested {
		if len(dst) >= limit {
			return dst
		}
		if i >= 0 && i < p.numPieces && pe.has(i) {
			dst = p.takePiece(pe.ID, i, limit, dst)
		}
	}
	// Then new pieces, rarest first.
	sparse := -1
	for len(dst) < limit && p.unstarted > 0 {
		if sparse < 0 {
			sparse = 0
			if !pe.Seed && pe.Has.Count()*8 < p.Remaining() {
				sparse = 1
			}
		}
		var i int
		if sparse == 1 {
			i = p.rarestSparse(pe)
		} else {
			i = p.rarestWalk(pe)
		}
		if i < 0 {
			break
		}
		dst = p.take(p.start(i), pe.ID, limit, dst, false)
	}
	// End game: ask for blocks already requested from others.
	if len(dst) < limit && p.unstarted == 0 {
		for _, pp := range p.plist {
			if len(dst) >= limit {
				break
			}
			if p.prio[pp.piece] > 0 && pe.has(pp.piece) {
				dst = p.take(pp, pe.ID, limit, dst, true)
			}
		}
	}
	return dst
}

// takePiece takes free blocks of piece i, starting it if it is wanted.
func (p *Picker) takePiece(id PeerID, i, limit int, dst []Block) []Block {
	if pp, ok := p.partial[i]; ok {
		if p.prio[i] > 0 {
			return p.take(pp, id, limit, dst, false)
		}
		return dst
	}
	if p.pos[i] < 0 {
		return dst
	}
	return p.take(p.start(i), id, limit, dst, false)
}

// start makes piece i, wanted and not in progress, a partial piece.
func (p *Picker) start(i int) *partial {
	nb := p.NumBlocks(i)
	p.seq++
	pp := &partial{piece: i, blocks: make([]blockState, nb), free: nb, seq: p.seq}
	p.partial[i] = pp
	p.unstarted--
	// Keep plist ordered by priority, then age: insert after the last
	// piece of equal or higher priority.
	k := len(p.plist)
	for k > 0 && p.prio[p.plist[k-1].piece] < p.prio[i] {
		k--
	}
	p.plist = slices.Insert(p.plist, k, pp)
	return pp
}

// take requests blocks of pp from peer id: free ones, or in the end game
// (dup) ones outstanding elsewhere but not from this peer.
func (p *Picker) take(pp *partial, id PeerID, limit int, dst []Block, dup bool) []Block {
	for k := range pp.blocks {
		if len(dst) >= limit {
			break
		}
		b := &pp.blocks[k]
		if b.received {
			continue
		}
		if dup {
			if len(b.reqs) == 0 || len(b.reqs) >= MaxDuplicates || slices.Contains(b.reqs, id) {
				continue
			}
		} else if len(b.reqs) != 0 {
			continue
		} else {
			pp.free--
		}
		b.reqs = append(b.reqs, id)
		dst = append(dst, Block{Piece: pp.piece, Index: k})
	}
	return dst
}

// rarestWalk walks the orders from the front (highest priority, rarest
// first) for the first unstarted piece the peer has. Best for peers that
// have most pieces.
func (p *Picker) rarestWalk(pe *Peer) int {
	for _, l := range p.levels {
		for _, x := range p.orders[l].pieces {
			i := int(x)
			if _, ok := p.partial[i]; ok {
				continue
			}
			if pe.has(i) {
				return i
			}
		}
	}
	return -1
}

// rarestSparse scans the peer's few pieces for the best unstarted one,
// breaking ties at random. Best for peers that have few pieces.
func (p *Picker) rarestSparse(pe *Peer) int {
	best, bestPrio, bestAvail, ties := -1, 0, int32(0), 0
	for i := pe.Has.Next(0); i >= 0; i = pe.Has.Next(i + 1) {
		if p.pos[i] < 0 {
			continue
		}
		if _, ok := p.partial[i]; ok {
			continue
		}
		pr, a := p.prio[i], p.avail[i]
		switch {
		case best < 0 || pr > bestPrio || (pr == bestPrio && a < bestAvail):
			best, bestPrio, bestAvail, ties = i, pr, a, 1
		case pr == bestPrio && a == bestAvail:
			ties++
			if p.rng.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return best
}

// takeAbovePartials starts the peer's unstarted pieces whose priority is
// higher than that of every piece in progress it could serve, highest
// first. With no such partial piece the regular order does this already, so
// it does nothing, and it costs nothing while all wanted pieces share one
// priority.
func (p *Picker) takeAbovePartials(pe *Peer, limit int, dst []Block) []Block {
	if len(p.levels) < 2 || p.unstarted == 0 {
		return dst
	}
	floor := 0
	for _, pp := range p.plist { // by priority, highest first
		if pp.free > 0 && p.prio[pp.piece] > 0 && pe.has(pp.piece) {
			floor = p.prio[pp.piece]
			break
		}
	}
	if floor == 0 || floor >= p.levels[0] {
		return dst
	}
	for _, l := range p.levels {
		if l <= floor {
			break
		}
		for k := 0; k < len(p.orders[l].pieces) && len(dst) < limit; k++ {
			i := int(p.orders[l].pieces[k])
			if _, ok := p.partial[i]; ok || !pe.has(i) {
				continue
			}
			dst = p.take(p.start(i), pe.ID, limit, dst, false)
		}
	}
	return dst
}
