package bencode

import (
	"reflect"
	"strconv"
	"unsafe"
)

// Struct fields of the commonest types (the lengths, names, piece hashes
// and paths of a torrent) are decoded without reflection: the field is
// reached by adding its offset to the struct's address and written with its
// own type. This applies only to fields whose type has exactly the layout
// named and no decoding method of its own.
type fastKind uint8

const (
	fastNone fastKind = iota
	fastInt
	fastInt64
	fastBool
	fastString
	fastBytes
	fastStrings
)

func fastKindOf(t reflect.Type) fastKind {
	if t == rawMessageType || t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return fastNone
	}
	switch t.Kind() {
	case reflect.Int:
		return fastInt
	case reflect.Int64:
		return fastInt64
	case reflect.Bool:
		return fastBool
	case reflect.String:
		return fastString
	case reflect.Slice:
		switch {
		case t.Elem().Kind() == reflect.Uint8:
			return fastBytes
		case t.Elem() == stringType:
			return fastStrings
		}
	}
	return fastNone
}

// decodeFast decodes the value at d.off into the field of type t and kind k
// at p.
func (d *decodeState) decodeFast(k fastKind, t reflect.Type, p unsafe.Pointer) error {
	c := d.data[d.off]
	switch k {
	case fastInt, fastInt64:
		if c != 'i' {
			return d.mismatch(t)
		}
		start := d.off
		n, ok, err := d.int64Value(t)
		if err != nil || !ok {
			return err
		}
		if k == fastInt64 {
			*(*int64)(p) = n
			return nil
		}
		if strconv.IntSize == 32 && int64(int32(n)) != n {
			d.saveTypeError("integer "+strconv.FormatInt(n, 10), t, start)
			return nil
		}
		*(*int)(p) = int(n)
	case fastBool:
		if c != 'i' {
			return d.mismatch(t)
		}
		start := d.off
		neg, mag, _, err := d.readInt()
		if err != nil {
			return err
		}
		if neg || mag > 1 {
			d.saveTypeError("integer "+string(d.data[start+1:d.off-1]), t, start)
			return nil
		}
		*(*bool)(p) = mag == 1
	case fastString, fastBytes:
		if c-'0' > 9 {
			return d.mismatch(t)
		}
		b, err := d.readString()
		if err != nil {
			return err
		}
		if k == fastString {
			*(*string)(p) = d.str(b)
		} else {
			*(*[]byte)(p) = d.bytes(b)
		}
	case fastStrings:
		return d.decodeStrings(t, (*[]string)(p))
	}
	return nil
}

// encodeFast writes the field f of kind k at p, with its key, unless it is
// empty and tagged omitempty.
func (e *encodeState) encodeFast(f *field, k fastKind, p unsafe.Pointer) {
	switch k {
	case fastInt, fastInt64:
		var n int64
		if k == fastInt {
			n = int64(*(*int)(p))
		} else {
			n = *(*int64)(p)
		}
		if f.omitEmpty && n == 0 {
			return
		}
		e.buf = append(e.buf, f.key...)
		e.writeInt(n)
	case fastBool:
		b := *(*bool)(p)
		if f.omitEmpty && !b {
			return
		}
		e.buf = append(e.buf, f.key...)
		if b {
			e.buf = append(e.buf, "i1e"...)
		} else {
			e.buf = append(e.buf, "i0e"...)
		}
	case fastString:
		s := *(*string)(p)
		if f.omitEmpty && s == "" {
			return
		}
		e.buf = append(e.buf, f.key...)
		e.writeString(s)
	case fastBytes:
		b := *(*[]byte)(p)
		if f.omitEmpty && len(b) == 0 {
			return
		}
		e.buf = append(e.buf, f.key...)
		e.writeBytes(b)
	case fastStrings:
		l := *(*[]string)(p)
		if f.omitEmpty && len(l) == 0 {
			return
		}
		e.buf = append(e.buf, f.key...)
		e.buf = append(e.buf, 'l')
		for _, s := range l {
			e.writeString(s)
		}
		e.buf = append(e.buf, 'e')
	}
}
