package dht

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bt-go/bt/internal/waitfor"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newTestServer starts a Server on 127.0.0.1 closed at the end of the test.
func newTestServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Addr == "" && cfg.PacketConn == nil {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.QueryTimeout == 0 {
		cfg.QueryTimeout = time.Second
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func hasNode(s *Server, addr netip.AddrPort) bool {
	for _, n := range s.Nodes() {
		if n.Addr == addr {
			return true
		}
	}
	return false
}

func collect(ch <-chan []netip.AddrPort) []netip.AddrPort {
	var out []netip.AddrPort
	for p := range ch {
		out = append(out, p...)
	}
	return out
}

func TestTwoNodes(t *testing.T) {
	a := newTestServer(t, Config{})
	b := newTestServer(t, Config{Bootstrap: []string{a.Addr().String()}})
	waitfor.Cond(t, 5*time.Second, "b knows a", func() bool { return hasNode(b, a.Addr()) })
	waitfor.Cond(t, 5*time.Second, "a knows b", func() bool { return hasNode(a, b.Addr()) })

	ih := RandomID()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Announce(ctx, ih, 4242, false); err != nil {
		t.Fatalf("Announce: %v", err)
	}
	if got := a.Stats().Peers; got != 1 {
		t.Fatalf("a stores %d peers, want 1", got)
	}
	c := newTestServer(t, Config{Bootstrap: []string{a.Addr().String()}})
	peers := collect(c.GetPeers(ctx, ih))
	want := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 4242)
	if len(peers) != 1 || peers[0] != want {
		t.Fatalf("GetPeers = %v, want [%v]", peers, want)
	}
	// implied_port: the announced port is our UDP port.
	ih2 := RandomID()
	if err := c.Announce(ctx, ih2, 1, true); err != nil {
		t.Fatalf("Announce: %v", err)
	}
	peers = collect(b.GetPeers(ctx, ih2))
	if len(peers) != 1 || peers[0] != c.Addr() {
		t.Fatalf("GetPeers = %v, want [%v]", peers, c.Addr())
	}
}
