package bencode

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// genValue generates a generic bencode value: int64, string, []any or
// map[string]any, nested up to depth levels.
func genValue(depth int) *rapid.Generator[any] {
	scalars := []*rapid.Generator[any]{
		rapid.Int64().AsAny(),
		rapid.Int64Range(-300, 300).AsAny(),
		rapid.String().AsAny(),
		rapid.StringMatching(`[a-z]{0,8}`).AsAny(),
	}
	if depth == 0 {
		return rapid.OneOf(scalars...)
	}
	inner := genValue(depth - 1)
	list := rapid.Custom(func(t *rapid.T) any {
		return rapid.SliceOfN(inner, 0, 5).Draw(t, "list")
	})
	dict := rapid.Custom(func(t *rapid.T) any {
		return rapid.MapOfN(rapid.String(), inner, 0, 5).Draw(t, "dict")
	})
	return rapid.OneOf(append(scalars, list, dict)...)
}

// normalize turns the nil slices and maps rapid may produce into the empty
// ones decoding gives.
func normalize(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}

func TestPropertyRoundTripAny(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := genValue(3).Draw(t, "v")
		b, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		var got any
		if err := UnmarshalStrict(b, &got); err != nil {
			t.Fatalf("UnmarshalStrict(%q): %v", b, err)
		}
		if diff := cmp.Diff(normalize(v), got); diff != "" {
			t.Fatalf("round trip of %q differs (-want +got):\n%s", b, diff)
		}
		again, err := Marshal(got)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encoding gives %q, %v; want %q", again, err, b)
		}
		var raw RawMessage
		if n, err := UnmarshalPrefix(append(b, "trailing"...), &raw); err != nil || n != len(b) || !bytes.Equal(raw, b) {
			t.Fatalf("UnmarshalPrefix = %d, %q, %v", n, raw, err)
		}
	})
}

type allKinds struct {
	I    int               `bencode:"i"`
	I8   int8              `bencode:"i8"`
	I16  int16             `bencode:"i16"`
	I32  int32             `bencode:"i32"`
	I64  int64             `bencode:"i64"`
	U    uint              `bencode:"u"`
	U8   uint8             `bencode:"u8"`
	U16  uint16            `bencode:"u16"`
	U32  uint32            `bencode:"u32"`
	U64  uint64            `bencode:"u64"`
	B    bool              `bencode:"b"`
	S    string            `bencode:"s"`
	Bs   []byte            `bencode:"bs"`
	Arr  [4]byte           `bencode:"arr"`
	SS   []string          `bencode:"ss"`
	SSS  [][]string        `bencode:"sss,omitempty"`
	M    map[string]uint16 `bencode:"m,omitempty"`
	P    *int32            `bencode:"p,omitempty"`
	Kids []allKinds        `bencode:"kids,omitempty"`
	Opt  string            `bencode:"opt,omitempty"`
	Skip int               `bencode:"-"`
}

func genAllKinds(depth int) *rapid.Generator[allKinds] {
	return rapid.Custom(func(t *rapid.T) allKinds {
		v := allKinds{
			I: rapid.Int().Draw(t, "i"), I8: rapid.Int8().Draw(t, "i8"), I16: rapid.Int16().Draw(t, "i16"),
			I32: rapid.Int32().Draw(t, "i32"), I64: rapid.Int64().Draw(t, "i64"),
			U: rapid.Uint().Draw(t, "u"), U8: rapid.Uint8().Draw(t, "u8"), U16: rapid.Uint16().Draw(t, "u16"),
			U32: rapid.Uint32().Draw(t, "u32"), U64: rapid.Uint64().Draw(t, "u64"),
			B: rapid.Bool().Draw(t, "b"), S: rapid.String().Draw(t, "s"),
			Bs:  rapid.SliceOf(rapid.Byte()).Draw(t, "bs"),
			SS:  rapid.SliceOf(rapid.String()).Draw(t, "ss"),
			SSS: rapid.SliceOf(rapid.SliceOf(rapid.String())).Draw(t, "sss"),
			M:   rapid.MapOf(rapid.String(), rapid.Uint16()).Draw(t, "m"),
			Opt: rapid.StringMatching(`[a-z]{0,3}`).Draw(t, "opt"),
		}
		copy(v.Arr[:], rapid.SliceOfN(rapid.Byte(), 4, 4).Draw(t, "arr"))
		if rapid.Bool().Draw(t, "hasP") {
			v.P = new(int32)
			*v.P = rapid.Int32().Draw(t, "p")
		}
		if depth > 0 {
			v.Kids = rapid.SliceOfN(genAllKinds(depth-1), 0, 2).Draw(t, "kids")
		}
		return v
	})
}

