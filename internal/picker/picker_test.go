package picker

import (
	"math/rand/v2"
	"testing"

	"github.com/bt-go/bt/bitfield"
	"pgregory.net/rapid"
)

func newTest(n int) *Picker {
	return New(n, 4*BlockSize, int64(n)*4*BlockSize, rand.New(rand.NewPCG(1, 2)))
}

// check verifies the internal invariants of the orders.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

func check(t fataler, p *Picker) {
	t.Helper()
	inOrder := 0
	for _, l := range p.levels {
		o := p.orders[l]
		for k, x := range o.pieces {
			if p.pos[x] != int32(k) {
				t.Fatalf("pos[%d] = %d, want %d", x, p.pos[x], k)
			}
			if p.prio[x] != l {
				t.Fatalf("piece %d of prio %d in level %d", x, p.prio[x], l)
			}
			if !p.wanted(int(x)) {
				t.Fatalf("piece %d in order but not wanted", x)
			}
			a := int(p.avail[x])
			if a >= len(o.start) || int32(k) < o.start[a] || int32(k) >= o.bucketEnd(a) {
				t.Fatalf("piece %d (avail %d) at %d outside its bucket; start=%v", x, a, k, o.start)
			}
			inOrder++
		}
	}
	wanted, unstarted := 0, 0
	for i := range p.numPieces {
		if p.wanted(i) {
			wanted++
			if _, ok := p.partial[i]; !ok {
				unstarted++
			}
		} else if p.pos[i] != -1 {
			t.Fatalf("unwanted piece %d has pos %d", i, p.pos[i])
		}
	}
	if wanted != inOrder {
		t.Fatalf("%d wanted pieces, %d in orders", wanted, inOrder)
	}
	if unstarted != p.unstarted {
		t.Fatalf("unstarted = %d, want %d", p.unstarted, unstarted)
	}
	for _, pp := range p.plist {
		free := 0
		for _, b := range pp.blocks {
			if !b.received && len(b.reqs) == 0 {
				free++
			}
		}
		if free != pp.free {
			t.Fatalf("piece %d: free = %d, want %d", pp.piece, pp.free, free)
		}
	}
}

func bf(n int, set ...int) bitfield.Bitfield {
	f := bitfield.New(n)
	for _, i := range set {
		f.Set(i)
	}
	return f
}

func TestRarestFirst(t *testing.T) {
	p := newTest(10)
	// Availability: piece 7 once, everything else three times.
	for range 3 {
		p.PeerBitfield(bitfield.Full(10))
	}
	p.PeerLost(7)
	p.PeerLost(7)
	check(t, p)
	got := p.Pick(&Peer{ID: 1, Seed: true}, 1, nil)
	if len(got) != 1 || got[0].Piece != 7 {
		t.Fatalf("Pick = %v, want piece 7", got)
	}
	check(t, p)
}

func TestRandomTieBreak(t *testing.T) {
	seen := map[int]bool{}
	for s := range uint64(20) {
		p := New(50, BlockSize, 50*BlockSize, rand.New(rand.NewPCG(s, s)))
		got := p.Pick(&Peer{ID: 1, Seed: true}, 1, nil)
		seen[got[0].Piece] = true
	}
	if len(seen) < 5 {
		t.Fatalf("20 pickers chose only %d distinct first pieces", len(seen))
	}
}

func TestSparsePeerRarest(t *testing.T) {
	p := newTest(1000)
	p.PeerBitfield(bitfield.Full(1000))
	p.PeerBitfield(bitfield.Full(1000))
	p.PeerLost(500)
	pe := &Peer{ID: 1, Has: bf(1000, 3, 500, 900)}
	p.PeerBitfield(pe.Has)
	got := p.Pick(pe, 1, nil)
	if got[0].Piece != 500 {
		t.Fatalf("Pick = %v, want piece 500", got)
	}
	check(t, p)
}

func TestPartialFirst(t *testing.T) {
	p := newTest(10)
	a := p.Pick(&Peer{ID: 1, Seed: true}, 1, nil)
	b := p.Pick(&Peer{ID: 2, Seed: true}, 3, nil)
	for _, x := range b {
		if x.Piece != a[0].Piece {
			t.Fatalf("second peer got %v, want the rest of piece %d", b, a[0].Piece)
		}
	}
	check(t, p)
}

