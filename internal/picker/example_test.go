package picker_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/internal/picker"
)

// Example picks blocks for a peer: the rarest piece it has comes first.
func Example() {
	p := picker.New(4, 2*picker.BlockSize, 4*2*picker.BlockSize, rand.New(rand.NewPCG(1, 1)))
	// Two peers have everything but piece 2, which only the third has.
	full := bitfield.Full(4)
	p.PeerBitfield(full)
	p.PeerBitfield(full)
	p.PeerLost(2)
	p.PeerLost(2)
	blocks := p.Pick(&picker.Peer{ID: 3, Has: full}, 2, nil)
	fmt.Println(blocks)
	// Output: [{2 0} {2 1}]
}
