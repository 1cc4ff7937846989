package wire

import (
	"crypto/sha1"
	"encoding/binary"
	"net"
)

// AllowedFastSet computes the canonical allowed-fast set of BEP 6: the k
// piece indices a peer at ip may request from a torrent of numPieces pieces
// while choked. Only IPv4 addresses are defined by BEP 6; for others the
// set is computed from the first four bytes of the 16-byte form. It returns
// nil when numPieces is not positive; k is capped at numPieces.
func AllowedFastSet(ip net.IP, infoHash [20]byte, numPieces, k int) []int {
	if numPieces <= 0 || k <= 0 {
		return nil
	}
	k = min(k, numPieces)
	var x [24]byte
	if ip4 := ip.To4(); ip4 != nil {
		copy(x[:4], ip4)
	} else if len(ip) == 16 {
		copy(x[:4], ip)
	}
	x[3] = 0 // the /24 network: 0xFFFFFF00 & ip
	copy(x[4:], infoHash[:])
	h := x[:]
	set := make([]int, 0, k)
	for len(set) < k {
		sum := sha1.Sum(h)
		h = sum[:]
		for i := 0; i < 5 && len(set) < k; i++ {
			index := int(binary.BigEndian.Uint32(h[4*i:]) % uint32(numPieces))
			if !containsInt(set, index) {
				set = append(set, index)
			}
		}
	}
	return set
}
