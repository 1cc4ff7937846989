package bt

import (
	"github.com/bt-go/bt/internal/peertest"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/waitfor"
)

// TestHashCheckFindsDamage: damage a downloaded file, HashCheck reports
// the damaged piece as failed (and the others as passed), and the torrent
// fetches it again.
func TestHashCheckFindsDamage(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 100_000)
	mi := makeTorrent(t, src, 16<<10)
	s, _ := seedTorrent(t, Config{}, mi, dir)

	// Each check's verdicts are taken when its EventCheckDone arrives: a
	// piece the check failed may be fetched and pass again right after.
	type verdicts struct{ passed, failed []int }
	var mu sync.Mutex
	var passed, failed []int
	checked := make(chan verdicts, 4)
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
				checked <- verdicts{passed, failed}
				passed, failed = nil, nil
			}
		}})
	waitfor.Recv(t, checked, 30*time.Second, "the initial check of an empty directory")
	waitComplete(t, tor, 30*time.Second)
	// Two seeds part: the piece lost below must make the leecher dial the
	// seed again at once, not after reconnectWait (30 s).
	waitfor.Cond(t, 10*time.Second, "the seeds to part", func() bool { return len(tor.Peers()) == 0 })

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
	v := <-checked
	if len(v.failed) != 1 || v.failed[0] != 3 || len(v.passed) != mi.Info.NumPieces()-1 {
		t.Errorf("check: failed %v, %d passed; want [3] and %d", v.failed, len(v.passed), mi.Info.NumPieces()-1)
	}
	waitComplete(t, tor, reconnectWait-5*time.Second)
	peertest.SameFiles(t, src, filepath.Join(dir, "leech", "tree"))
}
