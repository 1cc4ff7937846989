package resume

import (
	"crypto/sha256"
	"testing"

	"github.com/bt-go/bt/bencode"
)

func mustUnmarshal(t testing.TB, p []byte, v any) {
	t.Helper()
	if err := bencode.Unmarshal(p, v); err != nil {
		t.Fatal(err)
	}
}

// reseal encodes w with a valid checksum.
func reseal(t *testing.T, w *wireData) []byte {
	t.Helper()
	data, err := bencode.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	p, err := bencode.Marshal(envelope{Version: Version, Data: data, SHA256: sum[:]})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
