package bt

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/tracker"
	"github.com/bt-go/bt/tracker/server"
)

// startTracker runs our tracker server on 127.0.0.1 for the test and
// returns its HTTP and UDP announce URLs.
func startTracker(t *testing.T) (srv *server.Server, httpURL, udpURL string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv = server.New(server.Config{})
	addrs := make(chan [2]net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- srv.ListenAndServe(ctx, "127.0.0.1:0", "127.0.0.1:0", func(h, u net.Addr) { addrs <- [2]net.Addr{h, u} })
	}()
	var a [2]net.Addr
	select {
	case a = <-addrs:
	case err := <-done:
		cancel()
		t.Fatalf("tracker server: %v", err)
	}
	t.Cleanup(func() { cancel(); <-done })
	return srv, "http://" + a[0].String() + "/announce", "udp://" + a[1].String()
}

// closedURL returns an HTTP announce URL at which nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/announce"
}

// trackerTorrent makes data and a torrent announcing to tiers.
func trackerTorrent(t *testing.T, dir string, private bool, tiers ...[]string) (src string, mi *metainfo.MetaInfo) {
	t.Helper()
	src = makeData(t, filepath.Join(dir, "seed"), "tree", 200_000, 50_000)
	mi, err := metainfo.Create(context.Background(), src, metainfo.CreateOptions{PieceLength: 16 << 10, Trackers: tiers, Private: private, NoCreationDate: true})
	if err != nil {
		t.Fatal(err)
	}
	return src, mi
}

// announced reports whether some tier of tor had a successful announce
// listing at least seeds seeds.
func announced(tor *Torrent, seeds int) bool {
	for _, s := range tor.Trackers() {
		if !s.LastAnnounce.IsZero() && s.LastError == nil && s.Complete >= seeds {
			return true
		}
	}
	return false
}

// TestTrackersFindPeers: a bt seed and a bt leecher find each other
// through our tracker server (the second tier; the first one is dead),
// with no peer given. The report shows the dead tier's failures and the
// live one's counts; the leecher's stop removes it from the tracker.
func TestTrackersFindPeers(t *testing.T) {
	srv, httpURL, udpURL := startTracker(t)
	dead := closedURL(t)
	dir := t.TempDir()
	src, mi := trackerTorrent(t, dir, false, []string{dead}, []string{udpURL, httpURL})

	seeder := newTestClient(t, Config{})
	st, err := seeder.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 10*time.Second, "the seed's announce", func() bool { return announced(st, 1) })

	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech")})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 20*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))

	rep := tor.Trackers()
	if len(rep) != 2 {
		t.Fatalf("Trackers() = %+v, want two tiers", rep)
	}
	if rep[0].Failures == 0 || rep[0].LastError == nil || rep[0].URLs[0] != dead {
		t.Errorf("dead tier: %+v", rep[0])
	}
	if rep[1].LastError != nil || rep[1].Complete < 1 {
		t.Errorf("live tier: %+v", rep[1])
	}
	// The completed announce makes the leecher a seed on the tracker.
	waitfor.Cond(t, 10*time.Second, "the completed announce", func() bool { return announced(tor, 2) })
	_, before := srv.Stats()
	if err := tor.Stop(); err != nil {
		t.Fatal(err)
	}
	if len(tor.Trackers()) != 2 {
		t.Errorf("the report should last after a stop: %+v", tor.Trackers())
	}
	waitfor.Cond(t, 10*time.Second, "the stopped announce", func() bool { _, n := srv.Stats(); return n < before })
}

