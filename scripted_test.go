package bt

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/wire"
)

// These tests check single rules of the engine with a scripted peer made
// of package wire alone: what the engine sends is observed on the wire.

// scriptedPeer is a wire.Conn to a bt client that records the messages it gets.
// With data set it unchokes on interest and answers requests from it;
// otherwise it leaves requests unanswered.
type scriptedPeer struct {
	conn *wire.Conn
	data []byte // the torrent's content, or nil
	plen int64

	mu   sync.Mutex
	msgs []wire.Message // Block not kept
}

// dialScripted connects a scripted peer to port for mi, announcing have (nil: have
// none) and unchoking interested peers when unchoke is set.
func dialScripted(t *testing.T, port int, mi *metainfo.MetaInfo, have *bitfield.Bitfield, data []byte, unchoke bool) *scriptedPeer {
	t.Helper()
	var pid [20]byte
	copy(pid[:], "-FK0001-")
	rand.Read(pid[8:])
	cfg := &wire.Config{InfoHash: mi.InfoHash, PeerID: pid, PieceLength: mi.Info.PieceLength, TotalLength: mi.Info.TotalLength()}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wire.Dial(ctx, fmt.Sprintf("127.0.0.1:%d", port), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); <-c.Done() })
	f := &scriptedPeer{conn: c, data: data, plen: mi.Info.PieceLength}
	if have == nil {
		err = c.HaveNone()
	} else {
		err = c.Bitfield(*have)
	}
	if err == nil {
		err = c.Start(scriptedHandler{f, unchoke})
	}
	if err != nil {
		t.Fatal(err)
	}
	return f
}

type scriptedHandler struct {
	f       *scriptedPeer
	unchoke bool
}

func (h scriptedHandler) HandleMessage(c *wire.Conn, m *wire.Message) {
	f := h.f
	f.mu.Lock()
	r := *m
	r.Block, r.Bitfield = nil, nil
	f.msgs = append(f.msgs, r)
	f.mu.Unlock()
	switch {
	case m.Type == wire.MsgInterested && h.unchoke:
		c.Unchoke()
	case m.Type == wire.MsgRequest && f.data != nil:
		off := int64(m.Index)*f.plen + int64(m.Begin)
		c.Piece(m.Index, m.Begin, f.data[off:off+int64(m.Length)])
	}
}

func (scriptedHandler) HandleEvent(*wire.Conn, wire.Event) {}

