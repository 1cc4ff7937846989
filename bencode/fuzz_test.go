package bencode

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzUnmarshal checks that no input makes decoding panic, and that
// whatever decodes re-encodes to bytes that decode to the same value;
// input accepted in strict mode is canonical and re-encodes to itself.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{
		"i42e", "i-1e", "0:", "4:spam", "le", "de", "li1e3:abce",
		"d3:cow3:moo4:spaml1:a1:bee", "d1:bi1e1:ai2ee", "d1:ai1e1:ai2ee",
		"i03e", "i-0e", "01:a", "d1:ae", "di1ei2ee", "i9223372036854775808e",
		"d8:announce3:url4:infod6:lengthi5e4:name1:n12:piece lengthi16e6:pieces0:ee",
		"d1:md11:ut_metadatai2e6:ut_pexi1ee1:pi6881e1:v6:bt 0.1e",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		err := Unmarshal(data, &v)

		// Every target gives a verdict without panicking, and the syntax
		// verdict agrees with the generic one.
		var raw RawMessage
		rawErr := Unmarshal(data, &raw)
		var tor torrent
		torErr := Unmarshal(data, &tor)
		var se *SyntaxError
		if errors.As(rawErr, &se) != errors.As(err, &se) || errors.As(torErr, &se) != errors.As(err, &se) {
			t.Fatalf("syntax verdicts differ: any %v, raw %v, struct %v", err, rawErr, torErr)
		}
		if rawErr == nil && !bytes.Equal(raw, data) {
			t.Fatalf("RawMessage = %q, want the input", raw)
		}
		// The streaming decoder, fed a byte at a time, agrees on the first
		// value.
		var first RawMessage
		prefixLen, prefixErr := UnmarshalPrefix(data, &first)
		var streamed RawMessage
		streamErr := NewDecoder(&oneByteReader{r: bytes.NewBuffer(data)}).Decode(&streamed)
		if (prefixErr == nil) != (streamErr == nil) || prefixErr == nil && !bytes.Equal(streamed, data[:prefixLen]) {
			t.Fatalf("Decoder: %q, %v; UnmarshalPrefix: %q, %v", streamed, streamErr, first, prefixErr)
		}
		if torErr == nil {
			// Whatever decodes into a struct re-encodes canonically and
			// decodes to the same struct.
			b, err := Marshal(&tor)
			if err != nil {
				t.Fatalf("Marshal(%+v): %v", tor, err)
			}
			var again torrent
			if err := UnmarshalStrict(b, &again); err != nil {
				t.Fatalf("re-decoding %q: %v", b, err)
			}
			if diff := cmp.Diff(tor, again, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("struct round trip differs (-first +second):\n%s", diff)
			}
		}
		if err != nil {
			return
		}
		b, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%#v): %v", v, err)
		}
		var w any
		if err := UnmarshalStrict(b, &w); err != nil {
			t.Fatalf("re-decoding %q: %v", b, err)
		}
		if diff := cmp.Diff(v, w); diff != "" {
			t.Fatalf("round trip differs (-first +second):\n%s", diff)
		}
		var strict any
		if UnmarshalStrict(data, &strict) == nil && !bytes.Equal(b, data) {
			t.Fatalf("canonical input %q re-encodes as %q", data, b)
		}
	})
}
