package metadata

import (
	"bytes"
	"context"
	"crypto/sha1"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/bencode"
	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/wire"
)

// TestFetchFromTwoLibtorrentSeeds fetches metadata of several pieces from
// two libtorrent seeds at once through one Fetcher.
func TestFetchFromTwoLibtorrentSeeds(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "payload.bin")
	peertest.WriteRandomFile(t, data, 32<<20)
	// 2048 pieces of 16 KiB: 40 KiB of hashes, three metadata pieces.
	torrent, _ := peertest.CreateTorrent(t, data, peertest.CreateOptions{V1Only: true, PieceSize: 16 << 10})
	torrentPath := filepath.Join(t.TempDir(), "t.torrent")
	if err := os.WriteFile(torrentPath, torrent, 0o644); err != nil {
		t.Fatal(err)
	}
	var mi struct {
		Info bencode.RawMessage `bencode:"info"`
	}
	if err := bencode.Unmarshal(torrent, &mi); err != nil {
		t.Fatal(err)
	}
	ih := sha1.Sum(mi.Info)

	f := NewFetcher(ih, FetcherConfig{MaxOutstanding: 1})
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var conns []*wire.Conn
	for i := range 2 {
		lt := peertest.StartLibtorrent(t, nil)
		ihHex := lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: torrentPath, SavePath: dir, SeedMode: true})
		lt.WaitStatus(t, ihHex, 30*time.Second, func(s peertest.Status) bool { return s.State == "seeding" })
		c, err := wire.Dial(ctx, lt.Addr(), &wire.Config{InfoHash: ih, PeerID: [20]byte{byte(i + 1)}})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { c.Close(); <-c.Done() }()
		c.Use(New(Config{Fetcher: f}))
		conns = append(conns, c)
	}
	// Start both at once so that both are likely registered before the
	// first piece arrives.
	for _, c := range conns {
		if err := c.Start(wire.Funcs{}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, mi.Info) {
		t.Fatal("fetched metadata differs")
	}
	f.mu.Lock()
	suppliers := map[string]int{}
	for _, p := range f.from {
		suppliers[p.key]++
	}
	f.mu.Unlock()
	t.Logf("%d bytes in %d pieces, by supplier: %v", len(got), numPieces(int64(len(got))), suppliers)
	// Which peer answers first is up to the network: a single supplier is
	// possible, if unlikely, when one handshake arrives well before the
	// other.
	if len(suppliers) == 0 {
		t.Error("no supplier recorded")
	}
}
