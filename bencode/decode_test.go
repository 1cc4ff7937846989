package bencode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type fileEntry struct {
	Length int64    `bencode:"length"`
	Path   []string `bencode:"path"`
	MD5    string   `bencode:"md5sum,omitempty"`
}

type infoDict struct {
	Name        string      `bencode:"name"`
	PieceLength int64       `bencode:"piece length"`
	Pieces      []byte      `bencode:"pieces"`
	Length      int64       `bencode:"length,omitempty"`
	Files       []fileEntry `bencode:"files,omitempty"`
	Private     bool        `bencode:"private,omitempty"`
}

type torrent struct {
	Announce     string     `bencode:"announce"`
	AnnounceList [][]string `bencode:"announce-list,omitempty"`
	Comment      string     `bencode:"comment,omitempty"`
	CreationDate int64      `bencode:"creation date,omitempty"`
	Info         infoDict   `bencode:"info"`
}

func TestUnmarshalValues(t *testing.T) {
	tests := []struct {
		in   string
		into func() any // returns a pointer
		want any        // the pointed-to value wanted
	}{
		{"i42e", func() any { return new(int) }, 42},
		{"i-42e", func() any { return new(int64) }, int64(-42)},
		{"i0e", func() any { return new(int8) }, int8(0)},
		{"i127e", func() any { return new(int8) }, int8(127)},
		{"i-128e", func() any { return new(int8) }, int8(-128)},
		{"i255e", func() any { return new(uint8) }, uint8(255)},
		{"i65535e", func() any { return new(uint16) }, uint16(65535)},
		{"i-2147483648e", func() any { return new(int32) }, int32(math.MinInt32)},
		{"i4294967295e", func() any { return new(uint32) }, uint32(math.MaxUint32)},
		{"i9223372036854775807e", func() any { return new(int64) }, int64(math.MaxInt64)},
		{"i-9223372036854775808e", func() any { return new(int64) }, int64(math.MinInt64)},
		{"i18446744073709551615e", func() any { return new(uint64) }, uint64(math.MaxUint64)},
		{"i1e", func() any { return new(bool) }, true},
		{"i0e", func() any { return new(bool) }, false},
		{"4:spam", func() any { return new(string) }, "spam"},
		{"0:", func() any { return new(string) }, ""},
		{"4:spam", func() any { return new([]byte) }, []byte("spam")},
		{"3:abc", func() any { return new([3]byte) }, [3]byte{'a', 'b', 'c'}},
		{"l4:spami7ee", func() any { return new([]any) }, []any{"spam", int64(7)}},
		{"le", func() any { return new([]int) }, []int{}},
		{"li1ei2ee", func() any { return new([2]int) }, [2]int{1, 2}},
		{"d3:cow3:moo4:spaml1:a1:bee", func() any { return new(any) },
			map[string]any{"cow": "moo", "spam": []any{"a", "b"}}},
		{"d1:ai1e1:bi2ee", func() any { return new(map[string]int) }, map[string]int{"a": 1, "b": 2}},
		{"d1:bi2e1:ai1ee", func() any { return new(map[string]int) }, map[string]int{"a": 1, "b": 2}},
		{"d1:ai1e1:ai2ee", func() any { return new(map[string]int) }, map[string]int{"a": 2}},
		{"de", func() any { return new(any) }, map[string]any{}},
		{"le", func() any { return new(any) }, []any{}},
		{"i-3e", func() any { return new(any) }, int64(-3)},
		{"d1:xi1ee", func() any { return new(RawMessage) }, RawMessage("d1:xi1ee")},
		{"i5e", func() any { return new(*int) }, ptr(5)},
	}
	for _, tt := range tests {
		p := tt.into()
		if err := Unmarshal([]byte(tt.in), p); err != nil {
			t.Errorf("Unmarshal(%q, %T): %v", tt.in, p, err)
			continue
		}
		got := reflect.ValueOf(p).Elem().Interface()
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Unmarshal(%q, %T) mismatch (-want +got):\n%s", tt.in, p, diff)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestUnmarshalStruct(t *testing.T) {
	in := "d8:announce17:http://t/announce13:announce-listll1:aee7:comment2:hi" +
		"4:infod5:filesld6:lengthi3e4:pathl1:x1:yeee4:name1:n12:piece lengthi16384e6:pieces3:abc7:privatei1ee" +
		"7:unknownd1:ali1ei2eeee"
	var got torrent
	if err := Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	want := torrent{
		Announce:     "http://t/announce",
		AnnounceList: [][]string{{"a"}},
		Comment:      "hi",
		Info: infoDict{
			Name: "n", PieceLength: 16384, Pieces: []byte("abc"), Private: true,
			Files: []fileEntry{{Length: 3, Path: []string{"x", "y"}}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int64
		msg    string
	}{
		{"", 0, "unexpected end"},
		{"i03e", 1, "leading zero"},
		{"i00e", 1, "leading zero"},
		{"i-0e", 0, "negative zero"},
		{"i-e", 0, "no digits"},
		{"ie", 0, "no digits"},
		{"i1x", 2, "invalid character"},
		{"i--1e", 2, "invalid character"},
		{"i1", 2, "unexpected end"},
		{"01:a", 0, "leading zero"},
		{"00:", 0, "leading zero"},
		{"5:abc", 5, "unexpected end"},
		{"99999999999999999999:a", 0, "too large"},
		{"-1:a", 0, "invalid character"},
		{"3", 1, "unexpected end"},
		{"3x", 1, "invalid character"},
		{"l", 1, "unexpected end"},
		{"li1e", 4, "unexpected end"},
		{"d", 1, "unexpected end"},
		{"di1ei2ee", 1, "not a string"},
		{"dle1:ae", 1, "not a string"},
		{"d1:ae", 4, "has no value"},
		{"d1:a", 4, "unexpected end"},
		{"i1ei2e", 3, "trailing data"},
		{"4:spamx", 6, "trailing data"},
		{"x", 0, "invalid character"},
		{"e", 0, "invalid character"},
		{"le ", 2, "trailing data"},
	}
	for _, tt := range tests {
		for _, target := range []any{new(any), new(RawMessage), new(struct{ A int }), new([]int)} {
			err := Unmarshal([]byte(tt.in), target)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("Unmarshal(%q, %T) = %v, want SyntaxError", tt.in, target, err)
				continue
			}
			if se.Offset != tt.offset || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("Unmarshal(%q, %T) = %v, want offset %d and %q", tt.in, target, err, tt.offset, tt.msg)
			}
			if trunc := errors.Is(err, io.ErrUnexpectedEOF); trunc != (tt.msg == "unexpected end") {
				t.Errorf("Unmarshal(%q): errors.Is(io.ErrUnexpectedEOF) = %v", tt.in, trunc)
			}
		}
	}
}

func TestTypeErrors(t *testing.T) {
	tests := []struct {
		in    string
		into  any
		value string
	}{
		{"i128e", new(int8), "integer 128"},
		{"i-129e", new(int8), "integer -129"},
		{"i256e", new(uint8), "integer 256"},
		{"i-1e", new(uint), "integer -1"},
		{"i9223372036854775808e", new(int64), "integer 9223372036854775808"},
		{"i18446744073709551616e", new(uint64), "integer 18446744073709551616"},
		{"i99999999999999999999999e", new(any), "integer 99999999999999999999999"},
		{"i2e", new(bool), "integer 2"},
		{"4:spam", new(int), "string"},
		{"i1e", new(string), "integer"},
		{"le", new(map[string]int), "list"},
		{"de", new([]int), "dict"},
		{"2:ab", new([3]byte), "string of length 2"},
		{"i1e", new(float64), "integer"},
		{"de", new(map[int]int), "dict"},
	}
	for _, tt := range tests {
		err := Unmarshal([]byte(tt.in), tt.into)
		var te *UnmarshalTypeError
		if !errors.As(err, &te) {
			t.Errorf("Unmarshal(%q, %T) = %v, want UnmarshalTypeError", tt.in, tt.into, err)
			continue
		}
		if te.Value != tt.value || te.Offset != 0 {
			t.Errorf("Unmarshal(%q, %T) = %+v, want Value %q at 0", tt.in, tt.into, te, tt.value)
		}
	}
}

func TestTypeErrorFieldPath(t *testing.T) {
	var v torrent
	err := Unmarshal([]byte("d4:infod5:filesld6:length3:badeeee"), &v)
	var te *UnmarshalTypeError
	if !errors.As(err, &te) || te.Field != "info.files.length" {
		t.Fatalf("err = %v, want a type error at info.files.length", err)
	}
}

func TestTypeErrorContinues(t *testing.T) {
	var v struct {
		A int    `bencode:"a"`
		B string `bencode:"b"`
	}
	err := Unmarshal([]byte("d1:a3:xyz1:b2:oke"), &v)
	var te *UnmarshalTypeError
	if !errors.As(err, &te) || te.Field != "a" || te.Offset != 4 {
		t.Fatalf("err = %v, want type error for field a at 4", err)
	}
	if v.B != "ok" {
		t.Errorf("B = %q, want the rest decoded", v.B)
	}
}

func TestStrict(t *testing.T) {
	tests := []struct {
		in     string
		offset int64 // -1: accepted
	}{
		{"d1:ai1e1:bi2ee", -1},
		{"d1:bi1e1:ai2ee", 7},
		{"d1:ai1e1:ai2ee", 7},
		{"d2:aai1e1:bi2ee", -1},
		{"d1:b0:2:aa0:e", 6},
		{"ld1:bi1e1:ai2eee", 8},
		{"d1:xd1:bi1e1:ai2eee", 11},
	}
	for _, tt := range tests {
		for _, target := range []any{new(any), new(map[string]any), new(RawMessage), new(struct{ A, B int })} {
			err := UnmarshalStrict([]byte(tt.in), target)
			if tt.offset < 0 {
				if err != nil {
					t.Errorf("UnmarshalStrict(%q, %T): %v", tt.in, target, err)
				}
				continue
			}
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset != tt.offset {
				t.Errorf("UnmarshalStrict(%q, %T) = %v, want SyntaxError at %d", tt.in, target, err, tt.offset)
			}
			// The lenient default accepts it, apart from type errors.
			if err := Unmarshal([]byte(tt.in), target); err != nil {
				var te *UnmarshalTypeError
				if !errors.As(err, &te) {
					t.Errorf("Unmarshal(%q, %T): %v", tt.in, target, err)
				}
			}
		}
	}
}

func TestDepthLimit(t *testing.T) {
	ok := strings.Repeat("l", 100) + strings.Repeat("e", 100)
	if err := Unmarshal([]byte(ok), new(any)); err != nil {
		t.Errorf("depth 100: %v", err)
	}
	for _, deep := range []string{
		strings.Repeat("l", 101) + strings.Repeat("e", 101),
		strings.Repeat("d1:a", 101) + "i1e" + strings.Repeat("e", 101),
		strings.Repeat("l", 1_000_000),
	} {
		for _, target := range []any{new(any), new(RawMessage), new(struct{ A int }), new([]any)} {
			err := Unmarshal([]byte(deep), target)
			var se *SyntaxError
			if !errors.As(err, &se) || !strings.Contains(se.Msg, "nesting") {
				t.Errorf("Unmarshal(deep %.10q..., %T) = %v, want nesting error", deep, target, err)
			}
		}
	}
}

func TestUnmarshalPrefix(t *testing.T) {
	data := []byte("d8:msg_typei1e5:piecei0ee" + "RAWDATA")
	var msg struct {
		Type  int `bencode:"msg_type"`
		Piece int `bencode:"piece"`
	}
	n, err := UnmarshalPrefix(data, &msg)
	if err != nil {
		t.Fatal(err)
	}
	if string(data[n:]) != "RAWDATA" || msg.Type != 1 {
		t.Errorf("n = %d, msg = %+v", n, msg)
	}
}

func TestInvalidUnmarshal(t *testing.T) {
	var x int
	var np *int
	for _, v := range []any{nil, x, np} {
		var ie *InvalidUnmarshalError
		if err := Unmarshal([]byte("i1e"), v); !errors.As(err, &ie) {
			t.Errorf("Unmarshal into %T: %v", v, err)
		}
	}
}

type upper string

func (u *upper) UnmarshalBencode(b []byte) error {
	var s string
	if err := Unmarshal(b, &s); err != nil {
		return err
	}
	*u = upper(strings.ToUpper(s))
	return nil
}

func (u upper) MarshalBencode() ([]byte, error) {
	return Marshal(strings.ToLower(string(u)))
}

func TestUnmarshaler(t *testing.T) {
	var v struct {
		U  upper   `bencode:"u"`
		P  *upper  `bencode:"p"`
		L  []upper `bencode:"l"`
		Re RawMessage
	}
	if err := Unmarshal([]byte("d2:Reli1ee1:ll1:ae1:p1:b1:u1:ce"), &v); err != nil {
		t.Fatal(err)
	}
	if v.U != "C" || *v.P != "B" || v.L[0] != "A" || string(v.Re) != "li1ee" {
		t.Errorf("got %+v", v)
	}
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "d2:Reli1ee1:ll1:ae1:p1:b1:u1:ce" {
		t.Errorf("Marshal = %s", b)
	}
}

type Embedded struct {
	E  int `bencode:"e"`
	Sh int `bencode:"x"`
}

type EmbedPtr struct {
	Q int `bencode:"q"`
}

func TestEmbedded(t *testing.T) {
	type outer struct {
		Embedded
		*EmbedPtr
		X int `bencode:"x"`
	}
	var v outer
	if err := Unmarshal([]byte("d1:ei1e1:qi3e1:xi2ee"), &v); err != nil {
		t.Fatal(err)
	}
	if v.E != 1 || v.X != 2 || v.Sh != 0 || v.EmbedPtr == nil || v.Q != 3 {
		t.Errorf("got %+v", v)
	}
	b, err := Marshal(v)
	if err != nil || string(b) != "d1:ei1e1:qi3e1:xi2ee" {
		t.Errorf("Marshal = %s, %v", b, err)
	}
}

func TestRecursiveType(t *testing.T) {
	type node struct {
		V    int     `bencode:"v"`
		Kids []*node `bencode:"k,omitempty"`
	}
	in := "d1:kld1:vi2eed1:vi3eee1:vi1ee"
	var n node
	if err := Unmarshal([]byte(in), &n); err != nil {
		t.Fatal(err)
	}
	if n.V != 1 || len(n.Kids) != 2 || n.Kids[1].V != 3 {
		t.Errorf("got %+v", n)
	}
	b, err := Marshal(&n)
	if err != nil || string(b) != in {
		t.Errorf("Marshal = %s, %v", b, err)
	}
}

func TestRawMessageIsCopied(t *testing.T) {
	data := []byte("d4:infod1:ai1eee")
	var v struct {
		Info RawMessage `bencode:"info"`
		S    []byte
	}
	if err := Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = 'X'
	}
	if string(v.Info) != "d1:ai1ee" {
		t.Errorf("Info = %q after changing the input", v.Info)
	}
}

