package bt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/wire"
)

// stallPeer is a seed that serves one piece, then floods the client with
// have messages and answers nothing more, recording what the client sends.
type stallPeer struct {
	data []byte
	plen int

	mu         sync.Mutex
	piece      int // the piece it serves; -1 until the first request
	flooded    bool
	keepAlives int // received after the flood, before the have
	have       chan int
}

func (s *stallPeer) HandleMessage(c *wire.Conn, m *wire.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m.Type {
	case wire.MsgInterested:
		c.Unchoke()
	case wire.MsgRequest:
		if s.piece < 0 {
			s.piece = m.Index
		}
		if m.Index != s.piece {
			return // never answered: times out at the client
		}
		off := m.Index*s.plen + m.Begin
		c.Piece(m.Index, m.Begin, s.data[off:off+m.Length])
		if m.Begin+m.Length == s.plen && !s.flooded {
			// The client's loop now waits for the disk: fill its event
			// queue so its peer readers block.
			s.flooded = true
			for i := range 2000 {
				c.Have(i % (len(s.data) / s.plen))
			}
		}
	case wire.MsgKeepAlive:
		if s.flooded {
			s.keepAlives++
		}
	case wire.MsgHave:
		select {
		case s.have <- m.Index:
		default:
		}
	}
}

func (s *stallPeer) HandleEvent(*wire.Conn, wire.Event) {}

// TestWriterGoesOnUnderBackPressure: while the disk queue is full the
// client stops reading its peers, but a connection's writer must go on: a
// request timing out (reported on the writer goroutine) used to block it
// until the disk caught up, and with it the keep-alives and haves. Here the
// disk takes 3 s for a piece, the requests time out after 300 ms, and the
// peer must still get keep-alives every 200 ms, then the have.
func TestWriterGoesOnUnderBackPressure(t *testing.T) {
	dir := t.TempDir()
	const plen = 32 << 10
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 20*plen)
	mi := makeTorrent(t, src, plen)
	c := newTestClient(t, Config{DiskQueueBytes: 1, HashWorkers: 1, RequestTimeout: 300 * time.Millisecond})
	c.slowDisk = 3 * time.Second
	c.keepAlive = 200 * time.Millisecond
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech")})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 10*time.Second, "the torrent to start", func() bool { return tor.State() == Started })

	data, err := os.ReadFile(filepath.Join(src, "a.dat"))
	if err != nil {
		t.Fatal(err)
	}
	s := &stallPeer{data: data, plen: plen, piece: -1, have: make(chan int, 1)}
	cfg := &wire.Config{InfoHash: mi.InfoHash, PieceLength: plen, TotalLength: mi.Info.TotalLength()}
	copy(cfg.PeerID[:], "-XX0001-stallingpeer")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := wire.Dial(ctx, fmt.Sprintf("127.0.0.1:%d", c.Port()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); <-conn.Done() })
	conn.Bitfield(bitfield.Full(mi.Info.NumPieces()))
	if err := conn.Start(s); err != nil {
		t.Fatal(err)
	}
	select {
	case i := <-s.have:
		s.mu.Lock()
		defer s.mu.Unlock()
		t.Logf("have %d after %d keep-alives during the stall", i, s.keepAlives)
		if i != s.piece {
			t.Errorf("have %d, want %d", i, s.piece)
		}
		if s.keepAlives < 3 {
			t.Errorf("%d keep-alives in the 3 s the disk took; the writer stalled", s.keepAlives)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no have from the client")
	}
}
