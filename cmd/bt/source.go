package main

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/bt-go/bt/internal/termtext"
	"io/fs"
	"os"
	"strings"

	"github.com/bt-go/bt/metainfo"
)

// source is what a command was given to download: a .torrent file (mi)
// or a magnet link (mag).
type source struct {
	arg string
	mi  *metainfo.MetaInfo
	mag *metainfo.Magnet
}

func isMagnet(s string) bool { return strings.HasPrefix(strings.ToLower(s), "magnet:") }

// loadSource reads a .torrent file or parses a magnet link, with an error
// a user can act on: a missing file, a file that is no torrent at all (an
// HTML page saved by mistake, an empty file), a broken torrent.
func loadSource(arg string) (*source, error) {
	if isMagnet(arg) {
		m, err := metainfo.ParseMagnet(arg)
		if err != nil {
			return nil, errors.New(plainError(err))
		}
		return &source{arg: arg, mag: m}, nil
	}
	data, err := os.ReadFile(arg)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s does not exist", arg)
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "is a directory") {
			return nil, fmt.Errorf("%s is a directory, not a torrent file", arg)
		}
		return nil, fmt.Errorf("reading %s: %v", arg, unwrapPathError(err))
	case len(data) > metainfo.MaxTorrentSize:
		return nil, fmt.Errorf("%s is not a torrent file (it is larger than any torrent file, %s)", arg, sizeString(int64(len(data))))
	}
	if what := notTorrent(data); what != "" {
		return nil, fmt.Errorf("%s is not a torrent file (%s)", arg, what)
	}
	mi, err := metainfo.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid torrent file: %s", arg, plainError(err))
	}
	return &source{arg: arg, mi: mi}, nil
}

// notTorrent says what data is when it is plainly not a torrent file: a
// torrent file is a bencoded dictionary, so it starts with "d".
func notTorrent(data []byte) string {
	t := bytes.TrimSpace(data)
	switch {
	case len(data) == 0:
		return "it is empty"
	case len(t) > 0 && t[0] == '<':
		return "it is an HTML or XML page; perhaps the link led to a web page rather than the file"
	case data[0] != 'd':
		return "it does not start like one"
	}
	return ""
}

// plainError drops the package prefixes ("bt: ", "metainfo: ", …) that
// wrapped errors repeat inside one message, so it reads as one sentence.
func plainError(err error) string {
	msg := err.Error()
	for _, p := range []string{"bt: ", "metainfo: ", "tracker: ", "storage: ", "resume: ", "wire: ", "bencode: ", "dht: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	return msg
}

// name is the torrent's name as far as it is known, safe to print: the
// .torrent's, or a magnet link's display name, or its info hash.
func (s *source) name() string {
	switch {
	case s.mi != nil:
		return termtext.Safe(s.mi.Info.Name)
	case s.mag.Name != "":
		return termtext.Safe(s.mag.Name)
	}
	return s.infoHash()
}

// hash is the torrent's v1 info hash.
func (s *source) hash() metainfo.Hash {
	if s.mi != nil {
		return s.mi.InfoHash
	}
	return s.mag.InfoHash
}

// infoHash is the torrent's v1 info hash in hex.
func (s *source) infoHash() string { return s.hash().String() }
