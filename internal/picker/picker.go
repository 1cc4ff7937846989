// Package picker decides which blocks to request from which peer.
//
// The policy is the one mature clients converge on:
//   - pieces already started are finished first, so that verified pieces (the
//     only thing we can upload) appear quickly;
//   - then the rarest piece the peer has, ties broken at random, within the
//     highest file priority present (priority 0 means "do not download");
//   - a peer that chokes us is asked only for its allowed-fast pieces (BEP 6);
//     pieces a peer suggests are taken before rarest-first;
//   - in the end game, when every wanted piece has been started, blocks still
//     outstanding are requested from further peers (at most MaxDuplicates
//     requesters per block) and the duplicates cancelled when one arrives.
//
// Pieces are kept in per-priority orders bucketed by availability, so an
// availability change is one swap and a pick walks from the front; nothing is
// sorted per pick. Block state (requested by whom, received) is kept only for
// pieces in progress.
//
// A Picker is owned by one goroutine (the torrent's event loop); it is not safe
// for concurrent use.
package picker

import (
	"math/rand/v2"
	"slices"

	"github.com/bt-go/bt/bitfield"
)

// BlockSize is the size of a request: 16 KiB, as every client uses.
const BlockSize = 16 << 10

// MaxDuplicates is how many peers may be asked for one block in the end game.
const MaxDuplicates = 3

// Block names one block: the Index-th 16 KiB block of Piece.
type Block struct {
	Piece int
	Index int
}

// PeerID identifies a peer to the picker; the engine assigns them.
type PeerID int32

// Peer describes the peer blocks are picked for.
type Peer struct {
	ID PeerID
	// Has is the peer's bitfield; ignored when Seed is set.
	Has  bitfield.Bitfield
	Seed bool
	// Choking: the peer chokes us, so only AllowedFast pieces can be asked.
	Choking     bool
	AllowedFast []int
	Suggested   []int
}

func (pe *Peer) has(i int) bool { return pe.Seed || pe.Has.Has(i) }

type blockState struct {
	reqs     []PeerID // peers this block is requested from
	received bool
}

type partial struct {
	piece    int
	blocks   []blockState
	received int // blocks received
	free     int // blocks neither received nor requested
	seq      uint64
}

// Picker holds the piece-picking state of one torrent.
type Picker struct {
	numPieces int
	pieceLen  int64
	totalLen  int64

	have  bitfield.Bitfield
	prio  []int   // per piece; 0 = not wanted
	avail []int32 // per piece, not counting seeds
	seeds int
	pos   []int32 // index of the piece in its order, -1 when not in one

	levels  []int          // distinct priorities > 0, highest first
	orders  map[int]*order // by priority
	partial map[int]*partial
	plist   []*partial // partial pieces, by priority then age
	seq     uint64

	unstarted int // wanted pieces neither had nor in progress
	rng       *rand.Rand
}

