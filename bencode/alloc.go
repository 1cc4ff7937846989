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
	arenaMaxChunk = 8 << 10
	arenaMaxStr   = 1 << 10 // longer strings get their own allocation
	arenaMaxBytes = 256     // and longer byte slices
	slabMinChunk  = 32
	slabMaxChunk  = 256
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

// keyStr returns the dict key b as a string. Keys repeat (every file of a
// torrent has "length" and "path"), so recent keys are remembered in a small
// table and reused rather than copied again.
func (d *decodeState) keyStr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	h := (uint(len(b))*7 + uint(b[0])*3 + uint(b[len(b)-1])) % uint(len(d.keys))
	if s := d.keys[h]; s == string(b) {
		return s
	}
	s := d.str(b)
	d.keys[h] = s
	return s
}

// allocAny returns a []any of length n and capacity n, from the run's
// slab.
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
// []string as its underlying type. The elements go straight to the free end
// of the run's slab (a list of strings holds no nested list that could use
// the slab meanwhile); if the chunk fills up, the elements so far move to a
// new one.
func decodeStringSlice(d *decodeState, v reflect.Value) error {
	return d.decodeStrings(v.Type(), (*[]string)(unsafe.Pointer(v.UnsafeAddr())))
}

func (d *decodeState) decodeStrings(t reflect.Type, dst *[]string) error {
	if d.data[d.off] != 'l' {
		return d.mismatch(t)
	}
	if err := d.enter(); err != nil {
		return err
	}
	d.off++
	start := len(d.strSlab)
	for {
		if d.off >= len(d.data) {
			return d.eof()
		}
		c := d.data[d.off]
		if c == 'e' {
			break
		}
		s := ""
		if c-'0' > 9 {
			if err := d.mismatch(t.Elem()); err != nil {
				return err
			}
		} else {
			b, err := d.readString()
			if err != nil {
				return err
			}
			s = d.str(b)
		}
		if len(d.strSlab) == cap(d.strSlab) {
			n := len(d.strSlab) - start
			chunk := make([]string, n, max(2*n, min(max(2*cap(d.strSlab), slabMinChunk), slabMaxChunk)))
			copy(chunk, d.strSlab[start:])
			clear(d.strSlab[start:]) // the old chunk must not keep these alive
			d.strSlab = chunk
			start = 0
		}
		d.strSlab = append(d.strSlab, s)
	}
	d.off++
	d.depth--
	if n := len(d.strSlab); n > start {
		*dst = d.strSlab[start:n:n]
	} else {
		*dst = []string{}
	}
	return nil
}

// bytes returns a copy of b that is never nil. Short values (raw dict
// entries of a handshake, IP addresses) share a chunk, each capped at its
// own length so that appending to one reallocates it rather than running
// into its neighbour.
func (d *decodeState) bytes(b []byte) []byte {
	n := len(b)
	if n > arenaMaxBytes {
		return cloneBytes(b)
	}
	if n == 0 {
		return []byte{}
	}
	if n > cap(d.byteArena)-len(d.byteArena) {
		size := min(max(2*cap(d.byteArena), arenaMinChunk), arenaMaxChunk, n+len(d.data)-d.off)
		d.byteArena = make([]byte, 0, max(size, n))
	}
	start := len(d.byteArena)
	d.byteArena = append(d.byteArena, b...)
	return d.byteArena[start : start+n : start+n]
}

// cloneBytes returns a copy of b that is never nil. Appending to a nil
// slice, unlike make and copy, does not clear the memory first.
func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return []byte{}
	}
	return append([]byte(nil), b...)
}
