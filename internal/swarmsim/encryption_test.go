package swarmsim

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/internal/peertest"
)

// TestEncryptionOverAnyTransport: Message Stream Encryption does not care
// what carries it. A seed that requires encryption and leechers with each
// other policy but "disabled" trade over the in-memory network, and each
// connection to the seed is RC4.
func TestEncryptionOverAnyTransport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s Swarm
		s.Net.Link = Link{Latency: 5 * time.Millisecond, Bandwidth: 4 << 20}
		dir := t.TempDir()
		mi := makeTorrent(t, filepath.Join(dir, "seed"), "data", 1<<20, 32<<10, 7)
		seed, seedAddr := s.Client(t, bt.Config{Encryption: bt.EncryptionRequired})
		st, err := seed.AddTorrent(mi, &bt.TorrentOptions{Dir: filepath.Join(dir, "seed")})
		if err != nil {
			t.Fatal(err)
		}
		waitSeeding(t, st)
		var tors []*bt.Torrent
		for i, pol := range []bt.Encryption{bt.EncryptionTolerated, bt.EncryptionPreferred, bt.EncryptionRequired} {
			c, _ := s.Client(t, bt.Config{Encryption: pol})
			tor, err := c.AddTorrent(mi, &bt.TorrentOptions{Dir: filepath.Join(dir, fmt.Sprint("leech", i)), Peers: []netip.AddrPort{seedAddr}})
			if err != nil {
				t.Fatal(err)
			}
			tors = append(tors, tor)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		encs := make([]string, len(tors))
		seen := make([]bool, len(tors))
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			left := 0
			for i, tor := range tors {
				for _, p := range tor.Peers() {
					if p.Addr == seedAddr && !seen[i] {
						encs[i], seen[i] = p.Encryption, true
					}
				}
				if !seen[i] {
					left++
				}
			}
			if left == 0 {
				break
			}
		}
		for i, tor := range tors {
			if encs[i] != "rc4" {
				t.Errorf("leecher %d: connection to the seed is %q, want rc4", i, encs[i])
			}
			if err := tor.WaitComplete(ctx); err != nil {
				t.Fatalf("leecher %d: %v", i, err)
			}
			peertest.SameFiles(t, filepath.Join(dir, "seed"), filepath.Join(dir, fmt.Sprint("leech", i)))
		}
	})
}
