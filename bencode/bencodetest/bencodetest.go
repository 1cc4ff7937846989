// Package bencodetest provides deterministic bencode inputs and the Go types
// that decode them, shared by the benchmarks of package bencode and by the
// comparison benchmarks in the bench module.
package bencodetest

import (
	"fmt"
	"math/rand/v2"

	"github.com/bt-go/bt/bencode"
)

// MetaInfo is the shape of a .torrent file, as a client decodes it.
type MetaInfo struct {
	Announce     string     `bencode:"announce"`
	AnnounceList [][]string `bencode:"announce-list,omitempty"`
	Comment      string     `bencode:"comment,omitempty"`
	CreatedBy    string     `bencode:"created by,omitempty"`
	CreationDate int64      `bencode:"creation date,omitempty"`
	Info         Info       `bencode:"info"`
}

// Info is a torrent's info dictionary.
type Info struct {
	Files       []File `bencode:"files,omitempty"`
	Length      int64  `bencode:"length,omitempty"`
	Name        string `bencode:"name"`
	PieceLength int64  `bencode:"piece length"`
	Pieces      []byte `bencode:"pieces"`
	Private     int64  `bencode:"private,omitempty"`
}

// File is one file of a multi-file torrent.
type File struct {
	Length int64    `bencode:"length"`
	Path   []string `bencode:"path"`
}

// MetaInfoRaw keeps the info dictionary's bytes, as needed to hash it.
type MetaInfoRaw struct {
	Announce     string             `bencode:"announce"`
	AnnounceList [][]string         `bencode:"announce-list,omitempty"`
	Comment      string             `bencode:"comment,omitempty"`
	CreatedBy    string             `bencode:"created by,omitempty"`
	CreationDate int64              `bencode:"creation date,omitempty"`
	Info         bencode.RawMessage `bencode:"info"`
}

// Handshake is the BEP 10 extended handshake dictionary.
type Handshake struct {
	M            map[string]int `bencode:"m"`
	MetadataSize int64          `bencode:"metadata_size,omitempty"`
	P            int64          `bencode:"p,omitempty"`
	Reqq         int64          `bencode:"reqq,omitempty"`
	V            string         `bencode:"v,omitempty"`
}

// HandshakeValue is the extended handshake the benchmarks use.
func HandshakeValue() Handshake {
	return Handshake{
		M:            map[string]int{"ut_metadata": 2, "ut_pex": 1},
		V:            "bt 0.1",
		P:            6881,
		Reqq:         250,
		MetadataSize: 31235,
	}
}

// HandshakeBytes is HandshakeValue encoded.
func HandshakeBytes() []byte {
	return []byte("d1:md11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei31235e1:pi6881e4:reqqi250e1:v6:bt 0.1e")
}

var words = []string{
	"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
	"india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa",
	"quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey",
	"xray", "yankee", "zulu", "Season 01", "Disc 2", "extras", "subtitles",
}

// TorrentValue returns a realistic multi-file torrent: files files in nested
// directories, three tracker tiers, 256 KiB pieces, and the piece hashes
// that such a torrent would carry. The same arguments always give the same
// torrent.
func TorrentValue(files int) MetaInfo {
	r := rand.New(rand.NewPCG(1, 2))
	var mi MetaInfo
	mi.Announce = "http://tracker.example.org:6969/announce"
	mi.AnnounceList = [][]string{
		{"http://tracker.example.org:6969/announce", "udp://tracker.example.org:6969/announce"},
		{"udp://tracker.example.net:1337/announce"},
		{"https://backup.example.com/announce"},
	}
	mi.Comment = "a generated torrent for benchmarks"
	mi.CreatedBy = "bencodetest"
	mi.CreationDate = 1700000000
	mi.Info.Name = "Generated Collection"
	mi.Info.PieceLength = 256 << 10
	var total int64
	for i := range files {
		depth := 1 + r.IntN(3)
		path := make([]string, depth)
		for j := range depth - 1 {
			path[j] = words[r.IntN(len(words))]
		}
		path[depth-1] = fmt.Sprintf("%s %03d.%s", words[r.IntN(len(words))], i, []string{"mkv", "flac", "jpg", "txt"}[r.IntN(4)])
		length := r.Int64N(4<<20) + 1
		total += length
		mi.Info.Files = append(mi.Info.Files, File{Length: length, Path: path})
	}
	n := int((total + mi.Info.PieceLength - 1) / mi.Info.PieceLength)
	mi.Info.Pieces = make([]byte, 20*n)
	for i := range mi.Info.Pieces {
		mi.Info.Pieces[i] = byte(r.Uint32())
	}
	return mi
}

// TorrentBytes returns TorrentValue(files) encoded. With 500 files it is
// about 100 KB.
func TorrentBytes(files int) []byte {
	b, err := bencode.Marshal(TorrentValue(files))
	if err != nil {
		panic(err)
	}
	return b
}
