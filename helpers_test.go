package bt

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bt-go/bt/metainfo"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// makeData writes a multi-file tree under dir/name: files of the given
// sizes with random content. It returns the tree's path.
func makeData(t testing.TB, dir, name string, sizes ...int) string {
	t.Helper()
	root := filepath.Join(dir, name)
	rng := rand.New(rand.NewPCG(uint64(len(sizes)), 42))
	for i, n := range sizes {
		p := filepath.Join(root, "sub", string(rune('a'+i))+".bin")
		if i%2 == 0 {
			p = filepath.Join(root, string(rune('a'+i))+".dat")
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, n)
		for k := range b {
			b[k] = byte(rng.Uint32())
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// makeTorrent creates a torrent of path with the given piece length.
func makeTorrent(t testing.TB, path string, pieceLen int64) *metainfo.MetaInfo {
	t.Helper()
	mi, err := metainfo.Create(context.Background(), path, metainfo.CreateOptions{PieceLength: pieceLen, NoCreationDate: true})
	if err != nil {
		t.Fatal(err)
	}
	return mi
}

// writeTorrentFile writes mi to dir/name.torrent and returns the path.
func writeTorrentFile(t testing.TB, mi *metainfo.MetaInfo, dir string) string {
	t.Helper()
	b, err := mi.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, mi.Info.Name+".torrent")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// newTestClient starts a client on 127.0.0.1, closed when the test ends.
func newTestClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:0"
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func loopback(port int) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
}

// waitComplete waits for a torrent to complete, failing the test after d.
func waitComplete(t testing.TB, tor *Torrent, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := tor.WaitComplete(ctx); err != nil {
		t.Fatalf("%s: waiting for completion: %v (have %d/%d pieces)", tor.Name(), err, tor.Bitfield().Count(), tor.NumPieces())
	}
}

// seedTorrent starts a client with cfg seeding mi from dir/seed and waits
// until it has checked the data and has it all.
func seedTorrent(t testing.TB, cfg Config, mi *metainfo.MetaInfo, dir string) (*Client, *Torrent) {
	t.Helper()
	c := newTestClient(t, cfg)
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	if err != nil {
		t.Fatal(err)
	}
	waitSeeding(t, tor, 10*time.Second)
	return c, tor
}

// waitSeeding waits until a torrent has checked its data and has it all.
func waitSeeding(t testing.TB, tor *Torrent, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !tor.Seeding() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seeding after %v", tor.Name(), d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