// got returns the messages of type typ received so far.
func (f *scriptedPeer) got(typ wire.MessageType) []wire.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []wire.Message
	for _, m := range f.msgs {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

// indices returns the piece indices of the messages of type typ, sorted.
func (f *scriptedPeer) indices(typ wire.MessageType) []int {
	var out []int
	for _, m := range f.got(typ) {
		out = append(out, m.Index)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestHaveToEveryPeer: a leecher tells every connected peer, not only the
// one that sent the data, of each piece it verifies.
func TestHaveToEveryPeer(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 200_000)
	mi := makeTorrent(t, src, 16<<10)
	s, _ := seedTorrent(t, Config{}, mi, dir)

	c := newTestClient(t, Config{})
	lt, _ := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech")})
	var watchers []*scriptedPeer
	for range 2 {
		watchers = append(watchers, dialScripted(t, c.Port(), mi, nil, nil, false))
	}
	waitfor.Cond(t, 10*time.Second, "the watchers to be connected", func() bool { return len(lt.Peers()) == 2 })
	lt.AddPeers(loopback(s.Port()))
	waitComplete(t, lt, 30*time.Second)
	n := mi.Info.NumPieces()
	for k, w := range watchers {
		waitfor.Cond(t, 10*time.Second, fmt.Sprintf("watcher %d to hear of every piece", k), func() bool {
			return len(w.indices(wire.MsgHave)) == n
		})
		if len(w.got(wire.MsgHaveNone)) != 1 {
			t.Errorf("watcher %d: the empty leecher did not announce have none", k)
		}
	}
}

// TestAllowedFastSent: a seed grants a fast-extension peer the BEP 6
// allowed-fast set computed for its address.
func TestAllowedFastSent(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 400_000)
	mi := makeTorrent(t, src, 16<<10) // 25 pieces
	s, _ := seedTorrent(t, Config{}, mi, dir)
	f := dialScripted(t, s.Port(), mi, nil, nil, false)
	want := wire.AllowedFastSet(net.IPv4(127, 0, 0, 1), mi.InfoHash, mi.Info.NumPieces(), allowedFastCount)
	slices.Sort(want)
	waitfor.Cond(t, 10*time.Second, "the allowed-fast set", func() bool { return len(f.got(wire.MsgAllowedFast)) >= len(want) })
	if got := f.indices(wire.MsgAllowedFast); !slices.Equal(got, want) {
		t.Fatalf("allowed fast %v, want %v", got, want)
	}
	if len(f.got(wire.MsgHaveAll)) != 1 || len(f.got(wire.MsgBitfield)) != 0 {
		t.Fatal("a seed speaking the fast extension did not announce itself with have all")
	}
}

// TestEndGameCancelsDuplicates: in the end game a block asked of two peers
// is canceled at the one that did not deliver it.
func TestEndGameCancelsDuplicates(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 64<<10)
	mi := makeTorrent(t, src, 32<<10) // 2 pieces of 2 blocks
	data, err := os.ReadFile(filepath.Join(src, "a.dat"))
	if err != nil {
		t.Fatal(err)
	}
	// Time-outs long enough that only the end game cancels anything.
	c := newTestClient(t, Config{RequestTimeout: 10 * time.Minute})
	lt, _ := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech")})

	// A peer with piece 0 that never answers: the leecher asks it for
	// piece 0's blocks.
	only0 := bitfield.New(2)
	only0.Set(0)
	holder := dialScripted(t, c.Port(), mi, &only0, nil, true)
	waitfor.Cond(t, 10*time.Second, "requests to the holder", func() bool { return len(holder.got(wire.MsgRequest)) == 2 })

	// A seed that answers: piece 1 is started, so the end game begins and
	// piece 0's blocks are asked of it too.
	full := bitfield.Full(2)
	dialScripted(t, c.Port(), mi, &full, data, true)
	waitComplete(t, lt, 30*time.Second)
	waitfor.Cond(t, 10*time.Second, "cancels at the holder", func() bool { return len(holder.got(wire.MsgCancel)) == 2 })
	reqs, cancels := holder.got(wire.MsgRequest), holder.got(wire.MsgCancel)
	for _, r := range reqs {
		if !slices.ContainsFunc(cancels, func(m wire.Message) bool {
			return m.Index == r.Index && m.Begin == r.Begin && m.Length == r.Length
		}) {
			t.Errorf("request %d:%d+%d never canceled (cancels %v)", r.Index, r.Begin, r.Length, cancels)
		}
	}
}

