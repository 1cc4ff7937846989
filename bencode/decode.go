package bencode

import (
	"math"
	"reflect"
	"strconv"
	"sync"
	"unsafe"
)

// Unmarshal decodes the bencoded value in data and stores it in the value
// pointed to by v, which must be a non-nil pointer. data must hold exactly
// one value: bytes after it are an error. Dict keys may come in any order
// (real torrents have unsorted keys); use UnmarshalStrict to require
// canonical form. See the package documentation for how bencode values map
// to Go types.
func Unmarshal(data []byte, v any) error {
	d := getDecodeState(data)
	err := d.unmarshalAll(v)
	putDecodeState(d)
	return err
}

// UnmarshalStrict is like Unmarshal but also rejects input that is not in
// canonical form: dict keys that are not in strictly increasing order (as
// raw bytes), which includes duplicate keys. The error is a *SyntaxError
// holding the offset of the offending key.
func UnmarshalStrict(data []byte, v any) error {
	d := getDecodeState(data)
	d.strict = true
	err := d.unmarshalAll(v)
	putDecodeState(d)
	return err
}

// UnmarshalPrefix decodes the first bencoded value in data into v and
// returns the number of bytes it took. Bytes after the value are not
// examined; this is how a BEP 9 metadata message (a dict followed by raw
// data) is read.
func UnmarshalPrefix(data []byte, v any) (int, error) {
	d := getDecodeState(data)
	defer putDecodeState(d)
	if err := d.unmarshal(v); err != nil {
		return 0, err
	}
	return d.off, nil
}

var decodePool = sync.Pool{New: func() any { return new(decodeState) }}

func getDecodeState(data []byte) *decodeState {
	d := decodePool.Get().(*decodeState)
	d.init(data)
	return d
}

// putDecodeState returns d to the pool, dropping everything that belongs to
// the values decoded so that later runs neither share nor retain it.
func putDecodeState(d *decodeState) {
	*d = decodeState{anyStack: d.anyStack[:0]}
	if cap(d.anyStack) > 1<<12 {
		d.anyStack = nil
	}
	decodePool.Put(d)
}

func (d *decodeState) unmarshalAll(v any) error {
	if err := d.value(v); err != nil {
		return err
	}
	if d.off != len(d.data) {
		return d.errorf(d.off, "trailing data after value")
	}
	if d.typeErr != nil {
		return d.typeErr
	}
	return nil
}

func (d *decodeState) unmarshal(v any) error {
	if err := d.value(v); err != nil {
		return err
	}
	if d.typeErr != nil {
		return d.typeErr
	}
	return nil
}

// value decodes one value into v, leaving any type error in d.typeErr.
func (d *decodeState) value(v any) error {
	switch p := v.(type) {
	case *any:
		if p == nil {
			return &InvalidUnmarshalError{reflect.TypeOf(v)}
		}
		var err error
		*p, err = d.decodeAny()
		return err
	case *RawMessage:
		if p == nil {
			return &InvalidUnmarshalError{reflect.TypeOf(v)}
		}
		return d.decodeRawInto(p)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &InvalidUnmarshalError{reflect.TypeOf(v)}
	}
	if len(d.data) == 0 {
		return d.eof()
	}
	return decoderFor(rv.Type())(d, rv)
}

// A decodeFunc decodes the value at d.off into v. v is settable, except for
// the pointer handed to Unmarshal itself, which is never nil.
type decodeFunc func(d *decodeState, v reflect.Value) error

var decoderCache sync.Map // reflect.Type → decodeFunc

// decoderFor returns the decoder for type t, building it once. A recursive
// type meets its own decoder while it is being built; it gets an indirect
// one that waits for the real one.
func decoderFor(t reflect.Type) decodeFunc {
	if f, ok := decoderCache.Load(t); ok {
		return f.(decodeFunc)
	}
	var (
		wg sync.WaitGroup
		f  decodeFunc
	)
	wg.Add(1)
	fi, loaded := decoderCache.LoadOrStore(t, decodeFunc(func(d *decodeState, v reflect.Value) error {
		wg.Wait()
		return f(d, v)
	}))
	if loaded {
		return fi.(decodeFunc)
	}
	f = newDecoder(t, true)
	wg.Done()
	decoderCache.Store(t, f)
	return f
}

var (
	unmarshalerType = reflect.TypeFor[Unmarshaler]()
	rawMessageType  = reflect.TypeFor[RawMessage]()
	anyType         = reflect.TypeFor[any]()
)

func newDecoder(t reflect.Type, allowAddr bool) decodeFunc {
	if t == rawMessageType {
		return decodeRaw
	}
	if t.Kind() == reflect.Pointer && t.Implements(unmarshalerType) {
		return unmarshalerDecoder
	}
	if allowAddr && t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(unmarshalerType) {
		other := newDecoder(t, false)
		return func(d *decodeState, v reflect.Value) error {
			if v.CanAddr() {
				return callUnmarshaler(d, v.Addr().Interface().(Unmarshaler))
			}
			return other(d, v)
		}
	}
	switch t.Kind() {
	case reflect.Bool:
		return decodeBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return decodeInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return decodeUint
	case reflect.String:
		return decodeString
	case reflect.Slice:
		switch {
		case t.Elem().Kind() == reflect.Uint8:
			return decodeBytes
		case t.Elem() == reflect.TypeFor[string]():
			return decodeStringSlice
		}
		return newSliceDecoder(t)
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return decodeByteArray
		}
		return newArrayDecoder(t)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return mismatchDecoder
		}
		if f := fastMapDecoder(t); f != nil {
			return f
		}
		return newMapDecoder(t)
	case reflect.Struct:
		return newStructDecoder(t)
	case reflect.Pointer:
		return newPointerDecoder(t)
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return decodeInterface
		}
	}
	return mismatchDecoder
}

