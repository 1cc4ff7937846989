package swarmsim

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/internal/peertest"
)

// TestOnlySeedLeaves: the only seed, uploading at 512 KiB/s, leaves the
// swarm of 6 leechers. When it leaves once the leechers hold every piece
// between them, they complete from one another. When it leaves after
// uploading half a copy, they cannot, and each says so: its
// Stats.DistributedCopies is under 1 while it waits.
func TestOnlySeedLeaves(t *testing.T) {
	for _, early := range []bool{false, true} {
		name := "after the pieces are distributed"
		if early {
			name = "after half a copy"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { onlySeedLeaves(t, early) })
		})
	}
}

func onlySeedLeaves(t *testing.T, early bool) {
	var s Swarm
	s.Net.Link = Link{Latency: 20 * time.Millisecond, Bandwidth: 1 << 20}
	dir := t.TempDir()
	mi := makeTorrent(t, filepath.Join(dir, "seed"), "data", 4<<20, 64<<10, 4)
	seed, seedAddr := s.Client(t, bt.Config{MaxUploadRate: 512 << 10})
	st, err := seed.AddTorrent(mi, &bt.TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, st)
	const n = 6
	tors, _ := addLeechers(t, &s, mi, dir, n, []netip.AddrPort{seedAddr}, bt.Config{}, nil)
	size, pieces := mi.Info.TotalLength(), mi.Info.NumPieces()
	union := func() int {
		u := bitfield.New(pieces)
		for _, tor := range tors {
			b := tor.Bitfield()
			for i := range pieces {
				if b.Has(i) {
					u.Set(i)
				}
			}
		}
		return u.Count()
	}
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the seed never got to leave: uploaded %d, the leechers hold %d of %d pieces", st.Uploaded(), union(), pieces)
		}
		if early && st.Uploaded() >= size/2 || !early && union() == pieces {
			break
		}
	}
	held := union()
	seed.Close()
	t.Logf("the seed left after uploading %.2f copies; the leechers held %d of %d pieces between them", float64(st.Uploaded())/float64(size), held, pieces)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if !early {
		for i, tor := range tors {
			if err := tor.WaitComplete(ctx); err != nil {
				t.Fatalf("leecher %d: %v (%d of %d pieces)", i, err, tor.Bitfield().Count(), pieces)
			}
			peertest.SameFiles(t, filepath.Join(dir, "seed"), filepath.Join(dir, fmt.Sprint("leech", i)))
		}
		return
	}
	if held == pieces {
		t.Fatalf("the leechers held every piece after half a copy: the test cannot show a stall")
	}
	if err := tors[0].WaitComplete(ctx); err == nil {
		t.Fatal("a leecher completed without a copy of every piece in the swarm")
	}
	for i, tor := range tors {
		s := tor.Stats()
		if s.Complete || s.DistributedCopies >= 1 {
			t.Errorf("leecher %d: complete %v, distributed copies %.2f; want incomplete and under 1", i, s.Complete, s.DistributedCopies)
		}
	}
	t.Logf("after 10 minutes: leecher 0 reports %.2f distributed copies", tors[0].Stats().DistributedCopies)
}