// fill replaces the nil slices that decoding makes non-nil, so that values
// compare equal.
func (v *allKinds) fill() {
	if v.Bs == nil {
		v.Bs = []byte{}
	}
	if v.SS == nil {
		v.SS = []string{}
	}
	if len(v.SSS) == 0 {
		v.SSS = nil
	}
	for i := range v.SSS {
		if v.SSS[i] == nil {
			v.SSS[i] = []string{}
		}
	}
	if len(v.M) == 0 {
		v.M = nil
	}
	if len(v.Kids) == 0 {
		v.Kids = nil
	}
	for i := range v.Kids {
		v.Kids[i].fill()
	}
}

func TestPropertyRoundTripStruct(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := genAllKinds(2).Draw(t, "v")
		b, err := Marshal(&v)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		// A value that is not addressable takes the reflection path.
		if byValue, err := Marshal(v); err != nil || !bytes.Equal(byValue, b) {
			t.Fatalf("Marshal by value = %q, %v; by pointer %q", byValue, err, b)
		}
		var got allKinds
		if err := UnmarshalStrict(b, &got); err != nil {
			t.Fatalf("UnmarshalStrict(%q): %v", b, err)
		}
		v.fill()
		if diff := cmp.Diff(v, got); diff != "" {
			t.Fatalf("round trip differs (-want +got):\n%s", diff)
		}
		// The same bytes through the generic form re-encode identically.
		var generic any
		if err := Unmarshal(b, &generic); err != nil {
			// A uint above MaxInt64 does not fit the generic int64.
			var te *UnmarshalTypeError
			if !errors.As(err, &te) || te.Type != anyType {
				t.Fatalf("Unmarshal into any: %v", err)
			}
			return
		}
		again, err := Marshal(generic)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("generic re-encoding = %q, %v; want %q", again, err, b)
		}
	})
}

// TestTruncatedEverywhere cuts a realistic torrent at every offset: each
// prefix must give a truncation error at its end, whatever the target.
func TestTruncatedEverywhere(t *testing.T) {
	data := testTorrent(t)
	for i := range len(data) {
		prefix := data[:i]
		for _, target := range []any{new(any), new(RawMessage), new(torrent)} {
			err := Unmarshal(prefix, target)
			var se *SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, io.ErrUnexpectedEOF) || se.Offset != int64(i) {
				t.Fatalf("Unmarshal(data[:%d], %T) = %v, want truncation at %d", i, target, err, i)
			}
		}
	}
	dec := NewDecoder(io.MultiReader(bytes.NewReader(data[:len(data)/2])))
	var v any
	if err := dec.Decode(&v); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Decoder on half a torrent: %v", err)
	}
}

func testTorrent(t testing.TB) []byte {
	t.Helper()
	files := make([]fileEntry, 30)
	for i := range files {
		files[i] = fileEntry{Length: int64(1000003 * (i + 1)), Path: []string{"dir", "sub dir", "file " + itoa(i)}}
	}
	b, err := Marshal(torrent{
		Announce:     "http://tracker.example/announce",
		AnnounceList: [][]string{{"http://a/ann", "udp://b:1/ann"}, {"http://c/ann"}},
		Comment:      "test",
		CreationDate: 1700000000,
		Info: infoDict{
			Name: "name", PieceLength: 1 << 18, Files: files, Pieces: bytes.Repeat([]byte{0xAB}, 20*50),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