// mismatch skips the value at d.off, recording that it could not be stored
// in a value of type t.
func (d *decodeState) mismatch(t reflect.Type) error {
	start := d.off
	what := kindName(d.data[start])
	if err := d.skip(); err != nil {
		return err
	}
	d.saveTypeError(what, t, start)
	return nil
}

func (d *decodeState) saveTypeError(what string, t reflect.Type, off int) {
	if d.typeErr == nil {
		d.typeErr = &UnmarshalTypeError{Value: what, Type: t, Offset: int64(off)}
	}
}

func mismatchDecoder(d *decodeState, v reflect.Value) error {
	return d.mismatch(v.Type())
}

func unmarshalerDecoder(d *decodeState, v reflect.Value) error {
	if v.IsNil() {
		v.Set(reflect.New(v.Type().Elem()))
	}
	return callUnmarshaler(d, v.Interface().(Unmarshaler))
}

func callUnmarshaler(d *decodeState, u Unmarshaler) error {
	start := d.off
	if err := d.skip(); err != nil {
		return err
	}
	return u.UnmarshalBencode(d.data[start:d.off:d.off])
}

func decodeRaw(d *decodeState, v reflect.Value) error {
	start := d.off
	if err := d.skip(); err != nil {
		return err
	}
	v.SetBytes(d.bytes(d.data[start:d.off]))
	return nil
}

func (d *decodeState) decodeRawInto(p *RawMessage) error {
	start := d.off
	if err := d.skip(); err != nil {
		return err
	}
	*p = append((*p)[:0], d.data[start:d.off]...)
	return nil
}

func decodeBool(d *decodeState, v reflect.Value) error {
	if d.data[d.off] != 'i' {
		return d.mismatch(v.Type())
	}
	start := d.off
	neg, mag, _, err := d.readInt()
	if err != nil {
		return err
	}
	if neg || mag > 1 {
		d.saveTypeError("integer "+string(d.data[start+1:d.off-1]), v.Type(), start)
		return nil
	}
	v.SetBool(mag == 1)
	return nil
}

// int64Value reads an integer that must fit in an int64.
func (d *decodeState) int64Value(t reflect.Type) (n int64, ok bool, err error) {
	start := d.off
	neg, mag, overflow, err := d.readInt()
	if err != nil {
		return 0, false, err
	}
	switch {
	case overflow, !neg && mag > math.MaxInt64, neg && mag > 1<<63:
		d.saveTypeError("integer "+string(d.data[start+1:d.off-1]), t, start)
		return 0, false, nil
	case neg:
		return -int64(mag), true, nil
	}
	return int64(mag), true, nil
}

func decodeInt(d *decodeState, v reflect.Value) error {
	if d.data[d.off] != 'i' {
		return d.mismatch(v.Type())
	}
	start := d.off
	n, ok, err := d.int64Value(v.Type())
	if err != nil || !ok {
		return err
	}
	if v.OverflowInt(n) {
		d.saveTypeError("integer "+strconv.FormatInt(n, 10), v.Type(), start)
		return nil
	}
	v.SetInt(n)
	return nil
}

func decodeUint(d *decodeState, v reflect.Value) error {
	if d.data[d.off] != 'i' {
		return d.mismatch(v.Type())
	}
	start := d.off
	neg, mag, overflow, err := d.readInt()
	if err != nil {
		return err
	}
	if overflow || neg || v.OverflowUint(mag) {
		d.saveTypeError("integer "+string(d.data[start+1:d.off-1]), v.Type(), start)
		return nil
	}
	v.SetUint(mag)
	return nil
}

func decodeString(d *decodeState, v reflect.Value) error {
	if c := d.data[d.off]; c < '0' || c > '9' {
		return d.mismatch(v.Type())
	}
	b, err := d.readString()
	if err != nil {
		return err
	}
	v.SetString(d.str(b))
	return nil
}

func decodeBytes(d *decodeState, v reflect.Value) error {
	if c := d.data[d.off]; c < '0' || c > '9' {
		return d.mismatch(v.Type())
	}
	b, err := d.readString()
	if err != nil {
		return err
	}
	v.SetBytes(d.bytes(b))
	return nil
}

func decodeByteArray(d *decodeState, v reflect.Value) error {
	if c := d.data[d.off]; c < '0' || c > '9' {
		return d.mismatch(v.Type())
	}
	start := d.off
	b, err := d.readString()
	if err != nil {
		return err
	}
	if len(b) != v.Len() {
		d.saveTypeError("string of length "+strconv.Itoa(len(b)), v.Type(), start)
		return nil
	}
	reflect.Copy(v, reflect.ValueOf(b))
	return nil
}

func decodeInterface(d *decodeState, v reflect.Value) error {
	x, err := d.decodeAny()
	if err != nil {
		return err
	}
	if x == nil {
		return nil // an integer too large for int64; the error is saved
	}
	if v.CanAddr() {
		// Assigning through reflect.Value.Set would box the value again.
		*(*any)(unsafe.Pointer(v.UnsafeAddr())) = x
		return nil
	}
	v.Set(reflect.ValueOf(x))
	return nil
}

func newPointerDecoder(t reflect.Type) decodeFunc {
	elem := decoderFor(t.Elem())
	et := t.Elem()
	return func(d *decodeState, v reflect.Value) error {
		if v.IsNil() {
			v.Set(reflect.New(et))
		}
		return elem(d, v.Elem())
	}
}
