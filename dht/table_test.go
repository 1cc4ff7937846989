package dht

import (
	"net/netip"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/internal/waitfor"
)

func addrN(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 6881)
}

func TestTableSplitAndBounds(t *testing.T) {
	now := time.Now()
	self := RandomID()
	tb := newTable(self, 8, now)
	for i := range 5000 {
		tb.heardReply(RandomID(), addrN(i), now)
	}
	// Every bucket holds at most k nodes; only the last bucket (the one
	// containing our id) ever split, so bucket i holds ids sharing exactly
	// i bits with ours.
	total := 0
	for i, b := range tb.buckets {
		if len(b.nodes) > 8 || len(b.replacements) > 8 {
			t.Fatalf("bucket %d holds %d nodes, %d replacements", i, len(b.nodes), len(b.replacements))
		}
		for _, n := range b.nodes {
			cpl := commonPrefixLen(self, n.id)
			if (i < len(tb.buckets)-1 && cpl != i) || cpl < i {
				t.Fatalf("node with prefix length %d in bucket %d", cpl, i)
			}
		}
		total += len(b.nodes)
	}
	if total != len(tb.byAddr) || total != tb.len() {
		t.Fatalf("index holds %d, buckets %d", len(tb.byAddr), total)
	}
	if len(tb.buckets) < 8 {
		t.Errorf("only %d buckets after 5000 random nodes", len(tb.buckets))
	}
	// Our own id is never inserted.
	if res, _ := tb.heardReply(self, addrN(99999), now); res != insertRejected {
		t.Error("own id inserted")
	}
}

func TestTableReplacement(t *testing.T) {
	now := time.Now()
	var self ID // all zero; ids with the top bit set go to bucket 0
	tb := newTable(self, 2, now)
	far := func(b byte) ID { id := RandomID(); id[0] = 0x80 | b; return id }
	tb.heardReply(far(1), addrN(1), now)
	tb.heardReply(far(2), addrN(2), now)
	// Make node 1 questionable; a third node becomes a replacement and node
	// 1 is the one to ping.
	tb.byAddr[addrN(1)].lastReply = now.Add(-time.Hour)
	// Split off the bucket with our id so bucket 0 is full and final.
	tb.heardReply(ID{1}, addrN(50), now)
	tb.heardReply(ID{2}, addrN(51), now)
	tb.heardReply(ID{3}, addrN(52), now)
	res, ping := tb.heardReply(far(3), addrN(3), now)
	if res != insertPending || ping == nil || ping.addr != addrN(1) {
		t.Fatalf("heardReply = %v, ping %v", res, ping)
	}
	// Node 1 fails twice: it is replaced by node 3.
	tb.failed(addrN(1))
	tb.failed(addrN(1))
	if tb.lookup(addrN(1)) != nil || tb.lookup(addrN(3)) == nil {
		t.Fatal("bad node not replaced")
	}
	// A node answering with a new id from a known address replaces the old
	// entry; an id already present from another address is kept.
	id2 := tb.byAddr[addrN(2)].id
	if res, _ := tb.heardReply(id2, addrN(4), now); res != insertRejected {
		t.Errorf("same id from another address: %v", res)
	}
}

func TestPeerStoreBounds(t *testing.T) {
	now := time.Now()
	ps := newPeerStore(10, 50, 3)
	ih := RandomID()
	for i := range 100 {
		ps.add(ih, addrN(i), now)
	}
	if got := len(ps.get(ih, 100, false)); got != 10 {
		t.Errorf("per-hash cap: %d peers", got)
	}
	for i := range 100 {
		ps.add(RandomID(), addrN(i), now)
	}
	if len(ps.hashes) != 3 || ps.total > 50 {
		t.Errorf("caps: %d hashes, %d peers", len(ps.hashes), ps.total)
	}
	if ps.get(ih, 3, false); len(ps.get(ih, 3, false)) != 3 {
		t.Error("get ignores n")
	}
	if len(ps.get(ih, 3, true)) != 0 {
		t.Error("IPv4 peers returned for IPv6")
	}
	ps.expire(now.Add(peerTTL + time.Second))
	if len(ps.hashes) != 0 || ps.total != 0 {
		t.Errorf("expire left %d hashes, %d peers", len(ps.hashes), ps.total)
	}
}