// TestAddTrackers: trackers added to a torrent without any are announced
// to at once; a private torrent refuses them.
func TestAddTrackers(t *testing.T) {
	_, httpURL, _ := startTracker(t)
	dir := t.TempDir()
	_, mi := trackerTorrent(t, dir, false)
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	if err := tor.AddTrackers([]string{httpURL}); err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 10*time.Second, "an announce to the added tracker", func() bool { return announced(tor, 1) })
	if err := tor.AddTrackers([]string{httpURL, ""}); err != nil {
		t.Fatal(err)
	}
	if rep := tor.Trackers(); len(rep) != 1 {
		t.Errorf("a tracker added twice makes %d tiers", len(rep))
	}

	_, pmi := trackerTorrent(t, t.TempDir(), true, []string{httpURL})
	pt, err := c.AddTorrent(pmi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	if err := pt.AddTrackers([]string{closedURL(t)}); !errors.Is(err, ErrPrivate) {
		t.Errorf("AddTrackers on a private torrent: %v, want ErrPrivate", err)
	}
}

// TestTrackerReportsRealNumbers: what the tracker hears is the torrent's
// real left, downloaded and uploaded.
func TestTrackerReportsRealNumbers(t *testing.T) {
	_, httpURL, _ := startTracker(t)
	dir := t.TempDir()
	_, mi := trackerTorrent(t, dir, false, []string{httpURL})
	seeder := newTestClient(t, Config{})
	st, _ := seeder.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	waitfor.Cond(t, 10*time.Second, "the seed's announce", func() bool { return announced(st, 1) })

	// A scrape shows one seed: the seed announced left=0 (it waited for its
	// check), and no leecher.
	var tc tracker.Client
	res, err := tc.Scrape(context.Background(), httpURL, mi.InfoHash)
	if err != nil {
		t.Fatal(err)
	}
	if r := res[mi.InfoHash]; r.Complete != 1 || r.Incomplete != 0 {
		t.Errorf("scrape after the seed's announce: %+v", r)
	}
}

// TestMagnetTrackers: a magnet link's tr= trackers are announced to (one
// to a tier) before the metadata is known, and find the seed.
func TestMagnetTrackers(t *testing.T) {
	_, _, udpURL := startTracker(t)
	dir := t.TempDir()
	src, mi := trackerTorrent(t, dir, false, []string{udpURL})
	seeder := newTestClient(t, Config{})
	st, err := seeder.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 10*time.Second, "the seed's announce", func() bool { return announced(st, 1) })

	mag := mi.Magnet()
	mag.Trackers = []string{closedURL(t), udpURL}
	c := newTestClient(t, Config{})
	tor, err := c.AddMagnet(mag.String(), &TorrentOptions{Dir: filepath.Join(dir, "leech")})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 20*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
	if rep := tor.Trackers(); len(rep) != 2 {
		t.Errorf("a magnet's two trackers make %d tiers: %+v", len(rep), rep)
	}
}

// TestTrackersIPv6: a seed and a leecher on ::1 find each other through
// our tracker's HTTP and UDP endpoints on ::1 (BEP 7 peers6, BEP 15 over
// IPv6).
func TestTrackersIPv6(t *testing.T) {
	for _, proto := range []string{"http", "udp"} {
		t.Run(proto, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			srv := server.New(server.Config{})
			addrs := make(chan [2]net.Addr, 1)
			done := make(chan error, 1)
			go func() {
				done <- srv.ListenAndServe(ctx, "[::1]:0", "[::1]:0", func(h, u net.Addr) { addrs <- [2]net.Addr{h, u} })
			}()
			var a [2]net.Addr
			select {
			case a = <-addrs:
			case err := <-done:
				cancel()
				peertest.Unavailable(t, "no IPv6 loopback: %v", err)
			}
			defer func() { cancel(); <-done }()
			url := "http://" + a[0].String() + "/announce"
			if proto == "udp" {
				url = "udp://" + a[1].String()
			}
			dir := t.TempDir()
			src, mi := trackerTorrent(t, dir, false, []string{url})
			seeder := newTestClient(t, Config{ListenAddr: "[::1]:0"})
			st, _ := seeder.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
			waitfor.Cond(t, 10*time.Second, "the seed's announce", func() bool { return announced(st, 1) })
			c := newTestClient(t, Config{ListenAddr: "[::1]:0"})
			tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech")})
			if err != nil {
				t.Fatal(err)
			}
			waitComplete(t, tor, 20*time.Second)
			peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
		})
	}
}
