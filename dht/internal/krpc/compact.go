package krpc

import (
	"net/netip"

	"github.com/bt-go/bt/internal/compact"
)

// Sizes of the compact encodings.
const (
	IDLen        = 20
	NodeLen4     = IDLen + compact.IPv4Len // compact node info, IPv4
	NodeLen6     = IDLen + compact.IPv6Len // compact node info, IPv6
	MaxTokenLen  = 64                      // longest token accepted in a message
	MaxTIDLen    = 16                      // longest transaction id accepted in a message
	maxMethodLen = 32
)

// NodeInfo is a node's id and UDP address.
type NodeInfo struct {
	ID   [IDLen]byte
	Addr netip.AddrPort
}

// AppendNodes appends the compact node info of nodes; IPv4 nodes take 26
// bytes, IPv6 nodes 38. Callers put only one family in one string.
func AppendNodes(dst []byte, nodes []NodeInfo) []byte {
	for _, n := range nodes {
		dst = append(dst, n.ID[:]...)
		dst = compact.Append(dst, n.Addr)
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
		n.Addr, _ = compact.Parse(b[IDLen:size])
		nodes = append(nodes, n)
	}
	return nodes, true
}
