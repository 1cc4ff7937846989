package bt

import (
	"github.com/bt-go/bt/internal/peertest"
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

// TestLoopbackDownload: one bt client seeds a multi-file torrent, another
// downloads it over loopback; the data must match byte for byte.
func TestLoopbackDownload(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 300_000, 1, 0, 777_777, 65536)
	mi := makeTorrent(t, src, 32<<10)

	seeder := newTestClient(t, Config{})
	st, err := seeder.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, st, 10*time.Second)

	leecher := newTestClient(t, Config{})
	var passes int
	lt, err := leecher.AddTorrent(mi, &TorrentOptions{
		Dir:   filepath.Join(dir, "leech"),
		Peers: []netip.AddrPort{loopback(seeder.Port())},
		OnEvent: func(e Event) {
			if e.Type == EventHashPass {
				passes++
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, lt, 30*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
	if !lt.Seeding() || lt.Left() != 0 {
		t.Errorf("after completion: seeding %v, left %d", lt.Seeding(), lt.Left())
	}
	if st.Uploaded() < mi.Info.TotalLength() {
		t.Errorf("seeder uploaded %d of %d bytes", st.Uploaded(), mi.Info.TotalLength())
	}
	lt.Close()
	if passes != mi.Info.NumPieces() {
		t.Errorf("%d hash-pass events, want %d", passes, mi.Info.NumPieces())
	}
}
