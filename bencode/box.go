package bencode

import "unsafe"

// Decoding into an interface boxes every integer, string and list: converting a
// non-pointer value to an interface allocates a copy of it. A torrent's
// file list holds thousands, so a decoding run boxes them in bulk instead:
// the values go into slabs it owns, and each interface points at its slot.
// This is the representation the runtime itself uses for a boxed value (a
// type word and a pointer to an immutable copy); a slot is never written
// again once an interface points at it.

// eface is the layout of an empty interface value.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

var (
	int64TypeWord  = typeWord(int64(0))
	stringTypeWord = typeWord("")
	listTypeWord   = typeWord([]any(nil))
)

func typeWord(v any) unsafe.Pointer {
	return (*eface)(unsafe.Pointer(&v)).typ
}

// boxInt64 returns n as an interface, boxed in the run's slab.
func (d *decodeState) boxInt64(n int64) any {
	if n >= 0 && n < 256 {
		return n // the runtime boxes small values without allocating
	}
	if len(d.intBox) == cap(d.intBox) {
		d.intBox = make([]int64, 0, min(max(2*cap(d.intBox), slabMinChunk), slabMaxChunk))
	}
	d.intBox = append(d.intBox, n)
	var x any
	e := (*eface)(unsafe.Pointer(&x))
	e.typ = int64TypeWord
	e.data = unsafe.Pointer(&d.intBox[len(d.intBox)-1])
	return x
}

// boxString returns s as an interface, boxed in the run's slab.
func (d *decodeState) boxString(s string) any {
	if len(d.strBox) == cap(d.strBox) {
		d.strBox = make([]string, 0, min(max(2*cap(d.strBox), slabMinChunk), slabMaxChunk))
	}
	d.strBox = append(d.strBox, s)
	var x any
	e := (*eface)(unsafe.Pointer(&x))
	e.typ = stringTypeWord
	e.data = unsafe.Pointer(&d.strBox[len(d.strBox)-1])
	return x
}

// boxList returns l as an interface, its slice header boxed in the run's
// slab.
func (d *decodeState) boxList(l []any) any {
	if len(d.listBox) == cap(d.listBox) {
		d.listBox = make([][]any, 0, min(max(2*cap(d.listBox), slabMinChunk), slabMaxChunk))
	}
	d.listBox = append(d.listBox, l)
	var x any
	e := (*eface)(unsafe.Pointer(&x))
	e.typ = listTypeWord
	e.data = unsafe.Pointer(&d.listBox[len(d.listBox)-1])
	return x
}
