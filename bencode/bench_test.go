package bencode_test

import (
	"io"
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

// chunkReader returns its data a few bytes at a time, like a network
// connection delivering packets.
type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// BenchmarkDecoderSmallReads decodes the torrent from a stream delivering
// 1,400 bytes per read: the Decoder resumes scanning where it stopped, so
// the cost stays linear in the size of the value.
func BenchmarkDecoderSmallReads(b *testing.B) {
	data := bencodetest.TorrentBytes(500)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var mi bencodetest.MetaInfo
		if err := bencode.NewDecoder(&chunkReader{data: data, n: 1400}).Decode(&mi); err != nil {
			b.Fatal(err)
		}
	}
}
