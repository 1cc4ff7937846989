package swarmsim

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/wire"
)

// hostile starts a peer of the test's making on a new host: it answers
// handshakes for mi and hands each connection to behave, which starts it.
func hostile(t *testing.T, s *Swarm, mi *metainfo.MetaInfo, name string, behave func(c *wire.Conn)) netip.AddrPort {
	t.Helper()
	ln, host := s.Host(t)
	var id [20]byte
	copy(id[:], fmt.Sprintf("-XX0001-%-12s", name))
	layout := mi.Info.Layout()
	cfg := &wire.Config{InfoHash: mi.InfoHash, PeerID: id, PieceLength: layout.PieceLength, TotalLength: layout.TotalLength}
	var mu sync.Mutex
	var conns []*wire.Conn
	wl := wire.NewListener(ln, wire.ListenConfig{
		Torrent: func(wire.Handshake, net.Addr) *wire.Config { return cfg },
		Connected: func(c *wire.Conn) {
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			behave(c)
		},
	})
	t.Cleanup(func() {
		wl.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
			<-c.Done()
		}
	})
	return netip.AddrPortFrom(host, 6881)
}

// TestHostileMembers: among a seed and 4 honest leechers are a peer that
// serves corrupt blocks, one that claims every piece and never answers a
// request, and one that floods HAVE messages without ever unchoking. The
// honest leechers complete with intact data, and the corrupt peer, and
// only it, is banned.
func TestHostileMembers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s Swarm
		s.Net.Link = Link{Latency: 20 * time.Millisecond, Bandwidth: 1 << 20}
		dir := t.TempDir()
		mi := makeTorrent(t, filepath.Join(dir, "seed"), "data", 2<<20, 32<<10, 5)
		data, err := os.ReadFile(filepath.Join(dir, "seed", "data"))
		if err != nil {
			t.Fatal(err)
		}
		pieces := mi.Info.NumPieces()
		pieceLen := mi.Info.PieceLength

		liar := hostile(t, &s, mi, "liar", func(c *wire.Conn) {
			c.Bitfield(bitfield.Full(pieces))
			c.Start(wire.Funcs{Message: func(c *wire.Conn, m *wire.Message) {
				switch m.Type {
				case wire.MsgInterested:
					c.Unchoke()
				case wire.MsgRequest:
					off := int64(m.Index)*pieceLen + int64(m.Begin)
					b := slices.Clone(data[off : off+int64(m.Length)])
					b[0] ^= 0xff
					c.Piece(m.Index, m.Begin, b)
				}
			}})
		})
		silent := hostile(t, &s, mi, "silent", func(c *wire.Conn) {
			c.Bitfield(bitfield.Full(pieces))
			c.Start(wire.Funcs{Message: func(c *wire.Conn, m *wire.Message) {
				if m.Type == wire.MsgInterested {
					c.Unchoke() // and then never sends a block
				}
			}})
		})
		flooder := hostile(t, &s, mi, "flooder", func(c *wire.Conn) {
			c.Start(wire.Funcs{})
			go func() {
				for {
					for i := range pieces {
						if c.Have(i) != nil {
							return
						}
					}
					select {
					case <-c.Done():
						return
					case <-time.After(10 * time.Millisecond):
					}
				}
			}()
		})

		seed, seedAddr := s.Client(t, bt.Config{MaxUploadRate: 1 << 20})
		st, err := seed.AddTorrent(mi, &bt.TorrentOptions{Dir: filepath.Join(dir, "seed")})
		if err != nil {
			t.Fatal(err)
		}
		waitSeeding(t, st)
		var mu sync.Mutex
		banned := map[netip.AddrPort]int{}
		const n = 4
		tors, _ := addLeechers(t, &s, mi, dir, n, []netip.AddrPort{liar, silent, flooder, seedAddr}, bt.Config{}, func(e bt.Event) {
			if e.Type == bt.EventPeerBanned {
				mu.Lock()
				banned[e.Peer]++
				mu.Unlock()
			}
		})
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		for i, tor := range tors {
			if err := tor.WaitComplete(ctx); err != nil {
				t.Fatalf("leecher %d: %v (%d of %d pieces)", i, err, tor.Bitfield().Count(), pieces)
			}
			peertest.SameFiles(t, filepath.Join(dir, "seed"), filepath.Join(dir, fmt.Sprint("leech", i)))
		}
		mu.Lock()
		defer mu.Unlock()
		t.Logf("%d honest leechers complete in %v (simulated); bans: %v (liar %v)", n, time.Since(start), banned, liar)
		if banned[liar] == 0 {
			t.Error("the corrupt peer was banned by nobody")
		}
		for a := range banned {
			if a != liar {
				t.Errorf("%v was banned, but it only stalled or chattered", a)
			}
		}
	})
}
