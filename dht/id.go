package dht

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"math/bits"
	"net/netip"
)

// ID is a 160-bit node id or info hash.
type ID [20]byte

// String returns the id in lowercase hex.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// RandomID returns a uniformly random id.
func RandomID() ID {
	var id ID
	rand.Read(id[:])
	return id
}

// closer reports whether a is strictly closer to target than b.
func closer(target, a, b ID) bool {
	for i := range target {
		x, y := a[i]^target[i], b[i]^target[i]
		if x != y {
			return x < y
		}
	}
	return false
}

// commonPrefixLen returns the number of leading bits a and b share (160 if
// equal).
func commonPrefixLen(a, b ID) int {
	for i := range a {
		if x := a[i] ^ b[i]; x != 0 {
			return i*8 + bits.LeadingZeros8(x)
		}
	}
	return 160
}

// randomIDWithPrefix returns a random id sharing the first n bits of prefix.
func randomIDWithPrefix(prefix ID, n int) ID {
	id := RandomID()
	for i := 0; i < n; i++ {
		byteI, mask := i/8, byte(0x80)>>(i%8)
		id[byteI] = id[byteI]&^mask | prefix[byteI]&mask
	}
	return id
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// bep42Prefix returns the CRC32C that BEP 42 derives from ip and r.
func bep42Prefix(ip netip.Addr, r byte) uint32 {
	ip = ip.Unmap()
	if ip.Is4() {
		a := ip.As4()
		v := binary.BigEndian.Uint32(a[:])&0x030f3fff | uint32(r&7)<<29
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], v)
		return crc32.Checksum(b[:], castagnoli)
	}
	a := ip.As16()
	v := binary.BigEndian.Uint64(a[:8])&0x0103070f1f3f7fff | uint64(r&7)<<61
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return crc32.Checksum(b[:], castagnoli)
}

// SecureID returns a random node id that satisfies BEP 42 for the external
// address ip: its first 21 bits come from CRC32C of the masked address and a
// random r in 0..7, which is stored in the last byte.
func SecureID(ip netip.Addr) ID {
	id := RandomID()
	r := id[19] & 7
	crc := bep42Prefix(ip, r)
	id[0] = byte(crc >> 24)
	id[1] = byte(crc >> 16)
	id[2] = byte(crc>>8)&0xf8 | id[2]&7
	return id
}

// IsSecureID reports whether id satisfies BEP 42 for the address ip. Local
// and loopback addresses (which BEP 42 exempts) always satisfy it.
func IsSecureID(id ID, ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return true
	}
	crc := bep42Prefix(ip, id[19]&7)
	return id[0] == byte(crc>>24) && id[1] == byte(crc>>16) && id[2]&0xf8 == byte(crc>>8)&0xf8
}