// TestListSizes decodes lists of many sizes, several per call, so that the
// chunks lists are carved from fill up and overflow in every way.
func TestListSizes(t *testing.T) {
	for _, n := range []int{0, 1, 2, 31, 32, 33, 100, 511, 512, 513, 1024, 3000} {
		strs := make([]string, n)
		anys := make([]any, n)
		for i := range strs {
			strs[i] = strings.Repeat("x", i%50)
			anys[i] = strs[i]
		}
		in := map[string][]string{"a": strs, "b": strs[:n/2], "c": strs}
		b, err := Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string][]string
		if err := Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(in, got); diff != "" {
			t.Errorf("n=%d: []string mismatch:\n%s", n, diff)
		}
		got["a"] = append(got["a"], "appended")
		if diff := cmp.Diff(in["b"], got["b"]); diff != "" {
			t.Errorf("n=%d: appending to one list changed another:\n%s", n, diff)
		}
		var generic any
		if err := Unmarshal(b, &generic); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"a": anys, "b": anys[: n/2 : n/2], "c": anys}
		if diff := cmp.Diff(want, generic); diff != "" {
			t.Errorf("n=%d: []any mismatch:\n%s", n, diff)
		}
	}
}

// TestBoxedValues checks that the integers and strings decoded into
// interfaces behave as ordinary boxed values, and do not share storage.
func TestBoxedValues(t *testing.T) {
	var v any
	if err := Unmarshal([]byte("li1000ei-5e3:abci1000e3:abci7ee"), &v); err != nil {
		t.Fatal(err)
	}
	l := v.([]any)
	if l[0] != l[3] || l[0] != any(int64(1000)) || l[1].(int64) != -5 || l[2] != l[4] || l[2] != any("abc") {
		t.Errorf("got %#v", l)
	}
	if reflect.TypeOf(l[0]) != reflect.TypeFor[int64]() || reflect.TypeOf(l[2]) != reflect.TypeFor[string]() {
		t.Errorf("types %T %T", l[0], l[2])
	}
	l[0] = int64(1)
	if l[3] != any(int64(1000)) {
		t.Errorf("changing one element changed another: %#v", l)
	}
	m := map[any]int{l[2]: 1}
	if m["abc"] != 1 {
		t.Errorf("boxed string does not hash like a string")
	}
}

