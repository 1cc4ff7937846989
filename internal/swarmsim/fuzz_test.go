package swarmsim

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/wire"
)

// FuzzSession: a torrent that holds half its data talks to one simulated
// peer whose bytes after a valid handshake come from the fuzzer, for two
// minutes of synctest's clock. Whatever the peer says, nothing panics,
// every goroutine ends when the client closes (synctest.Test and goleak
// check), the torrent does not stop with an error, and no verified piece
// is lost.
func FuzzSession(f *testing.F) {
	// Seeds: nothing; a bitfield, an unchoke and a piece; a bitfield too
	// long; a length prefix of 4 GiB; a stray extended message.
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 2, 5, 0xff, 0, 0, 0, 1, 1, 0, 0, 0, 13, 7, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
	f.Add([]byte{0, 0, 0, 9, 5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 7})
	f.Add([]byte{0, 0, 0, 4, 20, 0, 'd', 'e'})

	dir := f.TempDir()
	mi := makeTorrent(f, filepath.Join(dir, "seed"), "data", 256<<10, 16<<10, 6)
	full, err := os.ReadFile(filepath.Join(dir, "seed", "data"))
	if err != nil {
		f.Fatal(err)
	}
	half := make([]byte, len(full))
	copy(half, full[:len(full)/2])

	f.Fuzz(func(t *testing.T, stream []byte) {
		synctest.Test(t, func(t *testing.T) {
			var s Swarm
			leechDir := t.TempDir()
			if err := os.WriteFile(filepath.Join(leechDir, "data"), half, 0o644); err != nil {
				t.Fatal(err)
			}
			ln, host := s.Host(t)
			defer ln.Close()
			c, _ := s.Client(t, bt.Config{})
			tor, err := c.AddTorrent(mi, &bt.TorrentOptions{Dir: leechDir,
				Peers: []netip.AddrPort{netip.AddrPortFrom(host, 6881)}})
			if err != nil {
				t.Fatal(err)
			}
			waitChecked(t, tor)
			had := tor.Bitfield().Count()
			if had == 0 {
				t.Fatal("the initial check found none of the half on disk")
			}

			nc, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := wire.ReadHandshake(nc); err != nil {
				t.Fatalf("reading the torrent's handshake: %v", err)
			}
			var id [20]byte
			copy(id[:], "-XX0001-fuzzfuzzfuzz")
			cfg := &wire.Config{InfoHash: mi.InfoHash, PeerID: id}
			if err := wire.WriteHandshake(nc, cfg.Handshake()); err != nil {
				t.Fatal(err)
			}
			nc.SetDeadline(time.Time{})
			nc.Write(stream)
			time.Sleep(2 * time.Minute)

			if err := tor.Err(); err != nil {
				t.Errorf("the torrent stopped: %v", err)
			}
			if got := tor.Bitfield().Count(); got < had {
				t.Errorf("%d verified pieces before the session, %d after", had, got)
			}
			if !tor.Bitfield().Has(0) {
				t.Error("piece 0, verified on disk, is no longer had")
			}
		})
	})
}

// waitChecked waits for a torrent's initial check to end.
func waitChecked(t *testing.T, tor *bt.Torrent) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); tor.Stats().Checking || tor.Bitfield().Count() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: check not done", tor.Name())
		}
	}
}