func TestPriorities(t *testing.T) {
	p := newTest(10)
	p.SetPriorities(func(i int) int {
		switch {
		case i < 5:
			return 0
		case i == 8:
			return 7
		}
		return 1
	})
	check(t, p)
	got := p.Pick(&Peer{ID: 1, Seed: true}, 4, nil)
	if got[0].Piece != 8 {
		t.Fatalf("first pick %v, want piece 8", got)
	}
	all := p.Pick(&Peer{ID: 1, Seed: true}, 100, nil)
	for _, b := range all {
		if b.Piece < 5 {
			t.Fatalf("picked block %v of a priority-0 piece", b)
		}
	}
	if len(all) != 4*4 {
		t.Fatalf("picked %d blocks, want 16", len(all))
	}
	check(t, p)
}

// TestHigherBeforePartial: an unstarted piece raised above the pieces in
// progress is picked before they are finished.
func TestHigherBeforePartial(t *testing.T) {
	p := newTest(10)
	seed := &Peer{ID: 1, Seed: true}
	first := p.Pick(seed, 1, nil)
	p.Cancel(1, first[0]) // piece first[0].Piece is in progress, all free
	urgent := (first[0].Piece + 5) % 10
	p.SetPriorities(func(i int) int {
		if i == urgent {
			return 9
		}
		return 1
	})
	got := p.Pick(seed, 4, nil)
	for _, b := range got {
		if b.Piece != urgent {
			t.Fatalf("picked %v; want the 4 blocks of piece %d before piece %d in progress", got, urgent, first[0].Piece)
		}
	}
	if got := p.Pick(seed, 1, nil); got[0].Piece != first[0].Piece {
		t.Fatalf("then %v; want piece %d in progress", got, first[0].Piece)
	}
	check(t, p)
}

func TestChokedAllowedFast(t *testing.T) {
	p := newTest(10)
	pe := &Peer{ID: 1, Seed: true, Choking: true, AllowedFast: []int{6, 99, -1}}
	got := p.Pick(pe, 10, nil)
	if len(got) != 4 {
		t.Fatalf("Pick = %v, want the 4 blocks of piece 6", got)
	}
	for _, b := range got {
		if b.Piece != 6 {
			t.Fatalf("Pick = %v, want piece 6 only", got)
		}
	}
	pe.AllowedFast = nil
	if got := p.Pick(pe, 10, nil); len(got) != 0 {
		t.Fatalf("choked peer without allowed fast: %v", got)
	}
	check(t, p)
}

func TestSuggested(t *testing.T) {
	p := newTest(10)
	p.PeerBitfield(bitfield.Full(10))
	p.PeerLost(2) // piece 2 is rarest, but the peer suggests 9
	got := p.Pick(&Peer{ID: 1, Seed: true, Suggested: []int{9}}, 1, nil)
	if got[0].Piece != 9 {
		t.Fatalf("Pick = %v, want suggested piece 9", got)
	}
}

func TestEndGame(t *testing.T) {
	p := newTest(2)
	a := p.Pick(&Peer{ID: 1, Seed: true}, 100, nil)
	if len(a) != 8 || !p.EndGame() {
		t.Fatalf("first peer got %d blocks, endgame %v", len(a), p.EndGame())
	}
	b := p.Pick(&Peer{ID: 2, Seed: true}, 100, nil)
	if len(b) != 8 {
		t.Fatalf("end game: second peer got %d duplicate blocks, want 8", len(b))
	}
	if c := p.Pick(&Peer{ID: 2, Seed: true}, 100, nil); len(c) != 0 {
		t.Fatalf("same peer asked twice for a block: %v", c)
	}
	fresh, others, _ := p.Received(2, b[0])
	if !fresh || len(others) != 1 || others[0] != 1 {
		t.Fatalf("Received = %v %v, want fresh with peer 1 to cancel", fresh, others)
	}
	if fresh, _, _ := p.Received(1, b[0]); fresh {
		t.Fatal("duplicate block reported fresh")
	}
	check(t, p)
}

func TestPieceDoneAndFailed(t *testing.T) {
	p := newTest(3)
	pe := &Peer{ID: 1, Seed: true}
	got := p.Pick(pe, 4, nil)
	piece := got[0].Piece
	var done bool
	for _, b := range got {
		_, _, done = p.Received(1, b)
	}
	if !done {
		t.Fatal("piece not done after all blocks")
	}
	p.PieceFailed(piece)
	again := p.Pick(pe, 4, nil)
	if len(again) != 4 || again[0].Piece != piece {
		t.Fatalf("after hash failure: %v, want piece %d again", again, piece)
	}
	for _, b := range again {
		p.Received(1, b)
	}
	p.MarkHave(piece)
	check(t, p)
	if p.Remaining() != 2 || !p.Have(piece) {
		t.Fatalf("remaining %d have %v", p.Remaining(), p.Have(piece))
	}
	p.MarkMissing(piece)
	check(t, p)
	if p.Remaining() != 3 {
		t.Fatalf("remaining %d after MarkMissing", p.Remaining())
	}
}

