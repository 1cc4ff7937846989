package swarmsim

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bt-go/bt"
)

// TestTitForTat: 3 leechers upload at 1 MiB/s and 3 at 32 KiB/s (every
// link from a slow host is slow); a seed at 256 KiB/s. Everyone completes;
// the test reports what the leechers uploaded to each group while trading
// and when each group completed. Tit-for-tat should give the fast
// uploaders the slots. It does not yet assert so: today the split is
// 1.04 to 1.18 in favour of the fast, and which group completes first
// varies from run to run, a finding for the choker (internal/choker).
func TestTitForTat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s Swarm
		// Hosts are numbered in the order clients start: the seed is
		// 10.0.0.1, leecher i is 10.0.0.(i+2); the odd leechers are slow.
		const n = 6
		slow := map[netip.Addr]bool{}
		for i := 1; i < n; i += 2 {
			slow[netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 2)})] = true
		}
		s.Net.LinkFunc = func(from, to netip.Addr) Link {
			if slow[from] {
				return Link{Latency: 20 * time.Millisecond, Bandwidth: 32 << 10}
			}
			return Link{Latency: 20 * time.Millisecond, Bandwidth: 1 << 20}
		}
		dir := t.TempDir()
		mi := makeTorrent(t, filepath.Join(dir, "seed"), "data", 8<<20, 64<<10, 7)
		seed, seedAddr := s.Client(t, bt.Config{MaxUploadRate: 256 << 10})
		st, err := seed.AddTorrent(mi, &bt.TorrentOptions{Dir: filepath.Join(dir, "seed")})
		if err != nil {
			t.Fatal(err)
		}
		waitSeeding(t, st)
		tors, addrs := addLeechers(t, &s, mi, dir, n, []netip.AddrPort{seedAddr}, bt.Config{UploadSlots: 2}, nil)
		for i, addr := range addrs[1:] {
			if slow[addr.Addr()] != (i%2 == 1) {
				t.Fatalf("leecher %d is on %v", i, addr)
			}
		}
		// What each leecher sent each peer while both were incomplete
		// (once complete, a leecher seeds whoever downloads fastest), and
		// when each completed.
		start := time.Now()
		sent := map[[2]netip.AddrPort]int64{}
		took := make([]time.Duration, n)
		complete := map[netip.AddrPort]bool{}
		done := func() bool {
			for _, tor := range tors {
				if !tor.Complete() {
					return false
				}
			}
			return true
		}
		for deadline := time.Now().Add(time.Hour); !done(); time.Sleep(250 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the swarm did not complete in a simulated hour")
			}
			for i, tor := range tors {
				if complete[addrs[i+1]] {
					continue
				}
				if tor.Complete() {
					complete[addrs[i+1]], took[i] = true, time.Since(start)
					continue
				}
				for _, p := range tor.Peers() {
					if k := [2]netip.AddrPort{addrs[i+1], p.Addr}; !complete[p.Addr] {
						sent[k] = max(sent[k], p.Uploaded)
					}
				}
			}
		}
		var toFast, toSlow int64
		for k, b := range sent {
			if slow[k[1].Addr()] {
				toSlow += b
			} else if k[1] != seedAddr {
				toFast += b
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, tor := range tors {
			if err := tor.WaitComplete(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var fastTook, slowTook time.Duration
		for i, d := range took {
			if i%2 == 1 {
				slowTook += d
			} else {
				fastTook += d
			}
		}
		t.Logf("while trading, leechers uploaded %d KiB to the fast leechers and %d KiB to the slow ones (%.2f×); the fast completed in %v on average, the slow in %v",
			toFast>>10, toSlow>>10, float64(toFast)/float64(max(toSlow, 1)), fastTook/(n/2), slowTook/(n/2))
	})
}
