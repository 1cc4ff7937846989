// Package bench compares package bencode with other Go bencode libraries on
// the same inputs: a generated 100 KB, 500-file .torrent and a BEP 10
// extended handshake. It is a separate module so that the main module does
// not depend on the libraries compared.
package bench

import (
	"bytes"
	"reflect"
	"testing"

	incsw "github.com/IncSW/go-bencode"
	anacrolix "github.com/anacrolix/torrent/bencode"
	"github.com/bt-go/bt/bencode"
	"github.com/bt-go/bt/bencode/bencodetest"
	cristalhq "github.com/cristalhq/bencode"
	jackpal "github.com/jackpal/bencode-go"
	zeebo "github.com/zeebo/bencode"
)

// A codec is one library's entry points; nil functions are not supported by
// that library (IncSW and cristalhq decode only into generic values).
type codec struct {
	name      string
	unmarshal func(data []byte, v any) error
	decodeAny func(data []byte) (any, error)
	marshal   func(v any) ([]byte, error)
	// newTorrent returns a pointer to decode the torrent into; nil means
	// *bencodetest.MetaInfo.
	newTorrent func() any
}

func (c codec) torrent() any {
	if c.newTorrent != nil {
		return c.newTorrent()
	}
	return new(bencodetest.MetaInfo)
}

// jackpalMetaInfo is bencodetest.MetaInfo with the piece hashes in a string:
// jackpal/bencode-go leaves a []byte field empty.
type jackpalMetaInfo struct {
	Announce     string     `bencode:"announce"`
	AnnounceList [][]string `bencode:"announce-list,omitempty"`
	Comment      string     `bencode:"comment,omitempty"`
	CreatedBy    string     `bencode:"created by,omitempty"`
	CreationDate int64      `bencode:"creation date,omitempty"`
	Info         struct {
		Files       []bencodetest.File `bencode:"files,omitempty"`
		Length      int64              `bencode:"length,omitempty"`
		Name        string             `bencode:"name"`
		PieceLength int64              `bencode:"piece length"`
		Pieces      string             `bencode:"pieces"`
		Private     int64              `bencode:"private,omitempty"`
	} `bencode:"info"`
}

var codecs = []codec{
	{
		name:      "bt",
		unmarshal: bencode.Unmarshal,
		decodeAny: func(data []byte) (any, error) {
			var v any
			err := bencode.Unmarshal(data, &v)
			return v, err
		},
		marshal: bencode.Marshal,
	},
	{
		name:      "anacrolix",
		unmarshal: anacrolix.Unmarshal,
		decodeAny: func(data []byte) (any, error) {
			var v any
			err := anacrolix.Unmarshal(data, &v)
			return v, err
		},
		marshal: anacrolix.Marshal,
	},
	{
		name:      "zeebo",
		unmarshal: zeebo.DecodeBytes,
		decodeAny: func(data []byte) (any, error) {
			var v any
			err := zeebo.DecodeBytes(data, &v)
			return v, err
		},
		marshal: zeebo.EncodeBytes,
	},
	{
		name:       "jackpal",
		newTorrent: func() any { return new(jackpalMetaInfo) },
		unmarshal:  func(data []byte, v any) error { return jackpal.Unmarshal(bytes.NewReader(data), v) },
		decodeAny:  func(data []byte) (any, error) { return jackpal.Decode(bytes.NewReader(data)) },
		marshal: func(v any) ([]byte, error) {
			var buf bytes.Buffer
			// jackpal/bencode-go does not follow a pointer.
			err := jackpal.Marshal(&buf, reflect.Indirect(reflect.ValueOf(v)).Interface())
			return buf.Bytes(), err
		},
	},
	{
		name: "cristalhq",
		decodeAny: func(data []byte) (any, error) {
			var v any
			err := cristalhq.Unmarshal(data, &v)
			return v, err
		},
		marshal: cristalhq.Marshal,
	},
	{
		name:      "IncSW",
		decodeAny: incsw.Unmarshal,
	},
}

func BenchmarkDecodeTorrent(b *testing.B) {
	data := bencodetest.TorrentBytes(500)
	for _, c := range codecs {
		if c.unmarshal == nil {
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.unmarshal(data, c.torrent()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeTorrentAny(b *testing.B) {
	data := bencodetest.TorrentBytes(500)
	for _, c := range codecs {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.decodeAny(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeTorrentRawInfo(b *testing.B) {
	data := bencodetest.TorrentBytes(500)
	raws := []struct {
		name string
		fn   func() error
	}{
		{"bt", func() error {
			var mi bencodetest.MetaInfoRaw
			return bencode.Unmarshal(data, &mi)
		}},
		{"anacrolix", func() error {
			var mi struct {
				Announce string          `bencode:"announce"`
				Info     anacrolix.Bytes `bencode:"info"`
			}
			return anacrolix.Unmarshal(data, &mi)
		}},
		{"zeebo", func() error {
			var mi struct {
				Announce string           `bencode:"announce"`
				Info     zeebo.RawMessage `bencode:"info"`
			}
			return zeebo.DecodeBytes(data, &mi)
		}},
	}
	for _, r := range raws {
		b.Run(r.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := r.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeTorrent(b *testing.B) {
	mi := bencodetest.TorrentValue(500)
	for _, c := range codecs {
		if c.marshal == nil {
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.marshal(&mi); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeHandshake(b *testing.B) {
	data := bencodetest.HandshakeBytes()
	for _, c := range codecs {
		if c.unmarshal == nil {
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var h bencodetest.Handshake
				if err := c.unmarshal(data, &h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeHandshake(b *testing.B) {
	h := bencodetest.HandshakeValue()
	for _, c := range codecs {
		if c.marshal == nil {
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.marshal(&h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
