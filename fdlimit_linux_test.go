//go:build linux

package bt

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/metainfo"
)

// TestManyTorrentsLowFDLimit runs a client seeding 1,000 torrents of 10
// files each (200 under the race detector) under RLIMIT_NOFILE 256 (in a child process), with the
// default file pool and with a pool bound far above the limit (so opens
// meet EMFILE and must recover): every torrent checks its data and
// seeds, none stops with an error, the listener keeps answering, and
// a second client downloads a sample of them.
func TestManyTorrentsLowFDLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 torrents")
	}
	if os.Getenv("BT_FD_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestManyTorrentsLowFDLimit$", "-test.v")
		cmd.Env = append(os.Environ(), "BT_FD_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		t.Logf("child:\n%s", out)
		return
	}
	numTorrents, numFiles := 1000, 10
	if raceEnabled {
		numTorrents = 200
	}
	dir := t.TempDir()
	var mis []*metainfo.MetaInfo
	sizes := make([]int, numFiles)
	for i := range sizes {
		sizes[i] = 1000 + 37*i
	}
	for k := range numTorrents {
		root := makeData(t, filepath.Join(dir, "seed"), fmt.Sprintf("t%04d", k), sizes...)
		// makeData's content depends on the sizes only: make each torrent
		// distinct.
		os.WriteFile(filepath.Join(root, "a.dat"), fmt.Appendf(nil, "torrent %d", k), 0o644)
		mis = append(mis, makeTorrent(t, root, 16<<10))
	}
	lim := syscall.Rlimit{Cur: 256, Max: 256}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	for _, maxOpen := range []int{0, 1 << 20} {
		t.Run(fmt.Sprintf("MaxOpenFiles=%d", maxOpen), func(t *testing.T) {
			down := t.TempDir() // removed after the clients close
			seeder := newTestClient(t, Config{MaxOpenFiles: maxOpen, Logger: slog.New(slog.DiscardHandler)})
			var tors []*Torrent
			for _, mi := range mis {
				tor, err := seeder.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
				if err != nil {
					t.Fatal(err)
				}
				tors = append(tors, tor)
			}
			for _, tor := range tors {
				waitSeeding(t, tor, 2*time.Minute)
				if err := tor.Err(); err != nil {
					t.Fatalf("%s: %v", tor.Name(), err)
				}
			}
			t.Logf("%d torrents seeding; %d files open; %d opens met EMFILE", len(tors), seeder.files.Len(), seeder.files.FDWaits())
			leecher := newTestClient(t, Config{NoListen: true, Logger: slog.New(slog.DiscardHandler)})
			for k := 0; k < numTorrents; k += numTorrents / 20 {
				tor, err := leecher.AddTorrent(mis[k], &TorrentOptions{Dir: down, Peers: []netip.AddrPort{loopback(seeder.Port())}})
				if err != nil {
					t.Fatal(err)
				}
				waitComplete(t, tor, 2*time.Minute)
				peertest.SameFiles(t, filepath.Join(dir, "seed", mis[k].Info.Name), filepath.Join(down, mis[k].Info.Name))
			}
			for _, tor := range tors {
				if err := tor.Err(); err != nil {
					t.Fatalf("%s: %v", tor.Name(), err)
				}
			}
		})
	}
}
