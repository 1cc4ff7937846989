package bt_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/bt-go/bt"
	"github.com/bt-go/bt/metainfo"
)

// Example seeds a small torrent with one client and downloads it with
// another over loopback.
func Example() {
	dir, _ := os.MkdirTemp("", "bt-example")
	defer os.RemoveAll(dir)
	os.MkdirAll(filepath.Join(dir, "seed"), 0o755)
	os.WriteFile(filepath.Join(dir, "seed", "hello.txt"), []byte("hello, swarm\n"), 0o644)
	mi, _ := metainfo.Create(context.Background(), filepath.Join(dir, "seed", "hello.txt"), metainfo.CreateOptions{})

	seeder, _ := bt.NewClient(bt.Config{ListenAddr: "127.0.0.1:0"})
	defer seeder.Close()
	seeder.AddTorrent(mi, &bt.TorrentOptions{Dir: filepath.Join(dir, "seed")})

	leecher, _ := bt.NewClient(bt.Config{ListenAddr: "127.0.0.1:0"})
	defer leecher.Close()
	t, _ := leecher.AddTorrent(mi, &bt.TorrentOptions{
		Dir:   filepath.Join(dir, "leech"),
		Peers: []netip.AddrPort{netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", seeder.Port()))},
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := t.WaitComplete(ctx); err != nil {
		fmt.Println(err)
		return
	}
	data, _ := os.ReadFile(filepath.Join(dir, "leech", "hello.txt"))
	fmt.Printf("%s: %d bytes, seeding %v: %s", t.Name(), t.Size(), t.Seeding(), data)
	// Output: hello.txt: 13 bytes, seeding true: hello, swarm
}

// ExampleTorrent_HashCheck checks data already on disk and reports each
// piece through the event callback.
func ExampleTorrent_HashCheck() {
	dir, _ := os.MkdirTemp("", "bt-example")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "data.bin"), make([]byte, 40000), 0o644)
	mi, _ := metainfo.Create(context.Background(), filepath.Join(dir, "data.bin"), metainfo.CreateOptions{PieceLength: 16 << 10})

	c, _ := bt.NewClient(bt.Config{NoListen: true})
	defer c.Close()
	done := make(chan struct{})
	passed := 0
	t, _ := c.AddTorrent(mi, &bt.TorrentOptions{Dir: dir, State: bt.Paused, OnEvent: func(e bt.Event) {
		switch e.Type {
		case bt.EventHashPass:
			passed++
		case bt.EventCheckDone:
			done <- struct{}{}
		}
	}})
	<-done // the check made when the torrent starts
	passed = 0
	t.HashCheck(0, 2)
	<-done
	fmt.Println(passed, "pieces passed;", "seeding:", t.Seeding())
	// Output: 2 pieces passed; seeding: true
}
