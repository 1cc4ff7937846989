package bt

import (
	"crypto/sha1"
	"encoding/binary"
	"net/netip"
)

// allowedFastCount is how many allowed-fast pieces we grant each peer.
const allowedFastCount = 10

// allowedFastSet returns the BEP 6 allowed-fast set of k pieces for a peer at
// addr in a torrent of numPieces pieces: the canonical algorithm, so that any
// peer can predict it. BEP 6 defines it for IPv4; for IPv6 the /48 prefix
// takes the place of the /24 (our choice; the BEP is silent).
func allowedFastSet(addr netip.Addr, infoHash [20]byte, numPieces, k int) []int {
	k = min(k, numPieces)
	if k <= 0 {
		return nil
	}
	addr = addr.Unmap()
	var x []byte
	if addr.Is4() {
		ip := addr.As4()
		x = append(x, ip[0], ip[1], ip[2], 0)
	} else {
		ip := addr.As16()
		x = append(x, ip[:6]...)
		x = append(x, make([]byte, 10)...)
	}
	x = append(x, infoHash[:]...)
	out := make([]int, 0, k)
	for len(out) < k {
		sum := sha1.Sum(x)
		x = sum[:]
		for i := 0; i < 5 && len(out) < k; i++ {
			idx := int(binary.BigEndian.Uint32(x[4*i:]) % uint32(numPieces))
			dup := false
			for _, o := range out {
				dup = dup || o == idx
			}
			if !dup {
				out = append(out, idx)
			}
		}
	}
	return out
}
