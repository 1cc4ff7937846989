// Command anaseed seeds one torrent with anacrolix/torrent's default
// settings on 127.0.0.1, for comparisons: it prints {"port": N} when it
// has checked the data, and runs until stdin closes.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
)

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: anaseed FILE.torrent DIR")
	}
	cfg := torrent.NewDefaultClientConfig()
	cfg.DataDir = os.Args[2]
	cfg.Seed = true
	cfg.NoDHT = true
	cfg.DisableUTP = true
	cfg.DisableIPv6 = true
	cfg.ListenHost = func(string) string { return "127.0.0.1" }
	cfg.ListenPort = 0
	cfg.NoDefaultPortForwarding = true
	cfg.DisableTrackers = true
	c, err := torrent.NewClient(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	mi, err := metainfo.LoadFromFile(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	t, err := c.AddTorrent(mi)
	if err != nil {
		log.Fatal(err)
	}
	<-t.GotInfo()
	t.VerifyData()
	for i := 0; !t.Complete().Bool(); i++ {
		if i == 3000 {
			log.Fatal("anaseed: the data is incomplete")
		}
		time.Sleep(10 * time.Millisecond)
	}
	b, _ := json.Marshal(map[string]int{"port": c.LocalPort()})
	fmt.Println(string(b))
	io.Copy(io.Discard, os.Stdin)
}
