package swarmsim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/metainfo"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// makeTorrent writes size bytes from seed under dir/name and returns the
// torrent of it.
func makeTorrent(t testing.TB, dir, name string, size int, pieceLen int64, seed uint64) *metainfo.MetaInfo {
	t.Helper()
	b := make([]byte, size)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	mi, err := metainfo.Create(context.Background(), p, metainfo.CreateOptions{PieceLength: pieceLen, NoCreationDate: true})
	if err != nil {
		t.Fatal(err)
	}
	return mi
}

// TestOneSeedManyLeechers: one seed and 8 leechers on 1 MiB/s links with
// 20 ms of latency, each leecher told of the seed and the leechers before
// it. Everyone completes with intact data; the seed's upload, in copies of
// the torrent, measures how well the picker and the choker spread pieces
// (8 would mean the leechers traded nothing).
func TestOneSeedManyLeechers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s Swarm
		s.Net.Link = Link{Latency: 20 * time.Millisecond, Bandwidth: 1 << 20}
		dir := t.TempDir()
		mi := makeTorrent(t, filepath.Join(dir, "seed"), "data", 4<<20, 64<<10, 1)
		seed, seedAddr := s.Client(t, bt.Config{})
		st, err := seed.AddTorrent(mi, &bt.TorrentOptions{Dir: filepath.Join(dir, "seed")})
		if err != nil {
			t.Fatal(err)
		}
		waitSeeding(t, st)
		start := time.Now()

		const n = 8
		tors, _ := addLeechers(t, &s, mi, dir, n, []netip.AddrPort{seedAddr}, bt.Config{}, nil)
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		for i, tor := range tors {
			if err := tor.WaitComplete(ctx); err != nil {
				t.Fatalf("leecher %d: %v (%d of %d pieces)", i, err, tor.Bitfield().Count(), tor.NumPieces())
			}
			peertest.SameFiles(t, filepath.Join(dir, "seed"), filepath.Join(dir, fmt.Sprint("leech", i)))
		}
		ratio := float64(st.Uploaded()) / float64(mi.Info.TotalLength())
		t.Logf("%d leechers complete in %v (simulated); the seed uploaded %.2f copies", n, time.Since(start), ratio)
		if ratio >= n {
			t.Errorf("the seed uploaded %.2f copies to %d leechers: they traded nothing", ratio, n)
		}
	})
}

// addLeechers starts n leechers of mi in dir/leech0… on clients of their
// own with cfg, each told of known and of the leechers started before it,
// and returns them with known and their addresses appended.
func addLeechers(t *testing.T, s *Swarm, mi *metainfo.MetaInfo, dir string, n int, known []netip.AddrPort, cfg bt.Config, onEvent func(bt.Event)) ([]*bt.Torrent, []netip.AddrPort) {
	t.Helper()
	addrs := slices.Clone(known)
	var tors []*bt.Torrent
	for i := range n {
		c, addr := s.Client(t, cfg)
		tor, err := c.AddTorrent(mi, &bt.TorrentOptions{Dir: filepath.Join(dir, fmt.Sprint("leech", i)), Peers: addrs, OnEvent: onEvent})
		if err != nil {
			t.Fatal(err)
		}
		tors = append(tors, tor)
		addrs = append(addrs, addr)
	}
	return tors, addrs
}

func waitSeeding(t *testing.T, tor *bt.Torrent) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !tor.Seeding(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seeding", tor.Name())
		}
	}
}
