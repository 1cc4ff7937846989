package bt_test

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/metainfo"
)

// ExampleTorrent_NewReader streams a file while it downloads: the reader
// fetches the pieces ahead of it first and returns only verified bytes.
// Here no file is wanted at all, so only what is read is downloaded.
func ExampleTorrent_NewReader() {
	dir, _ := os.MkdirTemp("", "bt-example")
	defer os.RemoveAll(dir)
	os.MkdirAll(filepath.Join(dir, "seed"), 0o755)
	os.WriteFile(filepath.Join(dir, "seed", "poem.txt"), []byte("streams of bytes, in order, verified\n"), 0o644)
	mi, _ := metainfo.Create(context.Background(), filepath.Join(dir, "seed", "poem.txt"), metainfo.CreateOptions{})

	seeder, _ := bt.NewClient(bt.Config{ListenAddr: "127.0.0.1:0"})
	defer seeder.Close()
	seeder.AddTorrent(mi, &bt.TorrentOptions{Dir: filepath.Join(dir, "seed")})

	leecher, _ := bt.NewClient(bt.Config{ListenAddr: "127.0.0.1:0"})
	defer leecher.Close()
	t, _ := leecher.AddTorrent(mi, &bt.TorrentOptions{
		Dir:            filepath.Join(dir, "leech"),
		FilePriorities: []int{bt.PrioritySkip},
		Peers:          []netip.AddrPort{netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", seeder.Port()))},
	})
	r, err := t.NewReader(0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r.SetContext(ctx)
	r.Seek(11, io.SeekStart)
	word := make([]byte, 5)
	if _, err := io.ReadFull(r, word); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q of a %d-byte file\n", word, r.Size())
	// Output: "bytes" of a 37-byte file
}

// ExampleClient_SetRateLimits limits every torrent of a client together,
// and one torrent on its own.
func ExampleClient_SetRateLimits() {
	c, _ := bt.NewClient(bt.Config{NoListen: true, MaxUploadRate: 1 << 20})
	defer c.Close()
	c.SetRateLimits(10<<20, 2<<20) // 10 MiB/s down, 2 MiB/s up, shared
	down, up := c.RateLimits()
	fmt.Println(down, up)
	// Output: 10485760 2097152
}