// TestClientMaxConns: Config.MaxConns bounds connections over all the
// client's torrents.
func TestClientMaxConns(t *testing.T) {
	dir := t.TempDir()
	srcA := makeData(t, filepath.Join(dir, "seed"), "alpha", 50_000)
	srcB := makeData(t, filepath.Join(dir, "seed"), "beta", 60_000)
	miA, miB := makeTorrent(t, srcA, 16<<10), makeTorrent(t, srcB, 16<<10)
	s := newTestClient(t, Config{MaxConns: 2})
	ta, _ := s.AddTorrent(miA, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	tb, _ := s.AddTorrent(miB, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	waitSeeding(t, ta, 10*time.Second)
	waitSeeding(t, tb, 10*time.Second)
	dialScripted(t, s.Port(), miA, nil, nil, false)
	dialScripted(t, s.Port(), miB, nil, nil, false)
	waitfor.Cond(t, 10*time.Second, "two connections", func() bool { return len(ta.Peers())+len(tb.Peers()) == 2 })
	third := dialScripted(t, s.Port(), miB, nil, nil, false)
	select {
	case <-third.conn.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a third connection was kept with MaxConns 2")
	}
	if n := len(ta.Peers()) + len(tb.Peers()); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

// TestDuplicateAtConnectionLimit: when a peer we are connected to dials us
// while we dial it, and the client has no connection to spare, the
// connection we have stays (the replacement is refused, not both lost).
func TestDuplicateAtConnectionLimit(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 50_000)
	mi := makeTorrent(t, src, 16<<10)
	a, ta := seedTorrent(t, Config{MaxConns: 1}, mi, dir)
	// The peer's id sorts above ours, so the connection we open is the one
	// both sides keep: ours replaces its incoming one.
	var pid [20]byte
	for i := range pid {
		pid[i] = 0xff
	}
	cfg := &wire.Config{InfoHash: mi.InfoHash, PeerID: pid, PieceLength: mi.Info.PieceLength, TotalLength: mi.Info.TotalLength()}
	var mu sync.Mutex
	var conns []*wire.Conn
	start := func(c *wire.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		c.HaveNone()
		c.Start(wire.Funcs{})
	}
	ln, err := wire.Listen("127.0.0.1:0", wire.ListenConfig{
		Torrent:   func(wire.Handshake, net.Addr) *wire.Config { return cfg },
		Connected: start,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
			waitfor.Recv(t, c.Done(), 10*time.Second, "a fake connection to close")
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wire.Dial(ctx, fmt.Sprintf("127.0.0.1:%d", a.Port()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	start(c)
	waitfor.Cond(t, 10*time.Second, "the incoming connection", func() bool { return len(ta.Peers()) == 1 })
	ta.AddPeers(addrPortOf(ln.Addr()))
	var dialled *wire.Conn
	waitfor.Cond(t, 10*time.Second, "our dial to arrive", func() bool {
		mu.Lock()
		defer mu.Unlock()
		if len(conns) == 2 {
			dialled = conns[1]
		}
		return dialled != nil
	})
	select {
	case <-dialled.Done(): // refused
	case <-time.After(10 * time.Second):
		t.Fatal("the replacing connection was kept over the limit")
	}
	if n := len(ta.Peers()); n != 1 {
		t.Fatalf("%d connections after the refused replacement, want 1", n)
	}
	select {
	case <-c.Done():
		t.Fatal("the kept connection was closed")
	default:
	}
}

// TestPeerInfo: Torrent.Peers describes a connection: address, peer id,
// client name, flags and progress.
func TestPeerInfo(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 64<<10)
	mi := makeTorrent(t, src, 16<<10) // 4 pieces
	s, st := seedTorrent(t, Config{}, mi, dir)
	half := bitfield.New(4)
	half.Set(1)
	half.Set(3)
	f := dialScripted(t, s.Port(), mi, &half, nil, false)
	if err := f.conn.Interested(); err != nil {
		t.Fatal(err)
	}
	var pi PeerInfo
	waitfor.Cond(t, 10*time.Second, "the peer, interested", func() bool {
		ps := st.Peers()
		if len(ps) == 1 {
			pi = ps[0]
		}
		return len(ps) == 1 && pi.Flags.PeerInterested
	})
	if id := f.conn.OurHandshake().PeerID; pi.PeerID != id || pi.Addr != addrPortOf(f.conn.LocalAddr()) {
		t.Errorf("peer %v %q, want %v %q", pi.Addr, pi.PeerID[:8], f.conn.LocalAddr(), id[:8])
	}
	if !pi.Flags.Incoming || pi.Flags.AmInterested || pi.Progress != 0.5 || pi.Client == "" || pi.Connected.IsZero() {
		t.Errorf("peer info %+v", pi)
	}
}

// TestAllowedFastHonoured: a peer that keeps us choked but allows a piece
// fast is asked for that piece, and only that one.
func TestAllowedFastHonoured(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 128<<10)
	mi := makeTorrent(t, src, 16<<10) // 8 pieces
	c := newTestClient(t, Config{})
	if _, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech")}); err != nil {
		t.Fatal(err)
	}
	full := bitfield.Full(8)
	f := dialScripted(t, c.Port(), mi, &full, nil, false)
	if err := f.conn.AllowedFast(5); err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 10*time.Second, "requests for the allowed piece", func() bool { return len(f.got(wire.MsgRequest)) > 0 })
	if got := f.indices(wire.MsgRequest); !slices.Equal(got, []int{5}) {
		t.Fatalf("requested pieces %v while choked, want [5]", got)
	}
}

// TestNoSeed: after completing, a torrent seeds by default; with
// Config.NoSeed it unchokes nobody.
func TestNoSeed(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 64<<10)
	mi := makeTorrent(t, src, 16<<10)
	s, _ := seedTorrent(t, Config{}, mi, dir)
	for _, noSeed := range []bool{false, true} {
		c := newTestClient(t, Config{NoSeed: noSeed})
		lt, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, fmt.Sprint("leech", noSeed)),
			Peers: []netip.AddrPort{loopback(s.Port())}})
		if err != nil {
			t.Fatal(err)
		}
		waitComplete(t, lt, 30*time.Second)
		f := dialScripted(t, c.Port(), mi, nil, nil, false)
		if err := f.conn.Interested(); err != nil {
			t.Fatal(err)
		}
		me := f.conn.OurHandshake().PeerID
		var pi PeerInfo
		waitfor.Cond(t, 10*time.Second, "the interested peer", func() bool {
			for _, p := range lt.Peers() {
				if p.PeerID == me {
					pi = p
				}
			}
			return pi.Flags.PeerInterested
		})
		lt.call(func() { lt.chokeRound(time.Now()) })
		for _, p := range lt.Peers() {
			if p.PeerID == me {
				pi = p
			}
		}
		if pi.Flags.AmChoking != noSeed {
			t.Errorf("NoSeed %v: choking the interested peer: %v", noSeed, pi.Flags.AmChoking)
		}
	}
}
