package bt

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/tracker"
)

// Real peers find bt, and bt finds them, through trackers (opentracker,
// our tracker/server) and libtorrent's DHT: no peer address is ever given.

// ltSwarmTorrent makes a v1 torrent of random data with libtorrent and
// writes it to dir/data.torrent.
func ltSwarmTorrent(t *testing.T, dir string, size int64) (data, file, ih string, mi *metainfo.MetaInfo) {
	t.Helper()
	data = filepath.Join(dir, "seed", "data.bin")
	if err := os.MkdirAll(filepath.Dir(data), 0o755); err != nil {
		t.Fatal(err)
	}
	peertest.WriteRandomFile(t, data, size)
	b, ih := peertest.CreateTorrent(t, data, peertest.CreateOptions{V1Only: true, PieceSize: 64 << 10})
	mi, err := metainfo.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(dir, "data.torrent")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return data, file, ih, mi
}

// ltAddTracker adds a tracker to a libtorrent torrent and announces at once.
func ltAddTracker(t *testing.T, lt *peertest.Libtorrent, ih, url string) {
	t.Helper()
	lt.Exec(t, "h = handles[args['ih']]\nh.add_tracker({'url': args['url'], 'tier': 0})\nh.force_reannounce()\nresult = True",
		map[string]any{"ih": ih, "url": url})
}

// waitScrape waits until the tracker at url counts seeds seeds of ih.
func waitScrape(t *testing.T, url string, ih metainfo.Hash, seeds int) {
	t.Helper()
	var c tracker.Client
	waitfor.Cond(t, 15*time.Second, "the seed on the tracker", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		res, err := c.Scrape(ctx, url, ih)
		return err == nil && res[ih].Complete >= seeds
	})
}

// TestOpentrackerLibtorrentSeed: a libtorrent seed announces to
// opentracker (UDP); bt, given only the torrent (announce: opentracker),
// finds it there and downloads the data.
func TestOpentrackerLibtorrentSeed(t *testing.T) {
	peertest.RequireLibtorrent(t)
	dir := t.TempDir()
	data, file, ih, mi := ltSwarmTorrent(t, dir, 3<<20)
	httpURL, udpURL := peertest.StartOpentracker(t, ih)
	lt := peertest.StartLibtorrent(t, nil)
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Dir(data), SeedMode: true})
	ltAddTracker(t, lt, ih, udpURL)
	waitScrape(t, httpURL, mi.InfoHash, 1)

	mi.Announce, mi.AnnounceList = udpURL, nil
	start := time.Now()
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech")})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 20*time.Second)
	t.Logf("found libtorrent through opentracker and downloaded 3 MiB in %v; report %+v",
		time.Since(start).Round(time.Millisecond), tor.Trackers())
	peertest.SameFiles(t, filepath.Dir(data), filepath.Join(dir, "leech"))
	waitfor.Cond(t, 10*time.Second, "our completed announce", func() bool { return announced(tor, 2) })
}

// TestOpentrackerBtSeed: bt seeds and announces to opentracker (HTTP);
// libtorrent, given the torrent and the tracker, finds bt there and
// downloads the data.
func TestOpentrackerBtSeed(t *testing.T) {
	peertest.RequireLibtorrent(t)
	dir := t.TempDir()
	data, file, ih, mi := ltSwarmTorrent(t, dir, 3<<20)
	httpURL, _ := peertest.StartOpentracker(t, ih)
	mi.Announce, mi.AnnounceList = httpURL, nil
	c := newTestClient(t, Config{})
	st, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Dir(data)})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 15*time.Second, "our announce as a seed", func() bool { return announced(st, 1) })

	start := time.Now()
	lt := peertest.StartLibtorrent(t, nil)
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Join(dir, "leech")})
	ltAddTracker(t, lt, ih, httpURL)
	lt.WaitStatus(t, ih, 20*time.Second, func(s peertest.Status) bool { return s.IsSeeding })
	t.Logf("libtorrent found bt through opentracker and downloaded 3 MiB in %v", time.Since(start).Round(time.Millisecond))
	peertest.WaitSameFiles(t, filepath.Dir(data), filepath.Join(dir, "leech"), 20*time.Second)
	if st.Uploaded() < 3<<20 {
		t.Errorf("bt uploaded %d bytes", st.Uploaded())
	}
}

// TestOurTrackerLibtorrentLeech: libtorrent finds a bt seed through our
// tracker server (HTTP) and downloads from it.
func TestOurTrackerLibtorrentLeech(t *testing.T) {
	peertest.RequireLibtorrent(t)
	_, httpURL, _ := startTracker(t)
	dir := t.TempDir()
	data, file, ih, mi := ltSwarmTorrent(t, dir, 2<<20)
	mi.Announce, mi.AnnounceList = httpURL, nil
	c := newTestClient(t, Config{})
	st, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Dir(data)})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 15*time.Second, "our announce as a seed", func() bool { return announced(st, 1) })

	lt := peertest.StartLibtorrent(t, nil)
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Join(dir, "leech")})
	ltAddTracker(t, lt, ih, httpURL)
	lt.WaitStatus(t, ih, 20*time.Second, func(s peertest.Status) bool { return s.IsSeeding })
	peertest.WaitSameFiles(t, filepath.Dir(data), filepath.Join(dir, "leech"), 20*time.Second)
}

// TestOurTrackerAria2Leech: aria2 finds a bt seed through our tracker
// server (HTTP; aria2 uses UDP trackers only with its DHT on) and
// downloads from it.
func TestOurTrackerAria2Leech(t *testing.T) {
	peertest.RequireLibtorrent(t) // for CreateTorrent
	peertest.RequireCommand(t, "aria2c")
	_, httpURL, _ := startTracker(t)
	dir := t.TempDir()
	data, _, _, mi := ltSwarmTorrent(t, dir, 2<<20)
	mi.Announce, mi.AnnounceList = httpURL, nil
	file := writeTorrentFile(t, mi, dir) // the torrent with our tracker in it
	c := newTestClient(t, Config{})
	st, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Dir(data)})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 15*time.Second, "our announce as a seed", func() bool { return announced(st, 1) })

	dl := t.TempDir()
	a := peertest.StartAria2(t, peertest.Aria2Options{TorrentFile: file, Dir: dl})
	select {
	case <-a.Done():
		if err := a.Err(); err != nil {
			t.Fatalf("aria2: %v\n%s", err, a.Log())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("aria2 did not finish\n%s", a.Log())
	}
	peertest.SameFiles(t, filepath.Dir(data), dl)
	if st.Uploaded() < 2<<20 {
		t.Errorf("bt uploaded %d bytes", st.Uploaded())
	}
}
