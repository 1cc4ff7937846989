package metainfo

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusAllowed lists the files of libtorrent's test corpus where bt's
// verdict differs from libtorrent 2.0.8's on purpose, and why.
var corpusAllowed = map[string]string{}

// TestLibtorrentCorpus checks bt's verdict on each torrent of libtorrent's
// test suite against libtorrent 2.0.8's (testdata/libtorrent/verdicts.txt):
// an accepted torrent must be accepted with the same info hash, a rejected
// one rejected. Torrents libtorrent accepts as v2-only are refused by bt
// (ErrV2Only) by design.
func TestLibtorrentCorpus(t *testing.T) {
	f, err := os.Open("testdata/libtorrent/verdicts.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.SplitN(line, "\t", 3)
		if len(fields) != 3 {
			t.Fatalf("bad verdict line %q", line)
		}
		name, verdict, detail := fields[0], fields[1], fields[2]
		n++
		t.Run(name, func(t *testing.T) {
			m, err := LoadFile(filepath.Join("testdata/libtorrent", name))
			if why, ok := corpusAllowed[name]; ok {
				t.Logf("allowed difference (%s): libtorrent %s %s; bt: %v", why, verdict, detail, err)
				return
			}
			switch {
			case verdict == "accept" && detail == "v2-only":
				if err == nil {
					t.Fatalf("bt accepted a v2-only torrent")
				}
				t.Logf("v2-only, refused by design: %v", err)
			case verdict == "accept":
				if err != nil {
					t.Fatalf("libtorrent accepts (%s), bt refuses: %v", detail, err)
				}
				if got := m.InfoHash.String(); got != detail {
					t.Fatalf("info hash %s, libtorrent says %s", got, detail)
				}
				checkLayout(t, m)
			default:
				if err == nil {
					t.Fatalf("libtorrent refuses (%s), bt accepts", detail)
				}
				t.Logf("both refuse: libtorrent %q; bt %v", detail, err)
			}
		})
	}
	if n != 108 {
		t.Errorf("%d verdicts, want 108", n)
	}
}
