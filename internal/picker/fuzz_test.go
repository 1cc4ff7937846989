package picker

import (
	"math/rand/v2"
	"testing"

	"github.com/bt-go/bt/bitfield"
)

// FuzzPicker drives a picker with operations decoded from the input,
// including peer-supplied allowed-fast and suggested indices out of range,
// and checks its invariants after each one.
func FuzzPicker(f *testing.F) {
	f.Add([]byte{5, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{40, 3, 3, 3, 2, 2, 0, 9, 9, 1, 4, 4, 7, 250, 6, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		n := int(data[0])%64 + 1
		p := New(n, 2*BlockSize, int64(n)*2*BlockSize-int64(data[1]), rand.New(rand.NewPCG(1, 2)))
		peers := map[PeerID]bitfield.Bitfield{}
		for k := 2; k+1 < len(data); k += 2 {
			op, arg := data[k], int(data[k+1])
			id := PeerID(op>>4) % 4
			if _, ok := peers[id]; !ok {
				peers[id] = bitfield.New(n)
			}
			i := arg % n
			switch op % 9 {
			case 0:
				if !peers[id].Has(i) {
					peers[id].Set(i)
					p.PeerHas(i)
				}
			case 1:
				p.PeerGone(id, peers[id], false)
				delete(peers, id)
			case 2:
				pe := &Peer{ID: id, Has: peers[id], Choking: arg&1 == 1,
					AllowedFast: []int{arg - 128, i}, Suggested: []int{arg * 1000, i, -arg}}
				for _, b := range p.Pick(pe, arg%20, nil) {
					if !peers[id].Has(b.Piece) {
						t.Fatalf("picked %v the peer lacks", b)
					}
				}
			case 3:
				for _, b := range p.Pick(&Peer{ID: id, Seed: true}, arg%20, nil) {
					if _, _, done := p.Received(id, b); done {
						p.MarkHave(b.Piece)
					}
				}
			case 4:
				p.Received(id, Block{Piece: i, Index: arg % 3})
			case 5:
				p.MarkMissing(i)
			case 6:
				p.SetPriorities(func(j int) int { return (j + arg) % 3 })
			case 7:
				p.PieceFailed(i)
			case 8:
				p.Cancel(id, Block{Piece: i, Index: arg % 3})
			}
			check(t, p)
		}
	})
}
