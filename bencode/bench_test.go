package bencode_test

import (
	"testing"

	"github.com/bt-go/bt/bencode"
	"github.com/bt-go/bt/bencode/bencodetest"
)

func BenchmarkDecodeTorrent(b *testing.B) {
	data := bencodetest.TorrentBytes(500)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var mi bencodetest.MetaInfo
		if err := bencode.Unmarshal(data, &mi); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeTorrent(b *testing.B) {
	mi := bencodetest.TorrentValue(500)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bencode.Marshal(&mi); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeTorrentRawInfo(b *testing.B) {
	data := bencodetest.TorrentBytes(500)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var mi bencodetest.MetaInfoRaw
		if err := bencode.Unmarshal(data, &mi); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeTorrentAny(b *testing.B) {
	data := bencodetest.TorrentBytes(500)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := bencode.Unmarshal(data, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeHandshake(b *testing.B) {
	data := bencodetest.HandshakeBytes()
	b.ReportAllocs()
	for b.Loop() {
		var h bencodetest.Handshake
		if err := bencode.Unmarshal(data, &h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeHandshake(b *testing.B) {
	h := bencodetest.HandshakeValue()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bencode.Marshal(&h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeHandshakeRaw decodes the handshake the way a lenient
// reader does: every entry kept raw, to be decoded field by field.
func BenchmarkDecodeHandshakeRaw(b *testing.B) {
	data := bencodetest.HandshakeBytes()
	b.ReportAllocs()
	for b.Loop() {
		var raw map[string]bencode.RawMessage
		if err := bencode.Unmarshal(data, &raw); err != nil {
			b.Fatal(err)
		}
	}
}
