package bencode

import (
	"reflect"
	"sync"
	"unsafe"
)

// A sliceScratch is a reusable slice that list elements are decoded into
// before their number is known; the result is then allocated once, at its
// exact size.
type sliceScratch struct {
	v reflect.Value
}

func newSliceDecoder(t reflect.Type) decodeFunc {
	elem := decoderFor(t.Elem())
	pool := &sync.Pool{New: func() any {
		v := reflect.New(t).Elem()
		v.Grow(8)
		return &sliceScratch{v: v}
	}}
	return func(d *decodeState, v reflect.Value) error {
		if d.data[d.off] != 'l' {
			return d.mismatch(v.Type())
		}
		if err := d.enter(); err != nil {
			return err
		}
		d.off++
		sc := pool.Get().(*sliceScratch)
		s := sc.v
		n := 0
		for {
			if d.off >= len(d.data) {
				return d.eof()
			}
			if d.data[d.off] == 'e' {
				break
			}
			if n == s.Cap() {
				s.Grow(1)
			}
			s.SetLen(n + 1)
			if err := elem(d, s.Index(n)); err != nil {
				return err
			}
			n++
		}
		d.off++
		d.depth--
		if n == 0 {
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		} else {
			// Reuse v's own array if it is large enough, as encoding/json
			// does; otherwise this allocates exactly n elements.
			v.SetLen(0)
			v.Grow(n)
			v.SetLen(n)
			reflect.Copy(v, s)
		}
		// Zero the scratch so that it keeps nothing decoded alive, and keep
		// it unless it grew large.
		s.Clear()
		s.SetLen(0)
		if s.Cap() <= 1<<12 {
			pool.Put(sc)
		}
		return nil
	}
}

func newArrayDecoder(t reflect.Type) decodeFunc {
	elem := decoderFor(t.Elem())
	return func(d *decodeState, v reflect.Value) error {
		if d.data[d.off] != 'l' {
			return d.mismatch(v.Type())
		}
		start := d.off
		if err := d.enter(); err != nil {
			return err
		}
		d.off++
		n := 0
		for {
			if d.off >= len(d.data) {
				return d.eof()
			}
			if d.data[d.off] == 'e' {
				break
			}
			if n < v.Len() {
				if err := elem(d, v.Index(n)); err != nil {
					return err
				}
			} else if err := d.skip(); err != nil {
				return err
			}
			n++
		}
		d.off++
		d.depth--
		if n != v.Len() {
			d.saveTypeError("list of length "+itoa(n), v.Type(), start)
		}
		for i := n; i < v.Len(); i++ {
			v.Index(i).SetZero()
		}
		return nil
	}
}

func newMapDecoder(t reflect.Type) decodeFunc {
	elem := decoderFor(t.Elem())
	kt, et := t.Key(), t.Elem()
	return func(d *decodeState, v reflect.Value) error {
		if d.data[d.off] != 'd' {
			return d.mismatch(v.Type())
		}
		if err := d.enter(); err != nil {
			return err
		}
		d.off++
		if v.IsNil() {
			v.Set(reflect.MakeMap(t))
		}
		kv := reflect.New(kt).Elem()
		ev := reflect.New(et).Elem()
		var prev []byte
		for {
			key, done, err := d.nextKey(&prev)
			if err != nil {
				return err
			}
			if done {
				break
			}
			ev.SetZero()
			if err := elem(d, ev); err != nil {
				return err
			}
			kv.SetString(d.keyStr(key))
			v.SetMapIndex(kv, ev)
		}
		d.off++
		d.depth--
		return nil
	}
}

// A structDecoder decodes a dict into a struct, matching keys to fields.
type structDecoder struct {
	fields []field // sorted by name
	decs   []decodeFunc
	fast   []fastField
}

// A fastField locates a field that decodeFast can fill.
type fastField struct {
	kind   fastKind // fastNone: use decs
	offset uintptr
}

func newStructDecoder(t reflect.Type) decodeFunc {
	sd := &structDecoder{fields: cachedFields(t)}
	sd.decs = make([]decodeFunc, len(sd.fields))
	sd.fast = make([]fastField, len(sd.fields))
	for i, f := range sd.fields {
		sd.decs[i] = decoderFor(f.typ)
		if len(f.index) == 1 {
			sd.fast[i] = fastField{kind: fastKindOf(f.typ), offset: t.Field(f.index[0]).Offset}
		}
	}
	return sd.decode
}

