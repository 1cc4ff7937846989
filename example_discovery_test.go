package bt_test

import (
	"fmt"
	"log"

	"github.com/bt-go/bt"
)

// A client that finds peers through the DHT as well as through the
// torrents' trackers. The library joins no DHT by itself: the bootstrap
// nodes are given (here the public ones the bt command uses too).
func ExampleConfig_dht() {
	c, err := bt.NewClient(bt.Config{
		DHT:          true,
		DHTBootstrap: bt.DefaultDHTBootstrap,
		StateDir:     "/var/lib/bt", // the routing table is kept in dht.state there
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Add("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a", nil); err != nil {
		log.Fatal(err)
	}
}

// The per-tier tracker report of a torrent, and a tracker added to it.
func ExampleTorrent_Trackers() {
	c, err := bt.NewClient(bt.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	tor, err := c.Add("debian.iso.torrent", nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := tor.AddTrackers([]string{"udp://tracker.example.org:6969/announce"}); err != nil {
		log.Print(err) // bt.ErrPrivate for a private torrent
	}
	for i, tier := range tor.Trackers() {
		fmt.Printf("tier %d %v: %d seeds, %d leechers, %d failures in a row, last error %v\n",
			i, tier.URLs, tier.Complete, tier.Incomplete, tier.Failures, tier.LastError)
	}
}