// New returns a picker for a torrent of numPieces pieces of pieceLen bytes
// (the last one shorter) totalling totalLen bytes. Every piece starts wanted
// with priority 1 and missing. rng breaks ties; nil means a random seed.
func New(numPieces int, pieceLen, totalLen int64, rng *rand.Rand) *Picker {
	if rng == nil {
		rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	p := &Picker{
		numPieces: numPieces,
		pieceLen:  pieceLen,
		totalLen:  totalLen,
		have:      bitfield.New(numPieces),
		prio:      make([]int, numPieces),
		avail:     make([]int32, numPieces),
		pos:       make([]int32, numPieces),
		partial:   make(map[int]*partial),
		rng:       rng,
	}
	for i := range p.prio {
		p.prio[i] = 1
	}
	p.rebuild()
	return p
}

// NumPieces returns the number of pieces.
func (p *Picker) NumPieces() int { return p.numPieces }

// PieceSize returns the length of piece i.
func (p *Picker) PieceSize(i int) int64 {
	if i == p.numPieces-1 {
		return p.totalLen - int64(i)*p.pieceLen
	}
	return p.pieceLen
}

// NumBlocks returns the number of blocks in piece i.
func (p *Picker) NumBlocks(i int) int {
	return int((p.PieceSize(i) + BlockSize - 1) / BlockSize)
}

// BlockRange returns the offset in its piece and the length of block b.
func (p *Picker) BlockRange(b Block) (begin, length int) {
	begin = b.Index * BlockSize
	length = min(BlockSize, int(p.PieceSize(b.Piece))-begin)
	return begin, length
}

func (p *Picker) wanted(i int) bool { return p.prio[i] > 0 && !p.have.Has(i) }

// rebuild recomputes the orders from scratch: shuffled, then stably sorted
// by availability, one order per priority level.
func (p *Picker) rebuild() {
	p.orders = make(map[int]*order)
	p.levels = p.levels[:0]
	p.unstarted = 0
	perm := p.rng.Perm(p.numPieces)
	byPrio := make(map[int][]int32)
	for _, i := range perm {
		p.pos[i] = -1
		if !p.wanted(i) {
			continue
		}
		if _, ok := p.partial[i]; !ok {
			p.unstarted++
		}
		byPrio[p.prio[i]] = append(byPrio[p.prio[i]], int32(i))
	}
	for pr, list := range byPrio {
		p.levels = append(p.levels, pr)
		slices.SortStableFunc(list, func(a, b int32) int { return int(p.avail[a] - p.avail[b]) })
		o := &order{pieces: list}
		for k, x := range list {
			p.pos[x] = int32(k)
			a := int(p.avail[x])
			for len(o.start) <= a {
				o.start = append(o.start, int32(k))
			}
		}
		p.orders[pr] = o
	}
	slices.Sort(p.levels)
	slices.Reverse(p.levels)
	p.sortPartials()
}

func (p *Picker) sortPartials() {
	slices.SortStableFunc(p.plist, func(a, b *partial) int {
		if pa, pb := p.prio[a.piece], p.prio[b.piece]; pa != pb {
			return pb - pa
		}
		if a.seq < b.seq {
			return -1
		}
		if a.seq > b.seq {
			return 1
		}
		return 0
	})
}

// SetPriorities sets every piece's priority (0 = do not download) from
// prio(i). Pieces in progress keep their block state.
func (p *Picker) SetPriorities(prio func(piece int) int) {
	for i := range p.prio {
		p.prio[i] = max(prio(i), 0)
	}
	p.rebuild()
}

// Priority returns the priority of piece i.
func (p *Picker) Priority(i int) int { return p.prio[i] }

// Have reports whether piece i has been marked had.
func (p *Picker) Have(i int) bool { return p.have.Has(i) }

// Bitfield returns a copy of the pieces had.
func (p *Picker) Bitfield() bitfield.Bitfield { return p.have.Clone() }

// Complete reports whether every wanted piece is had.
func (p *Picker) Complete() bool {
	for _, l := range p.levels {
		if len(p.orders[l].pieces) > 0 {
			return false
		}
	}
	return true
}

// Remaining returns the number of wanted pieces not yet had.
func (p *Picker) Remaining() int {
	n := 0
	for _, l := range p.levels {
		n += len(p.orders[l].pieces)
	}
	return n
}

// MarkHave records that piece i is verified and stored.
func (p *Picker) MarkHave(i int) {
	if p.have.Has(i) {
		return
	}
	if p.pos[i] >= 0 {
		p.orders[p.prio[i]].remove(p.pos, int32(i), int(p.avail[i]))
		if _, ok := p.partial[i]; !ok {
			p.unstarted--
		}
	}
	p.dropPartial(i)
	p.have.Set(i)
}

// MarkMissing records that piece i is not (or no longer) had, e.g. after a
// failed recheck.
func (p *Picker) MarkMissing(i int) {
	if !p.have.Has(i) {
		return
	}
	p.have.Clear(i)
	if p.prio[i] > 0 {
		p.insert(i)
		p.unstarted++
	}
}

func (p *Picker) insert(i int) {
	o := p.orders[p.prio[i]]
	if o == nil {
		o = &order{}
		p.orders[p.prio[i]] = o
		p.levels = append(p.levels, p.prio[i])
		slices.Sort(p.levels)
		slices.Reverse(p.levels)
	}
	o.insert(p.pos, int32(i), int(p.avail[i]))
}

func (p *Picker) dropPartial(i int) {
	pp, ok := p.partial[i]
	if !ok {
		return
	}
	delete(p.partial, i)
	if k := slices.Index(p.plist, pp); k >= 0 {
		p.plist = slices.Delete(p.plist, k, k+1)
	}
}

// PeerHas records that one more peer has piece i (a have message, or one
// bit of a bitfield).
func (p *Picker) PeerHas(i int) {
	a := int(p.avail[i])
	p.avail[i]++
	if p.pos[i] >= 0 {
		p.orders[p.prio[i]].inc(p.pos, int32(i), a)
	}
}

// PeerLost records that a peer that had piece i is gone.
func (p *Picker) PeerLost(i int) {
	a := int(p.avail[i])
	if a == 0 {
		return
	}
	p.avail[i]--
	if p.pos[i] >= 0 {
		p.orders[p.prio[i]].dec(p.pos, int32(i), a)
	}
}

// PeerBitfield records every piece of a peer's bitfield; PeerGone undoes it.
func (p *Picker) PeerBitfield(bf bitfield.Bitfield) {
	for i := bf.Next(0); i >= 0; i = bf.Next(i + 1) {
		p.PeerHas(i)
	}
}

// AddSeed counts a peer that has every piece. Seeds shift every piece's
// availability alike, so they are counted apart in O(1).
func (p *Picker) AddSeed() { p.seeds++ }

// RemoveSeed undoes AddSeed.
func (p *Picker) RemoveSeed() { p.seeds-- }

// Availability returns how many connected peers have piece i.
func (p *Picker) Availability(i int) int { return int(p.avail[i]) + p.seeds }

// PeerGone forgets a departed peer: its pieces (bf, or all of them when seed
// is set) stop counting and its outstanding requests are released.
func (p *Picker) PeerGone(id PeerID, bf bitfield.Bitfield, seed bool) {
	if seed {
		p.RemoveSeed()
	} else {
		for i := bf.Next(0); i >= 0; i = bf.Next(i + 1) {
			p.PeerLost(i)
		}
	}
	for _, pp := range p.plist {
		for k := range pp.blocks {
			p.unrequest(pp, k, id)
		}
	}
}

func (p *Picker) unrequest(pp *partial, k int, id PeerID) bool {
	b := &pp.blocks[k]
	j := slices.Index(b.reqs, id)
	if j < 0 {
		return false
	}
	b.reqs = slices.Delete(b.reqs, j, j+1)
	if len(b.reqs) == 0 && !b.received {
		pp.free++
	}
	return true
}

// Cancel releases a request of block b from peer id (rejected, timed out,
// cancelled, or lost to a choke) so it can be picked again.
func (p *Picker) Cancel(id PeerID, b Block) {
	if pp, ok := p.partial[b.Piece]; ok && b.Index < len(pp.blocks) {
		p.unrequest(pp, b.Index, id)
	}
}

// Requested reports whether block b is outstanding from peer id.
func (p *Picker) Requested(id PeerID, b Block) bool {
	pp, ok := p.partial[b.Piece]
	return ok && b.Index >= 0 && b.Index < len(pp.blocks) && slices.Contains(pp.blocks[b.Index].reqs, id)
}

// Received records block b arriving from peer id. It reports whether the
// block was new (false for a duplicate or a block of a piece not in
// progress), the other peers it was also requested from (to be cancelled;
// the slice is only valid until the next call), and whether the piece now has
// all its blocks.
func (p *Picker) Received(id PeerID, b Block) (fresh bool, others []PeerID, pieceDone bool) {
	pp, ok := p.partial[b.Piece]
	if !ok || b.Index < 0 || b.Index >= len(pp.blocks) {
		return false, nil, false
	}
	bs := &pp.blocks[b.Index]
	if bs.received {
		p.unrequest(pp, b.Index, id)
		return false, nil, false
	}
	if len(bs.reqs) == 0 {
		pp.free--
	}
	bs.received = true
	pp.received++
	others = bs.reqs[:0]
	for _, r := range bs.reqs {
		if r != id {
			others = append(others, r)
		}
	}
	bs.reqs = nil
	return true, others, pp.received == len(pp.blocks)
}

// PieceFailed resets piece i after its hash check failed, so every block is
// requested again.
func (p *Picker) PieceFailed(i int) {
	pp, ok := p.partial[i]
	if !ok {
		return
	}
	for k := range pp.blocks {
		pp.blocks[k] = blockState{}
	}
	pp.received = 0
	pp.free = len(pp.blocks)
}

// InProgress returns the pieces that have been started but not completed.
func (p *Picker) InProgress() []int {
	out := make([]int, 0, len(p.plist))
	for _, pp := range p.plist {
		out = append(out, pp.piece)
	}
	return out
}

// EndGame reports whether every wanted piece has been started.
func (p *Picker) EndGame() bool { return p.unstarted == 0 }
