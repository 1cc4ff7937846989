package swarmsim

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"testing"

	"github.com/bt-go/bt"
)

// Swarm makes bt.Clients on a Network, each on a host of its own
// (10.0.0.1, 10.0.0.2, ...) listening on port 6881. Use it inside
// synctest.Test: the clients are closed when the test ends.
type Swarm struct {
	Net   Network
	hosts int
}

// Host adds a host to the network and returns its address and a listener
// on its port 6881, for a peer of the test's own making.
func (s *Swarm) Host(t testing.TB) (net.Listener, netip.Addr) {
	t.Helper()
	s.hosts++
	host := netip.AddrFrom4([4]byte{10, 0, byte(s.hosts >> 8), byte(s.hosts)})
	ln, err := s.Net.Listen(netip.AddrPortFrom(host, 6881))
	if err != nil {
		t.Fatal(err)
	}
	return ln, host
}

// Client starts a client on a new host. cfg's Listener and Dial are set to
// the network; the DHT stays off, so the client talks only to the peers
// it is given; logs are discarded unless cfg.Logger is set.
func (s *Swarm) Client(t testing.TB, cfg bt.Config) (*bt.Client, netip.AddrPort) {
	t.Helper()
	ln, host := s.Host(t)
	addr := netip.AddrPortFrom(host, 6881)
	cfg.Listener = ln
	cfg.Dial = func(ctx context.Context, to netip.AddrPort) (net.Conn, error) { return s.Net.Dial(ctx, host, to) }
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := bt.NewClient(cfg)
	if err != nil {
		ln.Close()
		t.Fatal(fmt.Errorf("swarmsim: client on %v: %w", addr, err))
	}
	t.Cleanup(func() { c.Close() })
	return c, addr
}
