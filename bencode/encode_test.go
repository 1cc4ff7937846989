package bencode

import (
	"bytes"
	"errors"
	"io"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMarshal(t *testing.T) {
	type tagged struct {
		B    int    `bencode:"b"`
		A    string `bencode:"a"`
		Skip int    `bencode:"-"`
		Dash int    `bencode:"-,"`
		Omit string `bencode:"o,omitempty"`
		Ptr  *int   `bencode:"p"`
		Any  any    `bencode:"y"`
	}
	tests := []struct {
		in   any
		want string
	}{
		{42, "i42e"},
		{int8(-128), "i-128e"},
		{uint64(math.MaxUint64), "i18446744073709551615e"},
		{int64(math.MinInt64), "i-9223372036854775808e"},
		{true, "i1e"},
		{false, "i0e"},
		{"spam", "4:spam"},
		{"", "0:"},
		{[]byte("eggs"), "4:eggs"},
		{[]byte(nil), "0:"},
		{[3]byte{'a', 'b', 'c'}, "3:abc"},
		{[]string{"a", "bc"}, "l1:a2:bce"},
		{[]int(nil), "le"},
		{[2]int{1, 2}, "li1ei2ee"},
		{map[string]int{"b": 2, "a": 1, "": 0}, "d0:i0e1:ai1e1:bi2ee"},
		{map[string]any{"z": []any{int64(1), "x"}, "a": map[string]any{}}, "d1:ade1:zli1e1:xee"},
		{map[string]string(nil), "de"},
		{tagged{B: 1, A: "x", Skip: 9, Dash: 3}, "d1:-i3e1:a1:x1:bi1ee"},
		{tagged{Omit: "o", Ptr: ptr(5), Any: "s"}, "d1:-i0e1:a0:1:bi0e1:o1:o1:pi5e1:y1:se"},
		{&tagged{}, "d1:-i0e1:a0:1:bi0ee"},
		{RawMessage("d1:ai1ee"), "d1:ai1ee"},
		{struct{ R RawMessage }{}, "de"},
		{map[string]RawMessage{"k": RawMessage("le")}, "d1:klee"},
		{upper("ABC"), "3:abc"},
		{struct{ M map[string]uint16 }{map[string]uint16{"\xff": 1, "\x00": 2}}, "d1:Md1:\x00i2e1:\xffi1eee"},
	}
	for _, tt := range tests {
		got, err := Marshal(tt.in)
		if err != nil {
			t.Errorf("Marshal(%#v): %v", tt.in, err)
			continue
		}
		if string(got) != tt.want {
			t.Errorf("Marshal(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

type badMarshaler struct{}

func (badMarshaler) MarshalBencode() ([]byte, error) { return []byte("i1"), nil }

func TestMarshalErrors(t *testing.T) {
	type cycle struct{ P *cycle }
	c := &cycle{}
	c.P = c
	var ut *UnsupportedTypeError
	var uv *UnsupportedValueError
	var me *MarshalerError
	var se *SyntaxError
	tests := []struct {
		in    any
		check func(error) bool
	}{
		{nil, func(err error) bool { return errors.As(err, &uv) }},
		{1.5, func(err error) bool { return errors.As(err, &ut) }},
		{map[int]int{1: 1}, func(err error) bool { return errors.As(err, &ut) }},
		{make(chan int), func(err error) bool { return errors.As(err, &ut) }},
		{[]*int{nil}, func(err error) bool { return errors.As(err, &uv) }},
		{[]any{nil}, func(err error) bool { return errors.As(err, &uv) }},
		{c, func(err error) bool { return errors.As(err, &uv) }},
		{RawMessage("i1"), func(err error) bool { return errors.As(err, &se) }},
		{RawMessage(""), func(err error) bool { return errors.As(err, &se) }},
		{badMarshaler{}, func(err error) bool { return errors.As(err, &me) && errors.As(err, &se) }},
	}
	for _, tt := range tests {
		if _, err := Marshal(tt.in); !tt.check(err) {
			t.Errorf("Marshal(%T) error = %v", tt.in, err)
		}
	}
}

func TestEncoderDecoder(t *testing.T) {
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	values := []any{int64(1), "two", []any{int64(3)}, map[string]any{"four": int64(4)}}
	for _, v := range values {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	dec := NewDecoder(&oneByteReader{r: &buf})
	for i, want := range values {
		var got any
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
		a, _ := Marshal(got)
		b, _ := Marshal(want)
		if !bytes.Equal(a, b) {
			t.Errorf("value %d = %#v, want %#v", i, got, want)
		}
	}
	var x any
	if err := dec.Decode(&x); err == nil || err.Error() != "EOF" {
		t.Errorf("at end: %v, want io.EOF", err)
	}
}

type oneByteReader struct{ r *bytes.Buffer }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestDecoderErrors(t *testing.T) {
	// Offsets count from the start of the stream.
	dec := NewDecoder(strings.NewReader("i1e i2e"))
	var n int
	if err := dec.Decode(&n); err != nil || n != 1 {
		t.Fatalf("first value: %d, %v", n, err)
	}
	var se *SyntaxError
	if err := dec.Decode(&n); !errors.As(err, &se) || se.Offset != 3 {
		t.Fatalf("second value: %v, want syntax error at 3", err)
	}

	dec = NewDecoder(strings.NewReader("d1:bi1e1:ai2ee"))
	dec.Strict()
	var m map[string]int
	if err := dec.Decode(&m); !errors.As(err, &se) || se.Offset != 7 {
		t.Fatalf("strict: %v, want syntax error at 7", err)
	}

	dec = NewDecoder(strings.NewReader("llee"))
	dec.SetMaxDepth(1)
	var x any
	if err := dec.Decode(&x); !errors.As(err, &se) || !strings.Contains(se.Msg, "nesting") {
		t.Fatalf("depth: %v", err)
	}

	// A claimed length larger than the limit fails without waiting for
	// (or allocating) the bytes.
	dec = NewDecoder(io.MultiReader(strings.NewReader("1000000000:abc"), neverReader{}))
	dec.SetMaxSize(1 << 10)
	if err := dec.Decode(&x); !errors.As(err, &se) || !strings.Contains(se.Msg, "size limit") {
		t.Fatalf("size limit: %v", err)
	}
}

// neverReader returns endless bytes of a string, as a hostile peer might.
type neverReader struct{}

func (neverReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

func TestFastMaps(t *testing.T) {
	type maps struct {
		I   map[string]int        `bencode:"i"`
		I64 map[string]int64      `bencode:"i64"`
		S   map[string]string     `bencode:"s"`
		A   map[string]any        `bencode:"a"`
		R   map[string]RawMessage `bencode:"r"`
	}
	in := maps{
		I:   map[string]int{"b": -1, "a": 1 << 30},
		I64: map[string]int64{"x": math.MinInt64},
		S:   map[string]string{"k": "v", "": ""},
		A:   map[string]any{"l": []any{int64(1), "s"}, "d": map[string]any{"z": int64(300)}},
		R:   map[string]RawMessage{"m": RawMessage("d1:xi1ee"), "v": RawMessage("2:ab")},
	}
	b, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = "d1:ad1:dd1:zi300ee1:lli1e1:see1:id1:ai1073741824e1:bi-1ee3:i64d1:xi-9223372036854775808ee1:rd1:md1:xi1ee1:v2:abe1:sd0:0:1:k1:vee"
	if string(b) != want {
		t.Fatalf("Marshal = %s", b)
	}
	var out maps
	if err := UnmarshalStrict(b, &out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// Values of the wrong kind are skipped and reported; the rest is kept.
	for _, tt := range []struct {
		in   string
		into any
	}{
		{"d1:a1:x1:bi2ee", &map[string]int{}},
		{"d1:ale1:bi2ee", &map[string]int64{}},
		{"d1:ai1e1:b1:xe", &map[string]string{}},
		{"d1:ai99999999999999999999e1:b1:xe", &map[string]any{}},
	} {
		err := Unmarshal([]byte(tt.in), tt.into)
		var te *UnmarshalTypeError
		if !errors.As(err, &te) || te.Offset != 4 {
			t.Errorf("Unmarshal(%q, %T) = %v, want a type error at 4", tt.in, tt.into, err)
		}
		if m := reflect.ValueOf(tt.into).Elem(); m.Len() != 1 {
			t.Errorf("Unmarshal(%q, %T) kept %v", tt.in, tt.into, m)
		}
	}
}

func TestAppendMarshal(t *testing.T) {
	b, err := AppendMarshal([]byte("prefix:"), map[string]int{"a": 1})
	if err != nil || string(b) != "prefix:d1:ai1ee" {
		t.Errorf("AppendMarshal = %q, %v", b, err)
	}
	b, err = AppendMarshal([]byte("prefix:"), 1.5)
	if err == nil || string(b) != "prefix:" {
		t.Errorf("AppendMarshal(float) = %q, %v", b, err)
	}
}

func TestErrorMessages(t *testing.T) {
	var ip *int
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&SyntaxError{Offset: 3, Msg: "bad"}, "bencode: bad at offset 3"},
		{&UnmarshalTypeError{Value: "string", Type: reflect.TypeFor[int](), Offset: 7, Field: "length"},
			`bencode: cannot unmarshal string into Go struct field "length" of type int at offset 7`},
		{&InvalidUnmarshalError{}, "bencode: Unmarshal(nil)"},
		{&InvalidUnmarshalError{reflect.TypeFor[int]()}, "bencode: Unmarshal(non-pointer int)"},
		{&InvalidUnmarshalError{reflect.TypeOf(ip)}, "bencode: Unmarshal(nil *int)"},
		{&UnsupportedTypeError{reflect.TypeFor[float64]()}, "bencode: unsupported type: float64"},
		{&UnsupportedValueError{Str: "nil"}, "bencode: unsupported value: nil"},
		{&MarshalerError{Type: reflect.TypeFor[upper](), Err: errors.New("boom")},
			"bencode: error calling MarshalBencode for type bencode.upper: boom"},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestDecoderBuffered(t *testing.T) {
	dec := NewDecoder(strings.NewReader("i1eXYZ"))
	var n int
	if err := dec.Decode(&n); err != nil {
		t.Fatal(err)
	}
	if got := string(dec.Buffered()); got != "XYZ" {
		t.Errorf("Buffered = %q", got)
	}
}

// TestDecoderAgreesWithUnmarshal feeds the syntax and strictness cases a
// byte at a time through a Decoder: its verdict and the offset of the error
// match Unmarshal's.
func TestDecoderAgreesWithUnmarshal(t *testing.T) {
	inputs := []string{
		"i03e", "i-0e", "ie", "01:a", "5:abc", "di1ei2ee", "d1:ae", "d1:a", "l", "x",
		"d1:bi1e1:ai2ee", "d1:ai1e1:ai2ee", "ld1:bi1e1:ai2eee", "d1:xd1:bi1e1:ai2eee",
		"d3:cow3:moo4:spaml1:a1:bee", strings.Repeat("l", 101) + strings.Repeat("e", 101),
		"li1ei2e" + strings.Repeat("i12345e", 500) + "e",
	}
	for _, in := range inputs {
		for _, strict := range []bool{false, true} {
			var want, got RawMessage
			wantErr := Unmarshal([]byte(in), &want)
			if strict {
				wantErr = UnmarshalStrict([]byte(in), &want)
			}
			dec := NewDecoder(&oneByteReader{r: bytes.NewBufferString(in)})
			if strict {
				dec.Strict()
			}
			gotErr := dec.Decode(&got)
			var ws, gs *SyntaxError
			switch {
			case wantErr == nil && (gotErr != nil || !bytes.Equal(got, want)):
				t.Errorf("%q strict=%v: Decoder gave %q, %v", in, strict, got, gotErr)
			case wantErr != nil && (!errors.As(wantErr, &ws) || !errors.As(gotErr, &gs) || ws.Offset != gs.Offset):
				t.Errorf("%q strict=%v: Decoder error %v, Unmarshal error %v", in, strict, gotErr, wantErr)
			}
		}
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestDecoderNoProgress(t *testing.T) {
	var v any
	if err := NewDecoder(emptyReader{}).Decode(&v); err != io.ErrNoProgress {
		t.Errorf("err = %v, want io.ErrNoProgress", err)
	}
}

// TestEncodeNamedMapsAndAllocs: maps of a named type encode like plain ones,
// and encoding a struct of maps allocates only the result.
func TestEncodeNamedMapsAndAllocs(t *testing.T) {
	type counts map[string]int
	type names map[string]string
	v := struct {
		M counts         `bencode:"m"`
		N names          `bencode:"n"`
		P map[string]int `bencode:"p"`
	}{counts{"ut_pex": 1, "ut_metadata": 2}, names{"a": "b"}, map[string]int{"x": 1}}
	const want = "d1:md11:ut_metadatai2e6:ut_pexi1ee1:nd1:a1:be1:pd1:xi1eee"
	for _, tt := range []struct {
		in   any
		want string
	}{
		{v, want},
		{&v, want},
		{v.M, "d11:ut_metadatai2e6:ut_pexi1ee"},
	} {
		if b, err := Marshal(tt.in); err != nil || string(b) != tt.want {
			t.Errorf("Marshal(%T) = %s, %v; want %s", tt.in, b, err, tt.want)
		}
	}
	plain := struct {
		M map[string]int `bencode:"m"`
		V string         `bencode:"v"`
	}{map[string]int{"ut_pex": 1, "ut_metadata": 2}, "bt"}
	// The fewest allocations of many runs: under the race detector
	// sync.Pool drops items at random, which costs a scratch buffer now and
	// then.
	fewest := uint64(math.MaxUint64)
	var before, after runtime.MemStats
	for range 50 {
		runtime.ReadMemStats(&before)
		Marshal(&plain)
		runtime.ReadMemStats(&after)
		fewest = min(fewest, after.Mallocs-before.Mallocs)
	}
	if fewest != 1 {
		t.Errorf("Marshal of a struct with a map: %d allocations, want 1 (the result)", fewest)
	}
}
