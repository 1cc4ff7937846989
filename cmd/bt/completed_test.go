package main

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/tracker"
)

// TestCompletedAnnounce: every short bt download, a process that exits
// as soon as its data is complete, tells the tracker "completed", so the
// tracker's count of downloads (scrape's "downloaded") is right: against
// bt tracker and opentracker, over HTTP and UDP.
func TestCompletedAnnounce(t *testing.T) {
	bin := buildBT(t)
	const runs = 4
	for _, tc := range []struct {
		name string
		urls func(t *testing.T, ihHex string) (announce, scrape string)
	}{
		{"bt tracker HTTP", func(t *testing.T, _ string) (string, string) {
			h, _ := startTrackerCmd(t, "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0")
			return h, h
		}},
		{"bt tracker UDP", func(t *testing.T, _ string) (string, string) {
			h, u := startTrackerCmd(t, "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0")
			return u, h
		}},
		{"opentracker HTTP", func(t *testing.T, ih string) (string, string) {
			h, _ := peertest.StartOpentracker(t, ih)
			return h, h
		}},
		{"opentracker UDP", func(t *testing.T, ih string) (string, string) {
			h, u := peertest.StartOpentracker(t, ih)
			return u, h
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "seed", "small.bin")
			peertest.WriteRandomFile(t, data, 200_000)
			mi, err := metainfo.Create(context.Background(), data, metainfo.CreateOptions{PieceLength: 16 << 10})
			if err != nil {
				t.Fatal(err)
			}
			announce, scrape := tc.urls(t, mi.InfoHash.String())
			mi.Announce = announce
			raw, err := mi.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "small.torrent")
			if err := os.WriteFile(file, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			seeder, err := bt.NewClient(bt.Config{ListenAddr: "127.0.0.1:0", NoTrackers: true})
			if err != nil {
				t.Fatal(err)
			}
			defer seeder.Close()
			if _, err := seeder.AddTorrent(mi, &bt.TorrentOptions{Dir: filepath.Dir(data)}); err != nil {
				t.Fatal(err)
			}
			peer := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(seeder.Port())).String()
			for i := range runs {
				out, err := exec.Command(bin, "download", "--no-dht", "--state-dir", "", "--port", "0",
					"--dir", filepath.Join(dir, "dl"+strconv.Itoa(i)), "--peer", peer, file).CombinedOutput()
				if err != nil {
					t.Fatalf("download %d: %v\n%s", i, err, out)
				}
			}
			var c tracker.Client
			var got tracker.ScrapeResult
			deadline := time.Now().Add(10 * time.Second)
			for {
				res, err := c.Scrape(context.Background(), scrape, mi.InfoHash)
				if err != nil {
					t.Fatal(err)
				}
				if got = res[mi.InfoHash]; got.Downloaded >= runs || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if got.Downloaded != runs {
				t.Errorf("after %d downloads the tracker counts %d (scrape %+v)", runs, got.Downloaded, got)
			}
		})
	}
}