func TestPeerGoneReleases(t *testing.T) {
	p := newTest(4)
	p.AddSeed()
	got := p.Pick(&Peer{ID: 1, Seed: true}, 2, nil)
	p.PeerGone(1, bitfield.Bitfield{}, true)
	check(t, p)
	again := p.Pick(&Peer{ID: 2, Seed: true}, 2, nil)
	if again[0] != got[0] || again[1] != got[1] {
		t.Fatalf("released blocks not re-picked: %v then %v", got, again)
	}
	p.Cancel(2, again[0])
	check(t, p)
	if p.Requested(2, again[0]) || !p.Requested(2, again[1]) {
		t.Fatal("Cancel did not release exactly one block")
	}
}

func TestShortLastPiece(t *testing.T) {
	p := New(3, 4*BlockSize, 2*4*BlockSize+BlockSize+100, nil)
	if p.NumBlocks(2) != 2 {
		t.Fatalf("NumBlocks(2) = %d, want 2", p.NumBlocks(2))
	}
	if b, l := p.BlockRange(Block{2, 1}); b != BlockSize || l != 100 {
		t.Fatalf("BlockRange = %d,%d", b, l)
	}
}

// TestRandomOperations drives a picker with random operations and checks the
// invariants, then that a seed can take it to completion.
func TestRandomOperations(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 60).Draw(rt, "n")
		p := New(n, 2*BlockSize, int64(n)*2*BlockSize-1, rand.New(rand.NewPCG(3, 4)))
		peers := map[PeerID]bitfield.Bitfield{}
		steps := rapid.IntRange(0, 200).Draw(rt, "steps")
		for range steps {
			id := PeerID(rapid.IntRange(1, 4).Draw(rt, "peer"))
			if _, ok := peers[id]; !ok {
				peers[id] = bitfield.New(n)
			}
			i := rapid.IntRange(0, n-1).Draw(rt, "piece")
			switch rapid.IntRange(0, 8).Draw(rt, "op") {
			case 0:
				if !peers[id].Has(i) {
					peers[id].Set(i)
					p.PeerHas(i)
				}
			case 1:
				p.PeerGone(id, peers[id], false)
				delete(peers, id)
			case 2, 3:
				for _, b := range p.Pick(&Peer{ID: id, Has: peers[id]}, 3, nil) {
					if !peers[id].Has(b.Piece) {
						rt.Fatalf("picked %v the peer lacks", b)
					}
				}
			case 4:
				for _, pc := range p.InProgress() {
					for k := range p.NumBlocks(pc) {
						if p.Requested(id, Block{pc, k}) {
							if _, _, done := p.Received(id, Block{pc, k}); done {
								p.MarkHave(pc)
							}
						}
					}
				}
			case 5:
				p.MarkMissing(i)
			case 6:
				mod := rapid.IntRange(1, 3).Draw(rt, "mod")
				p.SetPriorities(func(j int) int { return j % mod })
			case 7:
				p.PieceFailed(i)
			case 8:
				p.SetPriorities(func(int) int { return 1 })
			}
			check(rt, p)
		}
		p.SetPriorities(func(int) int { return 1 })
		seed := &Peer{ID: 99, Seed: true}
		for range 10 * n {
			if p.Complete() {
				break
			}
			for _, b := range p.Pick(seed, 8, nil) {
				if _, _, done := p.Received(99, b); done {
					p.MarkHave(b.Piece)
				}
			}
			// Others' requests never arrive: release them.
			for id, f := range peers {
				p.PeerGone(id, f, false)
				delete(peers, id)
			}
			check(rt, p)
		}
		if !p.Complete() {
			rt.Fatalf("not complete; remaining %d", p.Remaining())
		}
	})
}

func BenchmarkPick(b *testing.B) {
	const n = 100000
	p := New(n, 4*BlockSize, n*4*BlockSize, nil)
	for range 30 {
		p.PeerBitfield(bitfield.Full(n))
	}
	seed := &Peer{ID: 1, Seed: true}
	buf := make([]Block, 0, 64)
	b.ResetTimer()
	for b.Loop() {
		buf = p.Pick(seed, 64, buf[:0])
		for _, bl := range buf {
			if _, _, done := p.Received(1, bl); done {
				p.MarkHave(bl.Piece)
				p.MarkMissing(bl.Piece) // keep the torrent from completing
			}
		}
		if len(buf) == 0 {
			b.Fatal("nothing picked")
		}
	}
}
