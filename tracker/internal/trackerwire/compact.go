// Package trackerwire holds the byte formats shared by the tracker client and
// the tracker server: compact peer lists (BEP 23 and BEP 7) and the packets of
// the UDP tracker protocol (BEP 15).
//
// Every decoder here is bounded by its input: it never allocates more than a
// small multiple of the bytes it was given, and it answers malformed input
// with an error, never a panic.
package trackerwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Sizes of one compact peer entry.
const (
	CompactIPv4Len = 6  // 4-byte address, 2-byte port (BEP 23)
	CompactIPv6Len = 18 // 16-byte address, 2-byte port (BEP 7)
)

// ErrCompactLength reports a compact peer string whose length is not a
// multiple of its entry size.
var ErrCompactLength = errors.New("compact peer string has a length that is not a multiple of the entry size")

// ParseCompact decodes a compact peer string of entries of size stride
// (CompactIPv4Len or CompactIPv6Len). Entries with port 0 or an unspecified
// address are skipped: nobody can be dialled there.
func ParseCompact(b []byte, stride int) ([]netip.AddrPort, error) {
	if stride != CompactIPv4Len && stride != CompactIPv6Len {
		return nil, fmt.Errorf("trackerwire: bad compact stride %d", stride)
	}
	if len(b)%stride != 0 {
		return nil, fmt.Errorf("%w: %d bytes, entry size %d", ErrCompactLength, len(b), stride)
	}
	peers := make([]netip.AddrPort, 0, len(b)/stride)
	for ; len(b) > 0; b = b[stride:] {
		var addr netip.Addr
		if stride == CompactIPv4Len {
			addr = netip.AddrFrom4([4]byte(b[:4]))
		} else {
			addr = netip.AddrFrom16([16]byte(b[:16])).Unmap()
		}
		port := binary.BigEndian.Uint16(b[stride-2:])
		if port == 0 || !addr.IsValid() || addr.IsUnspecified() {
			continue
		}
		peers = append(peers, netip.AddrPortFrom(addr, port))
	}
	return peers, nil
}

// AppendCompact appends the compact form of p to b: 6 bytes for an IPv4 (or
// IPv4-mapped) address, 18 for IPv6.
func AppendCompact(b []byte, p netip.AddrPort) []byte {
	a := p.Addr().Unmap()
	if a.Is4() {
		v := a.As4()
		b = append(b, v[:]...)
	} else {
		v := a.As16()
		b = append(b, v[:]...)
	}
	return binary.BigEndian.AppendUint16(b, p.Port())
}
