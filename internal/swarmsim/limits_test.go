package swarmsim

import (
	"net/netip"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bt-go/bt"
)

// TestRateLimits: a seed's per-torrent upload limit, a leecher's
// client-wide download limit, and the tighter of a client's and a
// torrent's, each measured over 10 s of synctest's clock on an unlimited
// link, after a second of warm-up. On a fake clock the limiter is the only
// thing that shapes the rate, so it must hold to within a block or two.
func TestRateLimits(t *testing.T) {
	cases := []struct {
		name                string
		seedUp, down, tdown int64
		want                int64
	}{
		{name: "upload 1MiB", seedUp: 1 << 20, want: 1 << 20},
		{name: "download 512KiB", down: 512 << 10, want: 512 << 10},
		{name: "client 2MiB torrent 768KiB", down: 2 << 20, tdown: 768 << 10, want: 768 << 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var s Swarm
				dir := t.TempDir()
				mi := makeTorrent(t, filepath.Join(dir, "seed"), "big", 16<<20, 256<<10, 2)
				seed, seedAddr := s.Client(t, bt.Config{})
				st, err := seed.AddTorrent(mi, &bt.TorrentOptions{Dir: filepath.Join(dir, "seed"), MaxUploadRate: tc.seedUp})
				if err != nil {
					t.Fatal(err)
				}
				waitSeeding(t, st)
				c, _ := s.Client(t, bt.Config{MaxDownloadRate: tc.down})
				tor, err := c.AddTorrent(mi, &bt.TorrentOptions{Dir: filepath.Join(dir, "leech"),
					MaxDownloadRate: tc.tdown, Peers: []netip.AddrPort{seedAddr}})
				if err != nil {
					t.Fatal(err)
				}
				for deadline := time.Now().Add(time.Minute); tor.Downloaded() == 0; time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatal("no download")
					}
				}
				time.Sleep(time.Second)
				const span = 10 * time.Second
				a := tor.Downloaded()
				time.Sleep(span)
				b := tor.Downloaded()
				got := float64(b-a) / span.Seconds()
				dev := (got - float64(tc.want)) / float64(tc.want)
				t.Logf("limit %d KiB/s, achieved %.1f KiB/s (%+.2f%%)", tc.want>>10, got/1024, 100*dev)
				// Two 16 KiB blocks over the span.
				if slack := 2 * 16 << 10 / span.Seconds(); got > float64(tc.want)+slack || got < float64(tc.want)-slack {
					t.Errorf("achieved %.0f B/s, limit %d B/s (%+.2f%%)", got, tc.want, 100*dev)
				}
				if tor.Left() == 0 {
					t.Error("the download completed during the measurement")
				}
			})
		})
	}
}

// TestDownloadLimitFromTheStart: a download limit holds from the first
// request, not only once the transfer is under way: every 100 ms of
// synctest's clock for 5 s, the bytes received stay within the limit's
// rate over the elapsed time plus one bucket (a tenth of a second, at least
// two blocks) and a block in flight.
func TestDownloadLimitFromTheStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const limit = 32 << 10
		var s Swarm
		dir := t.TempDir()
		mi := makeTorrent(t, filepath.Join(dir, "seed"), "big", 3<<20, 256<<10, 3)
		seed, seedAddr := s.Client(t, bt.Config{})
		st, err := seed.AddTorrent(mi, &bt.TorrentOptions{Dir: filepath.Join(dir, "seed")})
		if err != nil {
			t.Fatal(err)
		}
		waitSeeding(t, st)
		c, _ := s.Client(t, bt.Config{MaxDownloadRate: limit})
		start := time.Now()
		tor, err := c.AddTorrent(mi, &bt.TorrentOptions{Dir: filepath.Join(dir, "leech"), Peers: []netip.AddrPort{seedAddr}})
		if err != nil {
			t.Fatal(err)
		}
		for range 50 {
			time.Sleep(100 * time.Millisecond)
			got, elapsed := tor.Downloaded(), time.Since(start)
			bound := int64(limit*elapsed.Seconds()) + max(limit/10, 32<<10) + 16<<10
			if got > bound {
				t.Fatalf("after %v: %d bytes downloaded, over the limit's %d", elapsed, got, bound)
			}
		}
		if got := tor.Downloaded(); got < 4*limit {
			t.Errorf("%d bytes downloaded in 5 s at %d B/s: the limit starves the download", got, limit)
		}
	})
}
