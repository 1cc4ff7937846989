package bt

import (
	"context"
	"crypto/rand"
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/wire"
	"github.com/bt-go/bt/wire/metadata"
)

// metaAdversary is a peer that announces the torrent's metadata and
// misbehaves when asked for it.
type metaAdversary struct {
	name   string
	info   []byte                                         // what it claims to have
	answer func(piece int, info []byte) *metadata.Message // nil: stay silent

	requests atomic.Int32
	mu       sync.Mutex
	conns    []*wire.Conn
}

func (a *metaAdversary) Name() string { return metadata.Name }
func (a *metaAdversary) ExtendHandshake(h *wire.ExtendedHandshake) {
	h.MetadataSize = int64(len(a.info))
}
func (a *metaAdversary) PeerHandshake(*wire.Conn, *wire.ExtendedHandshake, bool) {}
func (a *metaAdversary) Close(*wire.Conn)                                        {}
func (a *metaAdversary) HandleMessage(c *wire.Conn, payload []byte) error {
	m, err := metadata.ParseMessage(payload)
	if err != nil || m.Type != metadata.MsgRequest {
		return nil
	}
	a.requests.Add(1)
	if r := a.answer(m.Piece, a.info); r != nil {
		b, _ := r.Marshal()
		c.SendExtended(metadata.Name, b)
	}
	return nil
}

// serve accepts connections for ih on 127.0.0.1 until the test ends.
func (a *metaAdversary) serve(t *testing.T, ih [20]byte) netip.AddrPort {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		a.mu.Lock()
		for _, c := range a.conns {
			c.Close()
		}
		a.mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			cfg := &wire.Config{InfoHash: ih}
			rand.Read(cfg.PeerID[:])
			c, err := wire.NewConn(context.Background(), nc, cfg)
			if err != nil {
				continue
			}
			c.Use(a)
			a.mu.Lock()
			a.conns = append(a.conns, c)
			a.mu.Unlock()
			c.Start(wire.Funcs{})
			wg.Go(func() { <-c.Done() })
		}
	})
	return netip.MustParseAddrPort(ln.Addr().String())
}

// closedByClient reports whether every connection it had has ended.
func (a *metaAdversary) allClosed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.conns {
		select {
		case <-c.Done():
		default:
			return false
		}
	}
	return len(a.conns) > 0
}

// TestMagnetWithBadMetadataPeers: a magnet link whose first peers are a
// silent one, one answering a piece that does not exist and one serving
// metadata that fails the info hash gets its metadata as soon as an honest
// peer (libtorrent) arrives: the bad peers hold nothing up, and the two
// that broke the rules are disconnected. Before, each bad peer held the
// metadata pieces for a full 20 s time-out in turn (32 s in an outside
// suite), and the peer that failed the hash stayed connected.
func TestMagnetWithBadMetadataPeers(t *testing.T) {
	peertest.RequireLibtorrent(t)
	dir := t.TempDir()
	_, mi, file, _ := ltTorrent(t, dir, true, 3<<20, 1<<20)
	raw := []byte(mi.InfoBytes)
	liar := append([]byte(nil), raw...)
	liar[len(liar)/2] ^= 1
	data := func(piece int, info []byte) *metadata.Message {
		start := piece * metadata.PieceSize
		if start >= len(info) {
			return &metadata.Message{Type: metadata.MsgReject, Piece: piece}
		}
		return &metadata.Message{Type: metadata.MsgData, Piece: piece, TotalSize: int64(len(info)),
			Data: info[start:min(start+metadata.PieceSize, len(info))]}
	}
	silent := &metaAdversary{name: "silent", info: raw, answer: func(int, []byte) *metadata.Message { return nil }}
	outOfRange := &metaAdversary{name: "out of range", info: raw, answer: func(piece int, info []byte) *metadata.Message {
		m := data(0, info)
		m.Piece = piece + 1000
		return m
	}}
	badHash := &metaAdversary{name: "bad hash", info: liar, answer: data}
	bad := []*metaAdversary{silent, outOfRange, badHash}

	c := newTestClient(t, Config{})
	tor, err := c.AddMagnet(mi.Magnet().String(), &TorrentOptions{Dir: filepath.Join(dir, "leech")})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range bad {
		tor.AddPeers(a.serve(t, mi.InfoHash))
	}
	waitfor.Cond(t, 30*time.Second, "the silent peer to be asked for the metadata", func() bool { return silent.requests.Load() > 0 })
	if tor.HasMetadata() {
		t.Fatal("metadata without an honest peer")
	}

	lt := peertest.StartLibtorrent(t, nil)
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: filepath.Join(dir, "seed"), SeedMode: true})
	start := time.Now()
	tor.AddPeers(ltAddr(t, lt))
	waitfor.Cond(t, 120*time.Second, "the metadata", tor.HasMetadata)
	t.Logf("metadata %v after the honest peer was added; requests to the bad peers: silent %d, out of range %d, bad hash %d",
		time.Since(start).Round(time.Millisecond), silent.requests.Load(), outOfRange.requests.Load(), badHash.requests.Load())
	for _, a := range []*metaAdversary{outOfRange, badHash} {
		waitfor.Cond(t, 30*time.Second, "the "+a.name+" peer to be disconnected", a.allClosed)
	}
	if badHash.requests.Load() == 0 || outOfRange.requests.Load() == 0 {
		t.Errorf("bad peers never asked: out of range %d, bad hash %d", outOfRange.requests.Load(), badHash.requests.Load())
	}
}
