package bt

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/waitfor"
	"github.com/bt-go/bt/wire"
)

// TestSuggestJustVerified: a leecher suggests (BEP 6) each piece it has
// just downloaded and verified, still in the page cache, to an interested
// peer it unchoked that lacks the piece.
func TestSuggestJustVerified(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 300_000)
	mi := makeTorrent(t, src, 16<<10)
	s := newTestClient(t, Config{})
	st, err := s.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, st, 10*time.Second)
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech")})
	if err != nil {
		t.Fatal(err)
	}

	// An interested peer with nothing, unchoked before any piece arrives.
	var pid [20]byte
	copy(pid[:], "-XX0001-")
	rand.Read(pid[8:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := wire.Dial(ctx, loopback(c.Port()).String(), &wire.Config{InfoHash: mi.InfoHash, PeerID: pid,
		PieceLength: mi.Info.PieceLength, TotalLength: mi.Info.TotalLength()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { conn.Close(); <-conn.Done() }()
	rec := &suggestRecorder{}
	if err := conn.HaveNone(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Start(rec); err != nil {
		t.Fatal(err)
	}
	if err := conn.Interested(); err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 10*time.Second, "bt to unchoke the interested peer", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.unchoked
	})

	tor.AddPeers(loopback(s.Port()))
	waitComplete(t, tor, 30*time.Second)
	// Suggest follows the piece's Have on the same connection.
	n := mi.Info.NumPieces()
	waitfor.Cond(t, 10*time.Second, "the Have of every piece", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.haves == n
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.suggested) == 0 {
		t.Fatalf("no piece suggested among the %d just verified", n)
	}
	seen := map[int]bool{}
	for _, i := range rec.suggested {
		if i < 0 || i >= n || seen[i] {
			t.Errorf("suggested %d (of %d pieces) twice or out of range: %v", i, n, rec.suggested)
		}
		seen[i] = true
	}
	t.Logf("%d of %d pieces suggested", len(rec.suggested), n)
}

// suggestRecorder records the unchoke, Haves and Suggests it gets.
type suggestRecorder struct {
	mu        sync.Mutex
	unchoked  bool
	haves     int
	suggested []int
}

func (r *suggestRecorder) HandleMessage(_ *wire.Conn, m *wire.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch m.Type {
	case wire.MsgUnchoke:
		r.unchoked = true
	case wire.MsgHave:
		r.haves++
	case wire.MsgSuggest:
		r.suggested = append(r.suggested, m.Index)
	}
}

func (*suggestRecorder) HandleEvent(*wire.Conn, wire.Event) {}
