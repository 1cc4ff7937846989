package bencode

import (
	"reflect"
	"slices"
	"strconv"
	"unsafe"
)

// Maps from string to int, int64, string, any or RawMessage (the extension
// protocol's "m" dictionary and its raw view of a handshake, tracker and DHT
// messages) are decoded and encoded without
// reflection: the value is reached through its address and handled with its
// own type. The conversions are sound because they apply only to types whose
// underlying type is exactly map[string]V.

var (
	stringType = reflect.TypeFor[string]()
	intType    = reflect.TypeFor[int]()
	int64Type  = reflect.TypeFor[int64]()
)

// fastMapDecoder returns a reflection-free decoder for t, or nil.
func fastMapDecoder(t reflect.Type) decodeFunc {
	if t.Key() != stringType {
		return nil
	}
	switch t.Elem() {
	case intType:
		return newFastMapDecoder(func(d *decodeState) (int, bool, error) {
			if d.data[d.off] != 'i' {
				return 0, false, d.mismatch(intType)
			}
			start := d.off
			n, ok, err := d.int64Value(intType)
			if ok && strconv.IntSize == 32 && int64(int(n)) != n {
				d.saveTypeError("integer "+strconv.FormatInt(n, 10), intType, start)
				ok = false
			}
			return int(n), ok, err
		})
	case int64Type:
		return newFastMapDecoder(func(d *decodeState) (int64, bool, error) {
			if d.data[d.off] != 'i' {
				return 0, false, d.mismatch(int64Type)
			}
			return d.int64Value(int64Type)
		})
	case stringType:
		return newFastMapDecoder(func(d *decodeState) (string, bool, error) {
			if c := d.data[d.off]; c-'0' > 9 {
				return "", false, d.mismatch(stringType)
			}
			b, err := d.readString()
			if err != nil {
				return "", false, err
			}
			return d.str(b), true, nil
		})
	case anyType:
		return newFastMapDecoder(func(d *decodeState) (any, bool, error) {
			x, err := d.decodeAny()
			return x, x != nil, err
		})
	case rawMessageType:
		return newFastMapDecoder(func(d *decodeState) (RawMessage, bool, error) {
			start := d.off
			if err := d.skip(); err != nil {
				return nil, false, err
			}
			return d.bytes(d.data[start:d.off]), true, nil
		})
	}
	return nil
}

func newFastMapDecoder[V any](read func(d *decodeState) (V, bool, error)) decodeFunc {
	return func(d *decodeState, v reflect.Value) error {
		if d.data[d.off] != 'd' {
			return d.mismatch(v.Type())
		}
		if err := d.enter(); err != nil {
			return err
		}
		d.off++
		p := (*map[string]V)(unsafe.Pointer(v.UnsafeAddr()))
		if *p == nil {
			*p = make(map[string]V)
		}
		m := *p
		var prev []byte
		for {
			key, done, err := d.nextKey(&prev)
			if err != nil {
				return err
			}
			if done {
				break
			}
			x, ok, err := read(d)
			if err != nil {
				return err
			}
			if ok {
				m[d.keyStr(key)] = x
			}
		}
		d.off++
		d.depth--
		return nil
	}
}

// fastMapEncoder returns a reflection-free encoder for t, or nil.
func fastMapEncoder(t reflect.Type) encodeFunc {
	if t.Key() != stringType {
		return nil
	}
	switch t.Elem() {
	case intType:
		return newFastMapEncoder(func(e *encodeState, x int) error { e.writeInt(int64(x)); return nil })
	case int64Type:
		return newFastMapEncoder(func(e *encodeState, x int64) error { e.writeInt(x); return nil })
	case stringType:
		return newFastMapEncoder(func(e *encodeState, x string) error { e.writeString(x); return nil })
	case anyType:
		return newFastMapEncoder((*encodeState).encodeAny)
	}
	return nil
}

func newFastMapEncoder[V any](write func(e *encodeState, x V) error) encodeFunc {
	plain := reflect.TypeFor[map[string]V]()
	return func(e *encodeState, v reflect.Value) error {
		// v may be of a named map type, which Convert turns into the plain
		// one; Convert copies an addressable value (an allocation), so the
		// plain type skips it. Taking a map out of an interface is free.
		if v.Type() != plain {
			v = v.Convert(plain)
		}
		return encodeMap(e, v.Interface().(map[string]V), write)
	}
}

// encodeMap writes m with its keys sorted, using e.keys as a stack of
// scratch space shared with nested maps.
func encodeMap[V any](e *encodeState, m map[string]V, write func(e *encodeState, x V) error) error {
	if err := e.enter(); err != nil {
		return err
	}
	start := len(e.keys)
	for k := range m {
		e.keys = append(e.keys, k)
	}
	keys := e.keys[start:]
	slices.Sort(keys)
	e.buf = append(e.buf, 'd')
	for _, k := range keys {
		e.writeString(k)
		if err := write(e, m[k]); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, 'e')
	clear(e.keys[start:])
	e.keys = e.keys[:start]
	e.depth--
	return nil
}
