package bt

import (
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/picker"
	"github.com/bt-go/bt/internal/waitfor"
)

// Rules of the torrent loop checked on its own state: the choker, the
// request pipeline, snubbing, and durability before completion.

// TestOptimisticSlotKept: the peer chosen for the optimistic slot keeps it
// for the whole optimistic interval, whatever order the rounds see the
// peers in.
func TestOptimisticSlotKept(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 100_000)
	mi := makeTorrent(t, src, 16<<10)
	s, st := seedTorrent(t, Config{UploadSlots: 1}, mi, dir)
	const n = 8
	for range n {
		f := dialScripted(t, s.Port(), mi, nil, nil, false)
		if err := f.conn.Interested(); err != nil {
			t.Fatal(err)
		}
	}
	interested := func() (k int) {
		st.call(func() {
			for p := range st.peers {
				if p.peerInterested {
					k++
				}
			}
		})
		return k
	}
	waitfor.Cond(t, 10*time.Second, "interested peers", func() bool { return interested() == n })
	// Rounds within one optimistic interval (30 s), in the loop's future so
	// that its own rounds do not interfere, with one peer fastest so that
	// it holds the one regular slot: another peer, the optimistic one, is
	// unchoked in every round too.
	now := time.Now().Add(time.Minute)
	count := map[*peer]int{}
	const rounds = 6
	st.call(func() {
		for p := range st.peers {
			p.upRate.value = 1e6
			break
		}
		for k := range rounds {
			st.chokeRound(now.Add(time.Duration(k) * 5 * time.Second))
			for p := range st.peers {
				if !p.amChoking && p.upRate.value == 0 {
					count[p]++
				}
			}
		}
	})
	for _, c := range count {
		if c == rounds {
			return
		}
	}
	t.Fatalf("no peer unchoked in all %d rounds of one optimistic interval: %v", rounds, count)
}

// TestPipelineSizedByTime: a peer's pipeline is about its rate ×
// RequestQueueTime in blocks, within MinRequests and MaxRequests, never
// above the reqq it advertised, and one block for a snubbing peer.
func TestPipelineSizedByTime(t *testing.T) {
	c := newTestClient(t, Config{RequestQueueTime: 2 * time.Second, MinRequests: 4, MaxRequests: 500})
	mi := makeTorrent(t, makeData(t, t.TempDir(), "tree", 50_000), 16<<10)
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: t.TempDir(), State: Paused})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rate    float64
		reqq    int
		snubbed bool
		want    int
	}{
		{rate: 0, want: 4},
		{rate: 1 << 20, want: 128}, // 2 MiB in flight
		{rate: 1 << 30, want: 500},
		{rate: 1 << 30, reqq: 250, want: 250},
		{rate: 1 << 20, reqq: 2, want: 2},
		{rate: 1 << 20, snubbed: true, want: 1},
	} {
		p := &peer{reqq: tc.reqq, snubbed: tc.snubbed}
		p.downRate.value = tc.rate
		var got int
		tor.call(func() { got = tor.pipeline(p) })
		if got != tc.want {
			t.Errorf("rate %v, reqq %d, snubbed %v: pipeline %d, want %d", tc.rate, tc.reqq, tc.snubbed, got, tc.want)
		}
	}
}

// TestSnubbedDetected: a peer that has had our requests for a minute
// without sending a block is snubbed (its pipeline is then one block).
func TestSnubbedDetected(t *testing.T) {
	c := newTestClient(t, Config{RequestTimeout: time.Hour})
	mi := makeTorrent(t, makeData(t, t.TempDir(), "tree", 50_000), 16<<10)
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: t.TempDir(), State: Paused})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 10*time.Second, "metadata", tor.HasMetadata)
	now := time.Now()
	for _, tc := range []struct {
		quiet       time.Duration
		outstanding bool
		want        bool
	}{
		{quiet: 30 * time.Second, outstanding: true, want: false},
		{quiet: 61 * time.Second, outstanding: true, want: true},
		{quiet: 61 * time.Second, outstanding: false, want: false},
	} {
		p := &peer{amInterested: true, lastActive: now, lastBlock: now.Add(-tc.quiet), reqs: map[picker.Block]time.Time{}}
		if tc.outstanding {
			p.reqs[picker.Block{Piece: 0, Index: 0}] = now
		}
		var got bool
		tor.call(func() {
			tor.checkPeer(p, now)
			got = p.snubbed
		})
		if got != tc.want {
			t.Errorf("quiet %v, outstanding %v: snubbed %v, want %v", tc.quiet, tc.outstanding, got, tc.want)
		}
	}
}

// TestDurableBeforeComplete: when a torrent reports completion, what it
// wrote is durable (synced); without a state directory nothing else would
// sync it.
func TestDurableBeforeComplete(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 300_000, 50_000)
	mi := makeTorrent(t, src, 32<<10)
	s, _ := seedTorrent(t, Config{}, mi, dir)
	c := newTestClient(t, Config{})
	dirty := make(chan bool, 1)
	var lt atomic.Pointer[Torrent]
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), State: Paused,
		OnEvent: func(e Event) {
			if e.Type == EventComplete {
				m := lt.Load().meta.Load()
				dirty <- m.store == nil || m.store.Dirty()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	lt.Store(tor)
	tor.AddPeers(loopback(s.Port()))
	if err := tor.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-dirty:
		if d {
			t.Fatal("completion reported with data not synced")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no completion")
	}
}

// TestWantedLeftComplete: with a file skipped, Wanted and Left cover the
// other file's pieces only, and Complete (everything wanted is here) holds
// without Seeding (everything is here), as the seed defines them.
func TestWantedLeftComplete(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 64<<10, 64<<10)
	mi := makeTorrent(t, src, 16<<10) // a.dat: pieces 0-3, sub/b.bin: 4-7
	if p := mi.Info.Layout().Files[0].Path; p[len(p)-1] != "a.dat" {
		t.Fatalf("first file %v", p)
	}
	s, _ := seedTorrent(t, Config{}, mi, dir)
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), State: Paused,
		FilePriorities: []int{PrioritySkip, PriorityNormal}})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 10*time.Second, "the initial check", func() bool { return !tor.Stats().Checking && tor.Left() >= 0 })
	if w := tor.Wanted(); w.Count() != 4 || !w.Has(4) || !w.Has(7) || w.Has(0) {
		t.Fatalf("wanted %v, want pieces 4-7", w)
	}
	if tor.Left() != 64<<10 || tor.Complete() || tor.Seeding() {
		t.Fatalf("before: left %d, complete %v, seeding %v", tor.Left(), tor.Complete(), tor.Seeding())
	}
	tor.AddPeers(loopback(s.Port()))
	if err := tor.Start(); err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 30*time.Second)
	if w := tor.Wanted(); w.Count() != 0 || tor.Left() != 0 || !tor.Complete() || tor.Seeding() {
		t.Fatalf("after: wanted %v, left %d, complete %v, seeding %v", w, tor.Left(), tor.Complete(), tor.Seeding())
	}
}
