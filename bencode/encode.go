package bencode

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// Marshal returns the bencoding of v. The output is canonical: dict keys
// (struct fields and map keys) are sorted as raw bytes. The bytes of a
// RawMessage or of a Marshaler's result are checked to be one valid value
// and written as they are, so that an info dict read from a torrent keeps
// its hash even if it was not canonical. See the package documentation for
// how Go types map to bencode values.
func Marshal(v any) ([]byte, error) {
	e := getEncodeState()
	defer putEncodeState(e)
	if err := e.marshal(v); err != nil {
		return nil, err
	}
	return append([]byte(nil), e.buf...), nil
}

// AppendMarshal appends the bencoding of v to dst and returns the extended
// buffer. On error, dst is returned unchanged in length.
func AppendMarshal(dst []byte, v any) ([]byte, error) {
	e := encodeState{buf: dst}
	if err := e.marshal(v); err != nil {
		return dst, err
	}
	return e.buf, nil
}

// maxEncodeDepth bounds nesting while encoding, so a pointer cycle gives an
// error instead of exhausting the stack.
const maxEncodeDepth = 1000

type encodeState struct {
	buf   []byte
	depth int
	keys  []string // scratch for sorting map keys, used as a stack
}

var encodePool = sync.Pool{New: func() any { return &encodeState{buf: make([]byte, 0, 512)} }}

func getEncodeState() *encodeState {
	e := encodePool.Get().(*encodeState)
	e.buf = e.buf[:0]
	e.depth = 0
	return e
}

func putEncodeState(e *encodeState) {
	if cap(e.buf) > 1<<20 {
		return // do not keep huge buffers alive
	}
	encodePool.Put(e)
}

func (e *encodeState) marshal(v any) error {
	if v == nil {
		return &UnsupportedValueError{Str: "nil"}
	}
	if ok, err := e.encodeCommon(v); ok {
		return err
	}
	rv := reflect.ValueOf(v)
	return encoderFor(rv.Type())(e, rv)
}

// encodeCommon encodes the types met most often without reflection.
func (e *encodeState) encodeCommon(v any) (bool, error) {
	switch x := v.(type) {
	case string:
		e.writeString(x)
	case []byte:
		e.writeBytes(x)
	case int:
		e.writeInt(int64(x))
	case int64:
		e.writeInt(x)
	case bool:
		if x {
			e.buf = append(e.buf, "i1e"...)
		} else {
			e.buf = append(e.buf, "i0e"...)
		}
	case RawMessage:
		return true, e.writeRaw(x)
	case []any:
		return true, e.encodeAnyList(x)
	case map[string]any:
		return true, e.encodeAnyMap(x)
	default:
		return false, nil
	}
	return true, nil
}

func (e *encodeState) writeInt(n int64) {
	e.buf = append(e.buf, 'i')
	e.buf = strconv.AppendInt(e.buf, n, 10)
	e.buf = append(e.buf, 'e')
}

func (e *encodeState) writeUint(n uint64) {
	e.buf = append(e.buf, 'i')
	e.buf = strconv.AppendUint(e.buf, n, 10)
	e.buf = append(e.buf, 'e')
}

func (e *encodeState) writeString(s string) {
	e.buf = strconv.AppendInt(e.buf, int64(len(s)), 10)
	e.buf = append(e.buf, ':')
	e.buf = append(e.buf, s...)
}

func (e *encodeState) writeBytes(b []byte) {
	e.buf = strconv.AppendInt(e.buf, int64(len(b)), 10)
	e.buf = append(e.buf, ':')
	e.buf = append(e.buf, b...)
}

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// writeRaw appends raw after checking that it is exactly one valid value.
func (e *encodeState) writeRaw(raw []byte) error {
	if err := Valid(raw); err != nil {
		return err
	}
	e.buf = append(e.buf, raw...)
	return nil
}

// Valid reports whether data holds exactly one valid bencoded value, and
// if not, why (a *SyntaxError).
func Valid(data []byte) error {
	var d decodeState
	d.init(data)
	if len(data) == 0 {
		return d.eof()
	}
	if err := d.skip(); err != nil {
		return err
	}
	if d.off != len(data) {
		return d.errorf(d.off, "trailing data after value")
	}
	return nil
}