// TestClaimedLengthNotTrusted checks that a string claiming more bytes than
// the input holds is rejected without allocating for it.
func TestClaimedLengthNotTrusted(t *testing.T) {
	data := []byte("d4:infol999999999:abcee")
	var v struct {
		Info [][]byte `bencode:"info"`
	}
	decode := func() {
		if err := Unmarshal(data, &v); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("err = %v", err)
		}
	}
	allocs := testing.AllocsPerRun(10, decode)
	if allocs > 5 {
		t.Errorf("%v allocations for a rejected input", allocs)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	decode()
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Errorf("%d bytes allocated for a rejected %d-byte input", n, len(data))
	}
}

// TestConcurrentDecode decodes and encodes from many goroutines at once:
// the caches, pools and scratch space must not mix their work.
func TestConcurrentDecode(t *testing.T) {
	data := testTorrent(t)
	var want torrent
	if err := Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for range 8 {
		go func() {
			for range 20 {
				var got torrent
				if err := Unmarshal(data, &got); err != nil {
					done <- err
					return
				}
				if diff := cmp.Diff(want, got); diff != "" {
					done <- errors.New(diff)
					return
				}
				var generic any
				if err := Unmarshal(data, &generic); err != nil {
					done <- err
					return
				}
				b, err := Marshal(generic)
				if err != nil || !bytes.Equal(b, data) {
					done <- fmt.Errorf("re-encoding: %v", err)
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestBytesDoNotOverlap checks that short byte strings decoded in one call,
// though they may share a chunk, behave as separate slices.
func TestBytesDoNotOverlap(t *testing.T) {
	var v struct {
		A   []byte                `bencode:"a"`
		B   []byte                `bencode:"b"`
		Raw map[string]RawMessage `bencode:"r"`
	}
	if err := Unmarshal([]byte("d1:a3:abc1:b3:def1:rd1:xi1e1:y2:zzee"), &v); err != nil {
		t.Fatal(err)
	}
	v.A = append(v.A, "XYZ"...)
	v.A[0] = 'Q'
	v.Raw["x"] = append(v.Raw["x"], 'e')
	if string(v.B) != "def" || string(v.Raw["y"]) != "2:zz" || string(v.A) != "QbcXYZ" {
		t.Errorf("got A=%q B=%q Raw=%q", v.A, v.B, v.Raw)
	}
}

func TestInterfaceField(t *testing.T) {
	var v struct {
		X any            `bencode:"x"`
		M map[string]any `bencode:"m"`
		L []any          `bencode:"l"`
	}
	if err := Unmarshal([]byte("d1:lld1:ai1000eei5000ee1:md1:b3:abce1:xli300e1:yee"), &v); err != nil {
		t.Fatal(err)
	}
	want := []any{int64(300), "y"}
	if diff := cmp.Diff(want, v.X); diff != "" || v.M["b"] != "abc" || len(v.L) != 2 || v.L[1] != any(int64(5000)) {
		t.Errorf("got %#v", v)
	}
}