// lookup finds the field for key. Keys usually arrive in sorted order, the
// order of fields, so the field after the last match is tried first.
func (sd *structDecoder) lookup(key []byte, hint int) int {
	fs := sd.fields
	if hint < len(fs) && fs[hint].name == string(key) {
		return hint
	}
	lo, hi := 0, len(fs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if fs[m].name < string(key) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(fs) && fs[lo].name == string(key) {
		return lo
	}
	return -1
}

func (sd *structDecoder) decode(d *decodeState, v reflect.Value) error {
	if d.data[d.off] != 'd' {
		return d.mismatch(v.Type())
	}
	if err := d.enter(); err != nil {
		return err
	}
	d.off++
	var base unsafe.Pointer
	if v.CanAddr() {
		base = unsafe.Pointer(v.UnsafeAddr())
	}
	var prev []byte
	hint := 0
	for {
		key, done, err := d.nextKey(&prev)
		if err != nil {
			return err
		}
		if done {
			break
		}
		fi := sd.lookup(key, hint)
		if fi < 0 {
			if err := d.skip(); err != nil {
				return err
			}
			continue
		}
		hint = fi + 1
		f := &sd.fields[fi]
		hadErr := d.typeErr != nil
		if ff := sd.fast[fi]; ff.kind != fastNone && base != nil {
			if err := d.decodeFast(ff.kind, f.typ, unsafe.Add(base, ff.offset)); err != nil {
				return err
			}
			if !hadErr && d.typeErr != nil {
				d.typeErr.addField(f.name)
			}
			continue
		}
		var fv reflect.Value
		if len(f.index) == 1 {
			fv = v.Field(f.index[0])
		} else {
			fv, err = fieldForSet(v, f.index)
			if err != nil {
				return err
			}
		}
		if err := sd.decs[fi](d, fv); err != nil {
			return err
		}
		if !hadErr && d.typeErr != nil {
			d.typeErr.addField(f.name)
		}
	}
	d.off++
	d.depth--
	return nil
}

// fieldForSet walks an index path through embedded structs, allocating nil
// embedded pointers on the way.
func fieldForSet(v reflect.Value, index []int) (reflect.Value, error) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, &UnsupportedValueError{Value: v,
						Str: "cannot set embedded pointer to unexported struct " + v.Type().Elem().String()}
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, nil
}

// decodeAny decodes the value at d.off into the generic form: int64,
// string, []any or map[string]any. An integer that does not fit in an int64
// gives nil and a saved UnmarshalTypeError.
func (d *decodeState) decodeAny() (any, error) {
	if d.off >= len(d.data) {
		return nil, d.eof()
	}
	switch c := d.data[d.off]; {
	case c == 'i':
		n, ok, err := d.int64Value(anyType)
		if err != nil || !ok {
			return nil, err
		}
		return n, nil
	case c >= '0' && c <= '9':
		b, err := d.readString()
		if err != nil {
			return nil, err
		}
		return d.str(b), nil
	case c == 'l':
		return d.decodeAnyList()
	case c == 'd':
		if err := d.enter(); err != nil {
			return nil, err
		}
		d.off++
		m := map[string]any{}
		var prev []byte
		for {
			key, done, err := d.nextKey(&prev)
			if err != nil {
				return nil, err
			}
			if done {
				break
			}
			x, err := d.decodeAny()
			if err != nil {
				return nil, err
			}
			m[d.keyStr(key)] = x
		}
		d.off++
		d.depth--
		return m, nil
	}
	return nil, d.badValueStart()
}

func itoa(n int) string {
	return string(appendInt(nil, int64(n)))
}

// decodeAnyList decodes a list into []any. Elements are gathered first (in
// a small array on the stack, then on the run's scratch stack if there are
// more) and then copied into a slab slice of exactly their number.
func (d *decodeState) decodeAnyList() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	d.off++
	var local [8]any
	n := 0
	base := -1 // where the elements start on d.anyStack, once they spill
	for {
		if d.off >= len(d.data) {
			return nil, d.eof()
		}
		if d.data[d.off] == 'e' {
			break
		}
		x, err := d.decodeAny()
		if err != nil {
			return nil, err
		}
		switch {
		case n < len(local):
			local[n] = x
		case base < 0:
			base = len(d.anyStack)
			d.anyStack = append(d.anyStack, local[:]...)
			fallthrough
		default:
			d.anyStack = append(d.anyStack, x)
		}
		n++
	}
	d.off++
	d.depth--
	list := d.allocAny(n)
	if base < 0 {
		copy(list, local[:n])
	} else {
		copy(list, d.anyStack[base:])
		clear(d.anyStack[base:])
		d.anyStack = d.anyStack[:base]
	}
	return list, nil
}