func (e *encodeState) enter() error {
	e.depth++
	if e.depth > maxEncodeDepth {
		return &UnsupportedValueError{Str: "nesting deeper than " + strconv.Itoa(maxEncodeDepth) + " levels (a cycle?)"}
	}
	return nil
}

func (e *encodeState) encodeAny(v any) error {
	if v == nil {
		return &UnsupportedValueError{Str: "nil in list or dict"}
	}
	if ok, err := e.encodeCommon(v); ok {
		return err
	}
	rv := reflect.ValueOf(v)
	return encoderFor(rv.Type())(e, rv)
}

func (e *encodeState) encodeAnyList(l []any) error {
	if err := e.enter(); err != nil {
		return err
	}
	e.buf = append(e.buf, 'l')
	for _, x := range l {
		if err := e.encodeAny(x); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, 'e')
	e.depth--
	return nil
}

func (e *encodeState) encodeAnyMap(m map[string]any) error {
	return encodeMap(e, m, (*encodeState).encodeAny)
}

// An encodeFunc appends the encoding of v.
type encodeFunc func(e *encodeState, v reflect.Value) error

var encoderCache sync.Map // reflect.Type → encodeFunc

func encoderFor(t reflect.Type) encodeFunc {
	if f, ok := encoderCache.Load(t); ok {
		return f.(encodeFunc)
	}
	var (
		wg sync.WaitGroup
		f  encodeFunc
	)
	wg.Add(1)
	fi, loaded := encoderCache.LoadOrStore(t, encodeFunc(func(e *encodeState, v reflect.Value) error {
		wg.Wait()
		return f(e, v)
	}))
	if loaded {
		return fi.(encodeFunc)
	}
	f = newEncoder(t, true)
	wg.Done()
	encoderCache.Store(t, f)
	return f
}

var marshalerType = reflect.TypeFor[Marshaler]()

func newEncoder(t reflect.Type, allowAddr bool) encodeFunc {
	if t == rawMessageType {
		return func(e *encodeState, v reflect.Value) error { return e.writeRaw(v.Bytes()) }
	}
	if t.Implements(marshalerType) {
		return marshalerEncoder
	}
	if allowAddr && t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(marshalerType) {
		other := newEncoder(t, false)
		return func(e *encodeState, v reflect.Value) error {
			if v.CanAddr() {
				return e.callMarshaler(v.Addr())
			}
			return other(e, v)
		}
	}
	switch t.Kind() {
	case reflect.Bool:
		return func(e *encodeState, v reflect.Value) error {
			if v.Bool() {
				e.buf = append(e.buf, "i1e"...)
			} else {
				e.buf = append(e.buf, "i0e"...)
			}
			return nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(e *encodeState, v reflect.Value) error { e.writeInt(v.Int()); return nil }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(e *encodeState, v reflect.Value) error { e.writeUint(v.Uint()); return nil }
	case reflect.String:
		return func(e *encodeState, v reflect.Value) error { e.writeString(v.String()); return nil }
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return func(e *encodeState, v reflect.Value) error { e.writeBytes(v.Bytes()); return nil }
		}
		return newListEncoder(t)
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return encodeByteArray
		}
		return newListEncoder(t)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return unsupportedEncoder
		}
		if f := fastMapEncoder(t); f != nil {
			return f
		}
		return newMapEncoder(t)
	case reflect.Struct:
		return newStructEncoder(t)
	case reflect.Pointer:
		elem := encoderFor(t.Elem())
		return func(e *encodeState, v reflect.Value) error {
			if v.IsNil() {
				return &UnsupportedValueError{Value: v, Str: "nil pointer"}
			}
			if err := e.enter(); err != nil {
				return err
			}
			err := elem(e, v.Elem())
			e.depth--
			return err
		}
	case reflect.Interface:
		return func(e *encodeState, v reflect.Value) error {
			if v.IsNil() {
				return &UnsupportedValueError{Value: v, Str: "nil interface"}
			}
			return e.encodeAny(v.Elem().Interface())
		}
	}
	return unsupportedEncoder
}

func unsupportedEncoder(e *encodeState, v reflect.Value) error {
	return &UnsupportedTypeError{Type: v.Type()}
}

func marshalerEncoder(e *encodeState, v reflect.Value) error {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return &UnsupportedValueError{Value: v, Str: "nil pointer"}
	}
	return e.callMarshaler(v)
}

