package bt

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/metainfo"
)

// ltTorrent makes a multi-file tree and a torrent of it with libtorrent's
// create_torrent (a v1+v2 hybrid, pad files included, unless v1only).
func ltTorrent(t *testing.T, dir string, v1only bool, sizes ...int) (src string, mi *metainfo.MetaInfo, file, ih string) {
	t.Helper()
	src = makeData(t, filepath.Join(dir, "seed"), "tree", sizes...)
	b, ih := peertest.CreateTorrent(t, src, peertest.CreateOptions{PieceSize: 32 << 10, V1Only: v1only})
	mi, err := metainfo.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(dir, "tree.torrent")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return src, mi, file, ih
}

func ltAddr(t *testing.T, lt *peertest.Libtorrent) netip.AddrPort {
	return loopback(lt.Port())
}

// TestDownloadFromLibtorrent: bt downloads a multi-file hybrid torrent
// (pad files between files) from a libtorrent seed.
func TestDownloadFromLibtorrent(t *testing.T) {
	peertest.RequireLibtorrent(t)
	dir := t.TempDir()
	src, mi, file, _ := ltTorrent(t, dir, false, 200_000, 3, 90_000, 1<<20)
	lt := peertest.StartLibtorrent(t, nil)
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Join(dir, "seed"), SeedMode: true})

	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), Peers: []netip.AddrPort{ltAddr(t, lt)}})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 60*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
}

// TestLibtorrentDownloadsFromBt: libtorrent downloads from bt seeding.
func TestLibtorrentDownloadsFromBt(t *testing.T) {
	peertest.RequireLibtorrent(t)
	dir := t.TempDir()
	src, mi, file, ih := ltTorrent(t, dir, false, 150_000, 70_000, 600_000)
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, tor, 10*time.Second)

	lt := peertest.StartLibtorrent(t, nil)
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Join(dir, "leech")})
	// libtorrent takes seconds to act on connect_peer; bt dials too, and
	// the duplicate is resolved on both ends.
	lt.ConnectPeer(t, ih, loopback(c.Port()).String())
	tor.AddPeers(ltAddr(t, lt))
	lt.WaitStatus(t, ih, 60*time.Second, func(s peertest.Status) bool { return s.IsSeeding })
	peertest.WaitSameFiles(t, src, filepath.Join(dir, "leech", "tree"), 20*time.Second)
	if real := int64(150_000 + 70_000 + 600_000); tor.Uploaded() < real {
		t.Errorf("bt uploaded %d bytes, want at least the %d bytes of data", tor.Uploaded(), real)
	}
}

// TestMagnetFromLibtorrent: a magnet link downloads from a libtorrent seed:
// metadata over ut_metadata, then the data.
func TestMagnetFromLibtorrent(t *testing.T) {
	peertest.RequireLibtorrent(t)
	dir := t.TempDir()
	src, mi, file, _ := ltTorrent(t, dir, true, 100_000, 250_000)
	lt := peertest.StartLibtorrent(t, nil)
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Join(dir, "seed"), SeedMode: true})

	c := newTestClient(t, Config{})
	gotMeta := make(chan struct{}, 1)
	mag := mi.Magnet()
	mag.Peers = []string{ltAddr(t, lt).String()}
	tor, err := c.AddMagnet(mag.String(), &TorrentOptions{
		Dir: filepath.Join(dir, "leech"),
		OnEvent: func(e Event) {
			if e.Type == EventMetadata {
				gotMeta <- struct{}{}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 60*time.Second)
	select {
	case <-gotMeta:
	default:
		t.Error("no metadata event")
	}
	if tor.Metadata() == nil || tor.Metadata().InfoHash != mi.InfoHash {
		t.Fatalf("metadata %v", tor.Metadata())
	}
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
}

// TestTwoSeeds: bt downloads from a libtorrent seed and a bt seed at once
// and gets data from both.
func TestTwoSeeds(t *testing.T) {
	peertest.RequireLibtorrent(t)
	dir := t.TempDir()
	src, mi, file, ih := ltTorrent(t, dir, true, 3<<20, 1<<20)
	lt := peertest.StartLibtorrent(t, nil)
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Join(dir, "seed"), SeedMode: true})
	seeder := newTestClient(t, Config{})
	st, err := seeder.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, st, 10*time.Second)
	// On loopback either seed alone could send everything before the
	// other has finished its handshake: slow bt's down so both take part.
	st.SetRateLimits(0, 1<<20)

	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"),
		Peers: []netip.AddrPort{ltAddr(t, lt), loopback(seeder.Port())}})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 60*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
	fromLT := lt.Status(t, ih).TotalPayloadUpload
	fromBT := st.Uploaded()
	t.Logf("libtorrent sent %d bytes, bt sent %d bytes", fromLT, fromBT)
	if fromLT == 0 || fromBT == 0 {
		t.Errorf("both seeds should be used: libtorrent sent %d bytes, bt %d", fromLT, fromBT)
	}
}

// TestLibtorrentDialsBt: a libtorrent seed connects to a bt leecher that
// knows no peers; bt accepts the incoming connection and downloads.
func TestLibtorrentDialsBt(t *testing.T) {
	peertest.RequireLibtorrent(t)
	dir := t.TempDir()
	src, mi, file, ih := ltTorrent(t, dir, true, 120_000, 64_000)
	lt := peertest.StartLibtorrent(t, nil)
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Join(dir, "seed"), SeedMode: true})
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech")})
	if err != nil {
		t.Fatal(err)
	}
	lt.ConnectPeer(t, ih, loopback(c.Port()).String())
	waitComplete(t, tor, 60*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
}
