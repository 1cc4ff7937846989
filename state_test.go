package bt

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/wire"
)

// TestPausedMovesNoData: a paused torrent connects but transfers nothing;
// started, it completes. State events follow the changes.
func TestPausedMovesNoData(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 200_000)
	mi := makeTorrent(t, src, 16<<10)
	seeder, _ := seedTorrent(t, Config{}, mi, dir)

	var mu sync.Mutex
	var states []State
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{
		Dir: filepath.Join(dir, "leech"), State: Paused,
		Peers: []netip.AddrPort{loopback(seeder.Port())},
		OnEvent: func(e Event) {
			if e.Type == EventStateChanged {
				mu.Lock()
				states = append(states, e.State)
				mu.Unlock()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if tor.State() != Paused {
		t.Fatalf("state %v, want paused", tor.State())
	}
	waitfor.Cond(t, 10*time.Second, "a connection while paused", func() bool {
		ps := tor.Peers()
		return len(ps) == 1 && ps[0].Progress == 1
	})
	if n := tor.Downloaded(); n != 0 {
		t.Fatalf("paused torrent downloaded %d bytes", n)
	}
	if err := tor.Start(); err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 30*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
	tor.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(states) < 2 || states[len(states)-1] != Started {
		t.Errorf("state events %v, want ... paused, started", states)
	}
}

// TestStoppedRefusesPeers: a stopped torrent has no connections, refuses
// incoming ones, and downloads once started.
func TestStoppedRefusesPeers(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 100_000)
	mi := makeTorrent(t, src, 16<<10)
	seeder, st := seedTorrent(t, Config{}, mi, dir)

	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), State: Stopped})
	if err != nil {
		t.Fatal(err)
	}
	st.AddPeers(loopback(c.Port()))
	// The seeder's dial is refused: give it time to try, then check.
	waitfor.Cond(t, 10*time.Second, "the seeder's dial to be refused", func() bool {
		var tried bool
		st.call(func() { _, tried = st.tried[loopback(c.Port())] })
		dialing := true
		st.call(func() { dialing = st.dialing[loopback(c.Port())] })
		return tried || !dialing
	})
	if n := len(tor.Peers()); n != 0 || tor.State() != Stopped {
		t.Fatalf("stopped torrent: %d peers, state %v", n, tor.State())
	}
	tor.AddPeers(loopback(seeder.Port()))
	if err := tor.Start(); err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 30*time.Second)
	// Stop closes everything; start again resumes seeding.
	if err := tor.Stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(tor.Peers()); n != 0 {
		t.Errorf("%d peers after Stop", n)
	}
	if err := tor.Start(); err != nil {
		t.Fatal(err)
	}
	if !tor.Seeding() {
		t.Error("not seeding after a restart")
	}
}

// TestSelfAndDuplicateConnections: dialling our own port is detected and
// the address never dialled again; a second connection to the same peer is
// dropped.
func TestSelfAndDuplicateConnections(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 50_000)
	mi := makeTorrent(t, src, 16<<10)
	a, ta := seedTorrent(t, Config{}, mi, dir)
	ta.AddPeers(loopback(a.Port()))
	waitfor.Cond(t, 10*time.Second, "self connection detected", func() bool { return a.isSelf(loopback(a.Port())) })
	if n := len(ta.Peers()); n != 0 {
		t.Fatalf("%d peers after dialling ourselves", n)
	}

	// b connects to a; then a dials b too: b refuses the duplicate (same
	// peer id), and each side keeps exactly one connection.
	b := newTestClient(t, Config{})
	tb, _ := b.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), State: Paused})
	tb.AddPeers(loopback(a.Port()))
	waitfor.Cond(t, 10*time.Second, "b connected to a", func() bool { return len(tb.Peers()) == 1 })
	ta.AddPeers(loopback(b.Port()))
	waitfor.Cond(t, 10*time.Second, "a's dial to b to end", func() bool {
		var dialing bool
		ta.call(func() { dialing = ta.dialing[loopback(b.Port())] })
		return !dialing
	})
	if na, nb := len(ta.Peers()), len(tb.Peers()); na != 1 || nb != 1 {
		t.Fatalf("after a duplicate dial: a has %d peers, b %d; want 1 each", na, nb)
	}
}

// TestReconnectReplacesStaleConnection: a peer that connects again from
// the same address while its old connection is still open (it gave that
// one up; we have not seen it close) gets the new one, and the old one is
// closed. One from elsewhere claiming the same peer id is refused.
func TestReconnectReplacesStaleConnection(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 50_000)
	mi := makeTorrent(t, src, 16<<10)
	a, ta := seedTorrent(t, Config{}, mi, dir)

	var pid [20]byte
	copy(pid[:], "-XX0001-reconnecting")
	dial := func(local string) (*wire.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
		nc, err := d.Dial("tcp", loopback(a.Port()).String())
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := wire.ClientHandshake(ctx, nc, &wire.Config{InfoHash: mi.InfoHash, PeerID: pid,
			PieceLength: mi.Info.PieceLength, TotalLength: mi.Info.TotalLength()})
		if err != nil {
			nc.Close()
			return nil, err
		}
		if err := c.Start(nopHandler{}); err != nil {
			return nil, err
		}
		t.Cleanup(func() { c.Close(); <-c.Done() })
		return c, nil
	}
	first, err := dial("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 10*time.Second, "the first connection", func() bool { return len(ta.Peers()) == 1 })
	second, err := dial("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-first.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the stale connection was kept")
	}
	waitfor.Cond(t, 10*time.Second, "the new connection to be the one", func() bool {
		ps := ta.Peers()
		return len(ps) == 1 && ps[0].Addr == addrPortOf(second.LocalAddr())
	})

	// Another address (127.0.0.2 is loopback too) with the same peer id.
	third, err := dial("127.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-third.Done():
	case <-second.Done():
		t.Fatal("a connection from elsewhere with the same peer id replaced the peer's")
	case <-time.After(10 * time.Second):
		t.Fatal("the impostor's connection was kept")
	}
}
