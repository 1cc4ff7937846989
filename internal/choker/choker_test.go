package choker

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func peers(n int) []Peer {
	ps := make([]Peer, n)
	for i := range ps {
		ps[i] = Peer{ID: i, Interested: true, Connected: t0.Add(-time.Hour), Choked: true}
	}
	return ps
}

func TestReciprocation(t *testing.T) {
	c := &Choker{Slots: 2, Rand: rand.New(rand.NewPCG(1, 1))}
	ps := peers(6)
	ps[4].DownloadRate = 900
	ps[2].DownloadRate = 500
	ps[1].DownloadRate = 100
	ps[5].DownloadRate = 1000
	ps[5].Snubbed = true
	r := c.Round(t0, ps, false)
	if !slices.Equal(r.Unchoke[:2], []int{4, 2}) {
		t.Fatalf("regular slots %v, want [4 2]", r.Unchoke)
	}
	if r.Optimistic < 0 || r.Optimistic == 4 || r.Optimistic == 2 {
		t.Fatalf("optimistic %d", r.Optimistic)
	}
	if len(r.Unchoke) != 3 {
		t.Fatalf("unchoked %v, want 3", r.Unchoke)
	}
}

func TestNotInterestedNeverUnchoked(t *testing.T) {
	c := &Choker{}
	ps := peers(3)
	for i := range ps {
		ps[i].Interested = false
	}
	if r := c.Round(t0, ps, false); len(r.Unchoke) != 0 || r.Optimistic != -1 {
		t.Fatalf("uninterested peers unchoked: %+v", r)
	}
}

func TestOptimisticRotates(t *testing.T) {
	c := &Choker{Slots: 1, Rand: rand.New(rand.NewPCG(7, 7))}
	ps := peers(10)
	ps[0].DownloadRate = 1e6
	first := c.Round(t0, ps, false).Optimistic
	for s := time.Duration(0); s < 30*time.Second; s += 10 * time.Second {
		if o := c.Round(t0.Add(s), ps, false).Optimistic; o != first {
			t.Fatalf("optimistic changed within 30 s: %d then %d", first, o)
		}
	}
	seen := map[int]bool{}
	for k := 1; k < 40; k++ {
		seen[c.Round(t0.Add(time.Duration(k)*30*time.Second), ps, false).Optimistic] = true
	}
	if seen[0] || len(seen) < 5 {
		t.Fatalf("optimistic slot visited %v", seen)
	}
}

func TestSeedingByUploadRate(t *testing.T) {
	c := &Choker{Slots: 1}
	ps := peers(3)
	ps[1].UploadRate = 10
	ps[2].UploadRate = 20
	ps[2].Snubbed = true // snubbing is irrelevant when seeding
	if r := c.Round(t0, ps, true); r.Unchoke[0] != 2 {
		t.Fatalf("seeding: %v, want peer 2 first", r.Unchoke)
	}
}

func TestSeedingRoundRobin(t *testing.T) {
	c := &Choker{Slots: 1, SeedMode: RoundRobin}
	ps := peers(3)
	ps[0].LastUnchoked = t0.Add(-time.Second)
	ps[1].LastUnchoked = t0.Add(-time.Minute)
	ps[2].LastUnchoked = t0.Add(-time.Second)
	if r := c.Round(t0, ps, true); r.Unchoke[0] != 1 {
		t.Fatalf("round robin: %v, want peer 1 first", r.Unchoke)
	}
}

func TestSnubbed(t *testing.T) {
	if !Snubbed(t0.Add(SnubTimeout), t0, true) {
		t.Error("not snubbed after timeout with requests outstanding")
	}
	if Snubbed(t0.Add(SnubTimeout), t0, false) {
		t.Error("snubbed without outstanding requests")
	}
	if Snubbed(t0.Add(time.Second), t0, true) {
		t.Error("snubbed too early")
	}
}

func TestNewPeersFavoured(t *testing.T) {
	c := &Choker{Slots: 0, Rand: rand.New(rand.NewPCG(3, 3))}
	ps := peers(2)
	ps[1].Connected = t0 // new
	wins := 0
	for k := range 400 {
		c.haveOptimistic = false
		if c.Round(t0.Add(time.Duration(k)), ps, false).Optimistic == 1 {
			wins++
		}
	}
	// Slots 0 means the default (4), so both peers are regular: no optimistic.
	if wins != 0 {
		t.Fatalf("optimistic chosen among regular peers")
	}
	c.Slots = 1
	ps[0].DownloadRate = 0
	ps = append(ps, Peer{ID: 2, Interested: true, Connected: t0.Add(-time.Hour), DownloadRate: 1e9})
	for k := range 400 {
		c.haveOptimistic = false
		if c.Round(t0.Add(time.Duration(k)), ps, false).Optimistic == 1 {
			wins++
		}
	}
	if wins < 240 {
		t.Fatalf("new peer won the optimistic slot %d/400 times, want about 300", wins)
	}
}

// TestOptimisticMovesOn: a rotation gives the optimistic slot to another
// peer whenever another qualifies.
func TestOptimisticMovesOn(t *testing.T) {
	c := &Choker{Slots: 1, Rand: rand.New(rand.NewPCG(5, 5))}
	ps := peers(3)
	ps[0].DownloadRate = 1e6 // the regular slot
	last := c.Round(t0, ps, false).Optimistic
	for k := 1; k <= 20; k++ {
		o := c.Round(t0.Add(time.Duration(k)*DefaultOptimisticInterval), ps, false).Optimistic
		if o == last || o == 0 {
			t.Fatalf("rotation %d: optimistic %d after %d", k, o, last)
		}
		last = o
	}
	// Alone, it keeps the slot.
	ps = ps[:2]
	if o := c.Round(t0.Add(time.Hour), ps, false).Optimistic; o != 1 {
		t.Fatalf("only peer 1 qualifies, optimistic %d", o)
	}
	if o := c.Round(t0.Add(2*time.Hour), ps, false).Optimistic; o != 1 {
		t.Fatalf("only peer 1 qualifies, optimistic %d after a rotation", o)
	}
}
