package bencode

import (
	"reflect"
	"unsafe"
)

// Decoding a torrent makes thousands of small strings and short string
// lists (file paths). Rather than allocate each one, a decoding run carves
// them out of a few larger chunks that it owns. The values handed out never
// overlap and are never written again, so sharing a chunk is invisible to
// the caller, except that a chunk stays alive while any value carved from it
// does; chunks are bounded in size to keep that cost small.
const (
	arenaMinChunk = 512
	arenaMaxChunk = 32 << 10
	arenaMaxStr   = 1 << 10 // longer strings get their own allocation
	slabMinChunk  = 32
	slabMaxChunk  = 1 << 10
)

// str returns b as a string, copying it into the run's string arena.
func (d *decodeState) str(b []byte) string {
	n := len(b)
	if n == 0 {
		return ""
	}
	if n > arenaMaxStr {
		return string(b)
	}
	if n > cap(d.arena)-len(d.arena) {
		// The strings still to come lie in the rest of the input, so it
		// bounds what a chunk needs to hold.
		size := min(max(2*cap(d.arena), arenaMinChunk), arenaMaxChunk, n+len(d.data)-d.off)
		d.arena = make([]byte, 0, max(size, n))
	}
	start := len(d.arena)
	d.arena = append(d.arena, b...)
	// The bytes at d.arena[start:] are never written again: later strings
	// are appended after them, and a new chunk replaces a full one.
	return unsafe.String(&d.arena[start], n)
}

// allocStrings returns a []string of length n and capacity n, from the
// run's slab.
func (d *decodeState) allocStrings(n int) []string {
	if n == 0 {
		return []string{}
	}
	if n > cap(d.strSlab)-len(d.strSlab) {
		if n > slabMaxChunk/2 {
			return make([]string, n)
		}
		d.strSlab = make([]string, 0, max(n, min(max(2*cap(d.strSlab), slabMinChunk), slabMaxChunk)))
	}
	start := len(d.strSlab)
	d.strSlab = d.strSlab[:start+n]
	return d.strSlab[start : start+n : start+n]
}

// allocAny is allocStrings for []any.
func (d *decodeState) allocAny(n int) []any {
	if n == 0 {
		return []any{}
	}
	if n > cap(d.anySlab)-len(d.anySlab) {
		if n > slabMaxChunk/2 {
			return make([]any, n)
		}
		d.anySlab = make([]any, 0, max(n, min(max(2*cap(d.anySlab), slabMinChunk), slabMaxChunk)))
	}
	start := len(d.anySlab)
	d.anySlab = d.anySlab[:start+n]
	return d.anySlab[start : start+n : start+n]
}

// decodeStringSlice decodes a list of strings into a value whose type has
// []string as its underlying type. The elements are gathered on the run's
// scratch stack and then copied into a slab slice of exactly their number.
func decodeStringSlice(d *decodeState, v reflect.Value) error {
	if d.data[d.off] != 'l' {
		return d.mismatch(v.Type())
	}
	if err := d.enter(); err != nil {
		return err
	}
	d.off++
	base := len(d.strStack)
	for {
		if d.off >= len(d.data) {
			return d.eof()
		}
		c := d.data[d.off]
		if c == 'e' {
			break
		}
		if c-'0' > 9 {
			if err := d.mismatch(v.Type().Elem()); err != nil {
				return err
			}
			d.strStack = append(d.strStack, "")
			continue
		}
		b, err := d.readString()
		if err != nil {
			return err
		}
		d.strStack = append(d.strStack, d.str(b))
	}
	d.off++
	d.depth--
	list := d.allocStrings(len(d.strStack) - base)
	copy(list, d.strStack[base:])
	clear(d.strStack[base:])
	d.strStack = d.strStack[:base]
	*(*[]string)(v.Addr().UnsafePointer()) = list
	return nil
}
