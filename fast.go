package bt

import (
	"net/netip"

	"github.com/bt-go/bt/wire"
)

// allowedFastCount is how many allowed-fast pieces we grant each peer.
const allowedFastCount = 10

// allowedFastSet returns the BEP 6 allowed-fast set of k pieces for a peer at
// addr in a torrent of numPieces pieces (wire.AllowedFastSet: the canonical
// algorithm, so that any peer can predict it).
func allowedFastSet(addr netip.Addr, infoHash [20]byte, numPieces, k int) []int {
	return wire.AllowedFastSet(addr.Unmap().AsSlice(), infoHash, numPieces, k)
}
