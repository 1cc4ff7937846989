package resume

import (
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/bt-go/bt/bencode"
)

// FuzzDecode: any input is decoded or rejected with ErrCorrupt or
// ErrVersion, without panicking; what decodes re-encodes and decodes to the
// same record.
func FuzzDecode(f *testing.F) {
	p, _ := sample().Encode()
	f.Add(p)
	f.Add([]byte("de"))
	f.Add([]byte("d4:data0:6:sha2560:7:versioni1ee"))
	empty, _ := (&Data{}).Encode()
	f.Add(empty)
	f.Fuzz(func(t *testing.T, p []byte) {
		d, err := Decode(p)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		q, err := d.Encode()
		if err != nil {
			t.Fatalf("re-encoding a decoded record: %v", err)
		}
		if _, err := Decode(q); err != nil {
			t.Fatalf("decoding a re-encoded record: %v", err)
		}
	})
}

// FuzzDecodeRecord fuzzes the record inside a valid envelope, past the
// checksum that shields it from FuzzDecode's random bytes.
func FuzzDecodeRecord(f *testing.F) {
	p, _ := sample().Encode()
	var env envelope
	mustUnmarshal(f, p, &env)
	f.Add(env.Data)
	f.Add([]byte("d9:info hash20:aaaaaaaaaaaaaaaaaaaa4:have0:6:piecesi0ee"))
	f.Add([]byte("d5:filesld6:lengthi5eee4:have1:\x809:info hash20:aaaaaaaaaaaaaaaaaaaa12:piece lengthi16384e6:piecesi1ee"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sum := sha256.Sum256(data)
		p, err := bencode.Marshal(envelope{Version: Version, Data: data, SHA256: sum[:]})
		if err != nil {
			t.Fatal(err)
		}
		d, err := Decode(p)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if d.Have.Len() != d.NumPieces {
			t.Fatalf("bitfield of %d for %d pieces", d.Have.Len(), d.NumPieces)
		}
		q, err := d.Encode()
		if err != nil {
			t.Fatalf("re-encoding a decoded record: %v", err)
		}
		if _, err := Decode(q); err != nil {
			t.Fatalf("decoding a re-encoded record: %v", err)
		}
	})
}
