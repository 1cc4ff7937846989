package dht

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/waitfor"
)

// TestNetwork runs 200 nodes in this process over loopback UDP, each
// bootstrapping from one of the nodes started before it, and checks that
// lookups converge on the true k closest nodes (found by sorting all ids)
// and that announced peers are found by every other node.
func TestNetwork(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 50
	}
	nodes := make([]*Server, 0, n)
	for i := range n {
		cfg := Config{QueryRate: -1}
		if i > 0 {
			cfg.Bootstrap = []string{nodes[rand.IntN(len(nodes))].Addr().String()}
		}
		cfg.QueryTimeout = DefaultQueryTimeout
		nodes = append(nodes, newTestServer(t, cfg))
	}
	k := DefaultK
	t0 := time.Now()
	waitfor.Cond(t, 30*time.Second, "every node to have k nodes in its table", func() bool {
		for _, s := range nodes {
			if s.Stats().Nodes4 < k {
				return false
			}
		}
		return true
	})

	t.Logf("every node has >= k nodes %v after all started", time.Since(t0))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Rounds of the join procedure (a self-lookup, then a refresh of every
	// bucket), as the periodic rejoin and bucket refresh would do, let the
	// nodes that joined last reach the tables of their neighbours; stop
	// when a round changes no table size (a datagram lost under load is
	// made up for by the next round).
	tableSizes := func() int {
		sum := 0
		for _, s := range nodes {
			sum += s.Stats().Nodes4
		}
		return sum
	}
	for round := 1; round <= 5; round++ {
		before := tableSizes()
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for _, s := range nodes {
			wg.Go(func() {
				sem <- struct{}{}
				s.join(ctx)
				<-sem
			})
		}
		wg.Wait()
		if after := tableSizes(); after == before {
			t.Logf("tables stable after %d refresh rounds: %d entries (%v since all started)", round, after, time.Since(t0))
			break
		}
	}
	ids := make([]ID, n)
	for i, s := range nodes {
		ids[i] = s.ID()
	}
	const lookups = 50
	var durations []time.Duration
	var queries []int
	exact, found, missedClosest := 0, 0, 0
	for i := range lookups {
		target := RandomID()
		s := nodes[i*n/lookups]
		start := time.Now()
		got, q, err := s.findNode(ctx, target, false)
		durations = append(durations, time.Since(start))
		queries = append(queries, q)
		if err != nil {
			t.Fatal(err)
		}
		// The true k closest, excluding the node looking up (it does not
		// return itself).
		want := slices.DeleteFunc(slices.Clone(ids), func(id ID) bool { return id == s.ID() })
		slices.SortFunc(want, func(a, b ID) int {
			if closer(target, a, b) {
				return -1
			}
			return 1
		})
		want = want[:k]
		hits := 0
		for _, g := range got {
			if slices.Contains(want, g.ID) {
				hits++
			}
		}
		found += hits
		if hits == k {
			exact++
		}
		if len(got) == 0 || got[0].ID != want[0] {
			missedClosest++
			known := 0
			for _, o := range nodes {
				if o.ID() != want[0] {
					for _, nd := range o.Nodes() {
						if nd.ID == want[0] {
							known++
						}
					}
				}
			}
			first := "nothing"
			if len(got) > 0 {
				first = got[0].ID.String()[:8]
			}
			t.Logf("lookup %d from %s for %s missed the closest node %s (in %d tables); found first %s",
				i, s.ID().String()[:8], target.String()[:8], want[0].String()[:8], known, first)
		}
	}
	slices.Sort(durations)
	slices.Sort(queries)
	t.Logf("%d nodes, %d lookups: %d found exactly the k=%d closest; %d/%d of the true closest found overall; closest missed %d times",
		n, lookups, exact, k, found, lookups*k, missedClosest)
	t.Logf("lookup time median %v p90 %v; queries per lookup median %d p90 %d",
		durations[lookups/2], durations[lookups*9/10], queries[lookups/2], queries[lookups*9/10])
	if missedClosest > 0 || found < lookups*k*95/100 {
		t.Errorf("lookups did not converge: %d/%d of the closest nodes found, closest missed %d times", found, lookups*k, missedClosest)
	}

	// Announce 10 info hashes from 10 nodes; every one is found from
	// another node.
	for i := range 10 {
		ih := RandomID()
		ann := nodes[rand.IntN(n)]
		port := 10000 + i
		if err := ann.Announce(ctx, ih, port, false); err != nil {
			t.Fatalf("Announce: %v", err)
		}
		getter := nodes[rand.IntN(n)]
		peers := collect(getter.GetPeers(ctx, ih))
		want := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
		if !slices.Contains(peers, want) {
			t.Errorf("GetPeers from %v = %v, want %v", getter.Addr(), peers, want)
		}
	}
}
