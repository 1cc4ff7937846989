package bt

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/wire"
)

// torrentBytes returns the torrent's byte stream read from dir (pad files
// as zeros).
func torrentBytes(t *testing.T, mi *metainfo.MetaInfo, dir string) []byte {
	t.Helper()
	var out []byte
	for _, f := range mi.Info.Layout().Files {
		if f.Pad {
			out = append(out, make([]byte, f.Length)...)
			continue
		}
		b, err := os.ReadFile(filepath.Join(append([]string{dir}, f.Path...)...))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

// fakePeer is a test peer built on package wire that has every piece and
// serves blocks from data, corrupted where corrupt says so; it rejects
// (BEP 6) the requests refuse names, if refuse is not nil. It stands in for
// one rule only: a peer that lies.
type fakePeer struct {
	ln      *wire.Listener
	mu      sync.Mutex
	conns   []*wire.Conn
	accepts int
}

func startFakePeer(t *testing.T, mi *metainfo.MetaInfo, data []byte, corrupt, refuse func(index, begin int) bool) *fakePeer {
	t.Helper()
	var id [20]byte
	copy(id[:], "-XX0001-liarliarliar")
	fp := &fakePeer{}
	layout := mi.Info.Layout()
	cfg := &wire.Config{InfoHash: mi.InfoHash, PeerID: id, PieceLength: layout.PieceLength, TotalLength: layout.TotalLength}
	h := wire.Funcs{Message: func(c *wire.Conn, m *wire.Message) {
		switch m.Type {
		case wire.MsgInterested:
			c.Unchoke()
		case wire.MsgRequest:
			if refuse != nil && refuse(m.Index, m.Begin) {
				c.Reject(m.Index, m.Begin, m.Length)
				return
			}
			off := int64(m.Index)*layout.PieceLength + int64(m.Begin)
			b := append([]byte(nil), data[off:off+int64(m.Length)]...)
			if corrupt(m.Index, m.Begin) {
				b[len(b)/2] ^= 0x5a
			}
			c.Piece(m.Index, m.Begin, b)
		}
	}}
	ln, err := wire.Listen("127.0.0.1:0", wire.ListenConfig{
		Torrent: func(wire.Handshake, net.Addr) *wire.Config { return cfg },
		Connected: func(c *wire.Conn) {
			fp.mu.Lock()
			fp.conns = append(fp.conns, c)
			fp.accepts++
			fp.mu.Unlock()
			c.Bitfield(bitfield.Full(layout.NumPieces))
			c.Start(h)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	fp.ln = ln
	t.Cleanup(func() {
		ln.Close()
		fp.mu.Lock()
		defer fp.mu.Unlock()
		for _, c := range fp.conns {
			c.Close()
			waitfor.Recv(t, c.Done(), 10*time.Second, "a fake connection to close")
		}
	})
	return fp
}

func (fp *fakePeer) addr() netip.AddrPort {
	return addrPortOf(fp.ln.Addr())
}

// TestCorruptPeerBanned: a peer serving corrupt blocks fails pieces, is
// banned, and the download completes from an honest peer.
func TestCorruptPeerBanned(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 400_000, 200_000)
	mi := makeTorrent(t, src, 32<<10)
	liar := startFakePeer(t, mi, torrentBytes(t, mi, filepath.Join(dir, "seed")), func(int, int) bool { return true }, nil)

	honest := newTestClient(t, Config{})
	st, err := honest.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, st, 10*time.Second)

	var mu sync.Mutex
	var fails int
	var banned []netip.AddrPort
	bannedCh := make(chan struct{}, 1)
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{
		Dir:   filepath.Join(dir, "leech"),
		Peers: []netip.AddrPort{liar.addr()},
		OnEvent: func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			switch e.Type {
			case EventHashFail:
				fails++
			case EventPeerBanned:
				banned = append(banned, e.Peer)
				select {
				case bannedCh <- struct{}{}:
				default:
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-bannedCh:
	case <-time.After(30 * time.Second):
		t.Fatal("the corrupt peer was not banned")
	}
	tor.AddPeers(loopback(honest.Port()), liar.addr())
	waitComplete(t, tor, 60*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
	mu.Lock()
	defer mu.Unlock()
	if fails == 0 {
		t.Error("no hash-fail event")
	}
	if len(banned) != 1 || banned[0] != liar.addr() {
		t.Errorf("banned %v, want only the liar %v", banned, liar.addr())
	}
	for _, p := range tor.Peers() {
		if p.Addr == liar.addr() {
			t.Error("still connected to the banned peer")
		}
	}
}

// TestSmartBan: the liar and an honest seed serve at the same time, so
// failed pieces mix blocks of both. The liar serves only the second block
// of each piece (rejecting the others) and spoils it, so it never sends a
// whole piece alone: strikes tie it with the honest seed, and only the
// evidence of the re-downloaded piece can convict it. Only the liar is
// banned, and the download completes.
func TestSmartBan(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 600_000, 300_000)
	mi := makeTorrent(t, src, 64<<10)
	second := func(index, begin int) bool { return begin/(16<<10) == 1 }
	liar := startFakePeer(t, mi, torrentBytes(t, mi, filepath.Join(dir, "seed")), second,
		func(index, begin int) bool { return !second(index, begin) })
	// The honest seed is slow, so the leecher asks the liar too.
	honest := newTestClient(t, Config{MaxUploadRate: 2 << 20})
	st, err := honest.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, st, 10*time.Second)

	var mu sync.Mutex
	var banned []netip.AddrPort
	var why error
	fails := 0
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{
		Dir:   filepath.Join(dir, "leech"),
		Peers: []netip.AddrPort{liar.addr(), loopback(honest.Port())},
		OnEvent: func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			switch e.Type {
			case EventPeerBanned:
				banned = append(banned, e.Peer)
				if e.Peer == liar.addr() {
					why = e.Err
				}
			case EventHashFail:
				fails++
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 60*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
	// The liar is banned when a piece it spoiled passes: before completion.
	mu.Lock()
	defer mu.Unlock()
	if fails == 0 {
		t.Error("no piece failed its hash: the liar sent nothing, and the test proves nothing")
	}
	if !slices.Contains(banned, liar.addr()) {
		t.Errorf("the liar %v was not banned (banned %v, %d pieces failed)", liar.addr(), banned, fails)
	} else if why == nil || !strings.Contains(why.Error(), "corrupt block") {
		t.Errorf("the liar was banned (%v), but not on the evidence of a re-downloaded piece", why)
	}
	for _, b := range banned {
		if b != liar.addr() {
			t.Errorf("banned %v, an honest peer", b)
		}
	}
}
