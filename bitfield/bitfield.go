// Package bitfield provides the piece bitfield of the BitTorrent protocol:
// a fixed-length set of piece indices packed eight to a byte, high bit first,
// exactly as the bitfield message carries it on the wire (BEP 3).
package bitfield

import (
	"errors"
	"fmt"
	"math/bits"
)

// ErrSpareBits reports a packed bitfield whose unused trailing bits are set.
var ErrSpareBits = errors.New("bitfield: spare bits set")

// Bitfield is a set of piece indices in [0, Len()). The zero value is an
// empty bitfield of length zero. A Bitfield is not safe for concurrent use.
type Bitfield struct {
	b []byte
	n int
}

// New returns an empty bitfield for n pieces.
func New(n int) Bitfield {
	if n < 0 {
		panic("bitfield: negative length")
	}
	return Bitfield{b: make([]byte, (n+7)/8), n: n}
}

// Full returns a bitfield for n pieces with every piece set.
func Full(n int) Bitfield {
	f := New(n)
	f.SetAll()
	return f
}

// ByteLen returns the length in bytes of a packed bitfield for n pieces.
func ByteLen(n int) int { return (n + 7) / 8 }

// FromBytes parses a packed bitfield for n pieces. It copies p. It fails if p
// has the wrong length or sets any spare bit past n.
func FromBytes(p []byte, n int) (Bitfield, error) {
	if n < 0 || len(p) != ByteLen(n) {
		return Bitfield{}, fmt.Errorf("bitfield: %d bytes for %d pieces, want %d", len(p), n, ByteLen(n))
	}
	f := Bitfield{b: append([]byte(nil), p...), n: n}
	if n%8 != 0 && f.b[len(f.b)-1]&(0xff>>(n%8)) != 0 {
		return Bitfield{}, ErrSpareBits
	}
	return f, nil
}

// Len returns the number of pieces the bitfield covers.
func (f Bitfield) Len() int { return f.n }

// Has reports whether piece i is set. Indices out of range are never set.
func (f Bitfield) Has(i int) bool {
	if i < 0 || i >= f.n {
		return false
	}
	return f.b[i>>3]&(0x80>>(i&7)) != 0
}

// Set sets piece i. It panics if i is out of range.
func (f Bitfield) Set(i int) {
	f.check(i)
	f.b[i>>3] |= 0x80 >> (i & 7)
}

// Clear clears piece i. It panics if i is out of range.
func (f Bitfield) Clear(i int) {
	f.check(i)
	f.b[i>>3] &^= 0x80 >> (i & 7)
}

func (f Bitfield) check(i int) {
	if i < 0 || i >= f.n {
		panic(fmt.Sprintf("bitfield: index %d out of range [0,%d)", i, f.n))
	}
}

// SetAll sets every piece.
func (f Bitfield) SetAll() {
	for i := range f.b {
		f.b[i] = 0xff
	}
	if f.n%8 != 0 {
		f.b[len(f.b)-1] = ^byte(0xff >> (f.n % 8))
	}
}

// ClearAll clears every piece.
func (f Bitfield) ClearAll() { clear(f.b) }

// Count returns the number of pieces set.
func (f Bitfield) Count() int {
	c := 0
	for _, x := range f.b {
		c += bits.OnesCount8(x)
	}
	return c
}

// All reports whether every piece is set. An empty bitfield is full.
func (f Bitfield) All() bool { return f.Count() == f.n }

// None reports whether no piece is set.
func (f Bitfield) None() bool {
	for _, x := range f.b {
		if x != 0 {
			return false
		}
	}
	return true
}

// Bytes returns the packed form, ready for a bitfield message. The result
// aliases f: copy it before changing f if it must stay as it is.
func (f Bitfield) Bytes() []byte { return f.b }

// Clone returns an independent copy of f.
func (f Bitfield) Clone() Bitfield {
	return Bitfield{b: append([]byte(nil), f.b...), n: f.n}
}

// Next returns the first set index at or after i, or -1 if there is none.
func (f Bitfield) Next(i int) int {
	if i < 0 {
		i = 0
	}
	for i < f.n {
		x := f.b[i>>3] << (i & 7)
		if x != 0 {
			j := i + bits.LeadingZeros8(x)
			if j < f.n {
				return j
			}
			return -1
		}
		i = (i | 7) + 1
	}
	return -1
}

// String returns the bits as a string of '0' and '1', piece 0 first.
func (f Bitfield) String() string {
	s := make([]byte, f.n)
	for i := range s {
		s[i] = '0'
		if f.Has(i) {
			s[i] = '1'
		}
	}
	return string(s)
}