func (e *encodeState) callMarshaler(v reflect.Value) error {
	b, err := v.Interface().(Marshaler).MarshalBencode()
	if err != nil {
		return &MarshalerError{Type: v.Type(), Err: err}
	}
	if err := Valid(b); err != nil {
		return &MarshalerError{Type: v.Type(), Err: err}
	}
	e.buf = append(e.buf, b...)
	return nil
}

func encodeByteArray(e *encodeState, v reflect.Value) error {
	n := v.Len()
	e.buf = strconv.AppendInt(e.buf, int64(n), 10)
	e.buf = append(e.buf, ':')
	if v.CanAddr() {
		e.buf = append(e.buf, v.Bytes()...)
		return nil
	}
	for i := range n {
		e.buf = append(e.buf, byte(v.Index(i).Uint()))
	}
	return nil
}

func newListEncoder(t reflect.Type) encodeFunc {
	elem := encoderFor(t.Elem())
	return func(e *encodeState, v reflect.Value) error {
		if err := e.enter(); err != nil {
			return err
		}
		e.buf = append(e.buf, 'l')
		for i, n := 0, v.Len(); i < n; i++ {
			if err := elem(e, v.Index(i)); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, 'e')
		e.depth--
		return nil
	}
}

func newMapEncoder(t reflect.Type) encodeFunc {
	elem := encoderFor(t.Elem())
	return func(e *encodeState, v reflect.Value) error {
		if err := e.enter(); err != nil {
			return err
		}
		n := v.Len()
		keys := make([]string, 0, n)
		vals := reflect.MakeSlice(reflect.SliceOf(t.Elem()), n, n)
		order := make([]int, 0, n)
		iter := v.MapRange()
		for i := 0; iter.Next(); i++ {
			keys = append(keys, iter.Key().String())
			vals.Index(i).SetIterValue(iter)
			order = append(order, i)
		}
		slices.SortFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
		e.buf = append(e.buf, 'd')
		for _, i := range order {
			e.writeString(keys[i])
			if err := elem(e, vals.Index(i)); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, 'e')
		e.depth--
		return nil
	}
}

// A structEncoder writes a struct as a dict of its fields, in key order.
type structEncoder struct {
	fields []field
	encs   []encodeFunc
	fast   []fastField // as for decoding (see fastfield.go)
}

func newStructEncoder(t reflect.Type) encodeFunc {
	se := &structEncoder{fields: cachedFields(t)}
	se.encs = make([]encodeFunc, len(se.fields))
	se.fast = make([]fastField, len(se.fields))
	for i, f := range se.fields {
		se.encs[i] = encoderFor(f.typ)
		if len(f.index) == 1 && !f.typ.Implements(marshalerType) && !reflect.PointerTo(f.typ).Implements(marshalerType) {
			se.fast[i] = fastField{kind: fastKindOf(f.typ), offset: t.Field(f.index[0]).Offset}
		}
	}
	return se.encode
}

func (se *structEncoder) encode(e *encodeState, v reflect.Value) error {
	if err := e.enter(); err != nil {
		return err
	}
	e.buf = append(e.buf, 'd')
	var base unsafe.Pointer
	if v.CanAddr() {
		base = unsafe.Pointer(v.UnsafeAddr())
	}
fields:
	for i := range se.fields {
		f := &se.fields[i]
		if ff := se.fast[i]; ff.kind != fastNone && base != nil {
			e.encodeFast(f, ff.kind, unsafe.Add(base, ff.offset))
			continue
		}
		fv := v
		for j, x := range f.index {
			if j > 0 && fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue fields
				}
				fv = fv.Elem()
			}
			fv = fv.Field(x)
		}
		if f.omitEmpty && isEmptyValue(fv) {
			continue
		}
		switch fv.Kind() {
		case reflect.Pointer, reflect.Interface:
			if fv.IsNil() {
				continue // bencode has no null: a nil field is absent
			}
		case reflect.Slice:
			if f.typ == rawMessageType && fv.Len() == 0 {
				continue
			}
		}
		e.buf = append(e.buf, f.key...)
		if err := se.encs[i](e, fv); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, 'e')
	e.depth--
	return nil
}

func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}