// TestIPv6 runs nodes on ::1: BEP 32's nodes6 carry the routing, and IPv6
// peers are announced and found.
func TestIPv6(t *testing.T) {
	a, err := New(Config{Addr: "[::1]:0", QueryTimeout: time.Second})
	if err != nil {
		peertest.Unavailable(t, "no IPv6 loopback: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	var nodes []*Server
	for range 10 {
		nodes = append(nodes, newTestServer(t, Config{Addr: "[::1]:0", Bootstrap: []string{a.Addr().String()}, QueryRate: -1}))
	}
	waitfor.Cond(t, 10*time.Second, "IPv6 nodes to join", func() bool {
		for _, s := range nodes {
			if s.Stats().Nodes6 < 3 {
				return false
			}
		}
		return true
	})
	ctx := t.Context()
	ih := RandomID()
	if err := nodes[0].Announce(ctx, ih, 7000, false); err != nil {
		t.Fatal(err)
	}
	peers := collect(nodes[9].GetPeers(ctx, ih))
	want := netip.MustParseAddrPort("[::1]:7000")
	if len(peers) != 1 || peers[0] != want {
		t.Fatalf("GetPeers = %v, want [%v]", peers, want)
	}
	if st := nodes[9].Stats(); st.Nodes4 != 0 {
		t.Errorf("IPv4 nodes in an IPv6-only node: %d", st.Nodes4)
	}
}

// TestDualStack: a node on a dual-stack socket (bound to the unspecified
// IPv6 address, talking only to loopback) keeps an IPv4 and an IPv6 table,
// asks for nodes and nodes6, and serves peers of both families.
func TestDualStack(t *testing.T) {
	dual, err := New(Config{Addr: "[::]:0", QueryTimeout: time.Second, QueryRate: -1})
	if err != nil {
		peertest.Unavailable(t, "no dual-stack socket: %v", err)
	}
	t.Cleanup(func() { dual.Close() })
	if !dual.v4 || !dual.v6 {
		peertest.Unavailable(t, "socket %v is not dual-stack", dual.Addr())
	}
	port := dual.Addr().Port()
	dual4 := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port).String()
	dual6 := netip.AddrPortFrom(netip.MustParseAddr("::1"), port).String()
	var v4s, v6s []*Server
	for range 3 {
		v4s = append(v4s, newTestServer(t, Config{Addr: "127.0.0.1:0", Bootstrap: []string{dual4}, QueryRate: -1}))
		v6s = append(v6s, newTestServer(t, Config{Addr: "[::1]:0", Bootstrap: []string{dual6}, QueryRate: -1}))
	}
	waitfor.Cond(t, 10*time.Second, "both tables of the dual-stack node to fill", func() bool {
		st := dual.Stats()
		return st.Nodes4 == 3 && st.Nodes6 == 3
	})
	ctx := t.Context()
	ih := RandomID()
	if err := v4s[0].Announce(ctx, ih, 4000, false); err != nil {
		t.Fatal(err)
	}
	if err := v6s[0].Announce(ctx, ih, 6000, false); err != nil {
		t.Fatal(err)
	}
	got := collect(dual.GetPeers(ctx, ih))
	want := map[netip.AddrPort]bool{
		netip.MustParseAddrPort("127.0.0.1:4000"): true,
		netip.MustParseAddrPort("[::1]:6000"):     true,
	}
	for _, p := range got {
		delete(want, p)
	}
	if len(want) != 0 {
		t.Errorf("GetPeers on the dual-stack node = %v, missing %v", got, want)
	}
	nodes, err := dual.FindNode(ctx, RandomID())
	if err != nil || len(nodes) != 6 {
		t.Errorf("FindNode = %v, %v; want the 3+3 nodes", nodes, err)
	}
}
