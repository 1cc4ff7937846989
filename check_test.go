package bt

import (
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestHashCheckFindsDamage: damage a downloaded file, HashCheck reports
// the damaged piece as failed (and the others as passed), and the torrent
// fetches it again.
func TestHashCheckFindsDamage(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 100_000)
	mi := makeTorrent(t, src, 16<<10)
	s, _ := seedTorrent(t, Config{}, mi, dir)

	var mu sync.Mutex
	var passed, failed []int
	checked := make(chan struct{}, 4)
	c := newTestClient(t, Config{})
	tor, _ := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), Peers: []netip.AddrPort{loopback(s.Port())},
		OnEvent: func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			switch e.Type {
			case EventHashPass:
				passed = append(passed, e.Piece)
			case EventHashFail:
				failed = append(failed, e.Piece)
			case EventCheckDone:
				checked <- struct{}{}
			}
		}})
	<-checked // the initial check of an empty directory
	waitComplete(t, tor, 30*time.Second)

	// Damage one byte of piece 3.
	p := filepath.Join(dir, "leech", "tree", "a.dat")
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{'X'}, 3*16<<10+5)
	f.Close()
	mu.Lock()
	passed, failed = nil, nil
	mu.Unlock()
	if err := tor.HashCheck(); err != nil {
		t.Fatal(err)
	}
	<-checked
	mu.Lock()
	if len(failed) != 1 || failed[0] != 3 || len(passed) != mi.Info.NumPieces()-1 {
		t.Errorf("check: failed %v, %d passed; want [3] and %d", failed, len(passed), mi.Info.NumPieces()-1)
	}
	mu.Unlock()
	if tor.Seeding() {
		t.Fatal("still seeding with a damaged piece")
	}
	waitComplete(t, tor, 30*time.Second)
	sameTree(t, src, filepath.Join(dir, "leech", "tree"))
}
