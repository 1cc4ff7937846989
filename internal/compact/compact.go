// Package compact is the one codec of BitTorrent's compact peer addresses,
// shared by the tracker protocols (BEP 23, BEP 7, BEP 15), the DHT (BEP 5,
// BEP 32) and ut_pex (BEP 11): an IPv4 address and port in 6 bytes, an IPv6
// address and port in 18, big-endian.
package compact

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Sizes of one entry.
const (
	IPv4Len = 6  // 4-byte address, 2-byte port
	IPv6Len = 18 // 16-byte address, 2-byte port
)

// ErrLength reports a list whose length is not a multiple of its entry
// size.
var ErrLength = errors.New("compact peer list has a length that is not a multiple of the entry size")

// Append appends the compact form of p: 6 bytes for an IPv4 (or
// IPv4-mapped) address, 18 for IPv6.
func Append(b []byte, p netip.AddrPort) []byte {
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

// Parse decodes one entry of 6 or 18 bytes as it is (an IPv4-mapped
// address in 18 bytes stays mapped); ok is false for any other length.
func Parse(b []byte) (p netip.AddrPort, ok bool) {
	switch len(b) {
	case IPv4Len:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b)), binary.BigEndian.Uint16(b[4:])), true
	case IPv6Len:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(b)), binary.BigEndian.Uint16(b[16:])), true
	}
	return netip.AddrPort{}, false
}

// Dialable reports whether p can be a peer's listening address: a port
// other than 0 on a valid address that is not unspecified, multicast or
// the IPv4 broadcast address.
func Dialable(p netip.AddrPort) bool {
	a := p.Addr()
	return p.Port() != 0 && a.IsValid() && !a.IsUnspecified() && !a.IsMulticast() &&
		a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// ParseList decodes a list of entries of size stride (IPv4Len or IPv6Len)
// for peers to dial: IPv4-mapped addresses are unmapped, and entries that
// are not Dialable are left out. It never allocates more than the list
// needs.
func ParseList(b []byte, stride int) ([]netip.AddrPort, error) {
	if stride != IPv4Len && stride != IPv6Len {
		return nil, fmt.Errorf("compact: bad entry size %d", stride)
	}
	if len(b)%stride != 0 {
		return nil, fmt.Errorf("%w: %d bytes, entry size %d", ErrLength, len(b), stride)
	}
	peers := make([]netip.AddrPort, 0, len(b)/stride)
	for ; len(b) > 0; b = b[stride:] {
		p, _ := Parse(b[:stride])
		p = netip.AddrPortFrom(p.Addr().Unmap(), p.Port())
		if Dialable(p) {
			peers = append(peers, p)
		}
	}
	return peers, nil
}
