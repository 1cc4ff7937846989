package krpc

import (
	"encoding/binary"
	"net/netip"
)

// Sizes of the compact encodings.
const (
	IDLen        = 20
	NodeLen4     = IDLen + 6  // compact node info, IPv4
	NodeLen6     = IDLen + 18 // compact node info, IPv6
	PeerLen4     = 6          // compact peer info, IPv4
	PeerLen6     = 18         // compact peer info, IPv6
	MaxTokenLen  = 64         // longest token accepted in a message
	MaxTIDLen    = 16         // longest transaction id accepted in a message
	maxMethodLen = 32
)

// NodeInfo is a node's id and UDP address.
type NodeInfo struct {
	ID   [IDLen]byte
	Addr netip.AddrPort
}

// AppendPeer appends the compact form of addr: 6 bytes for IPv4, 18 for
// IPv6.
func AppendPeer(dst []byte, addr netip.AddrPort) []byte {
	ip := addr.Addr().Unmap()
	if ip.Is4() {
		a := ip.As4()
		dst = append(dst, a[:]...)
	} else {
		a := ip.As16()
		dst = append(dst, a[:]...)
	}
	return binary.BigEndian.AppendUint16(dst, addr.Port())
}

// ParsePeer decodes a 6- or 18-byte compact address.
func ParsePeer(b []byte) (netip.AddrPort, bool) {
	switch len(b) {
	case PeerLen4:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[:4])), binary.BigEndian.Uint16(b[4:])), true
	case PeerLen6:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[:16])), binary.BigEndian.Uint16(b[16:])), true
	}
	return netip.AddrPort{}, false
}

// AppendNodes appends the compact node info of nodes; IPv4 nodes take 26
// bytes, IPv6 nodes 38. Callers put only one family in one string.
func AppendNodes(dst []byte, nodes []NodeInfo) []byte {
	for _, n := range nodes {
		dst = append(dst, n.ID[:]...)
		dst = AppendPeer(dst, n.Addr)
	}
	return dst
}

// ParseNodes decodes a compact node info string whose entries are size bytes
// long (NodeLen4 or NodeLen6). It fails if len(b) is not a multiple of size.
func ParseNodes(b []byte, size int) ([]NodeInfo, bool) {
	if len(b)%size != 0 {
		return nil, false
	}
	if len(b) == 0 {
		return nil, true
	}
	nodes := make([]NodeInfo, 0, len(b)/size)
	for ; len(b) > 0; b = b[size:] {
		var n NodeInfo
		copy(n.ID[:], b[:IDLen])
		n.Addr, _ = ParsePeer(b[IDLen:size])
		nodes = append(nodes, n)
	}
	return nodes, true
}
