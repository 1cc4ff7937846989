package bench

import (
	"bytes"
	"testing"

	"github.com/bt-go/bt/bencode/bencodetest"
	"github.com/google/go-cmp/cmp"
)

// TestSameResults checks that every library decodes and encodes the
// benchmark inputs to the same result, so that the benchmarks compare the
// same work.
func TestSameResults(t *testing.T) {
	torrent := bencodetest.TorrentBytes(500)
	want := bencodetest.TorrentValue(500)
	hs := bencodetest.HandshakeBytes()
	wantHS := bencodetest.HandshakeValue()
	for _, c := range codecs {
		if c.unmarshal != nil {
			mi := c.torrent()
			if err := c.unmarshal(torrent, mi); err != nil {
				t.Errorf("%s: decode torrent: %v", c.name, err)
			} else if jmi, ok := mi.(*jackpalMetaInfo); ok {
				if jmi.Info.Pieces != string(want.Info.Pieces) || len(jmi.Info.Files) != len(want.Info.Files) {
					t.Errorf("%s: decoded torrent differs", c.name)
				}
			} else if diff := cmp.Diff(&want, mi); diff != "" {
				t.Errorf("%s: decoded torrent differs (-want +got):\n%.2000s", c.name, diff)
			}
			var h bencodetest.Handshake
			if err := c.unmarshal(hs, &h); err != nil {
				t.Errorf("%s: decode handshake: %v", c.name, err)
			} else if diff := cmp.Diff(wantHS, h); diff != "" {
				t.Errorf("%s: decoded handshake differs (-want +got):\n%s", c.name, diff)
			}
		}
		if _, err := c.decodeAny(torrent); err != nil {
			t.Errorf("%s: decode torrent into any: %v", c.name, err)
		}
		if c.marshal != nil {
			got, err := c.marshal(&want)
			if err != nil {
				t.Errorf("%s: encode torrent: %v", c.name, err)
			} else if !bytes.Equal(got, torrent) {
				t.Errorf("%s: encoded torrent differs", c.name)
			}
			got, err = c.marshal(&wantHS)
			if err != nil {
				t.Errorf("%s: encode handshake: %v", c.name, err)
			} else if !bytes.Equal(got, hs) {
				t.Errorf("%s: encoded handshake = %q", c.name, got)
			}
		}
	}
}
