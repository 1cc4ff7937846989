package tracker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/peertest"
	"github.com/bt-go/bt/tracker"
)

// TestOpentracker: our client announces and scrapes against opentracker,
// over HTTP and over UDP. Two peers (different peer ids and ports) see each
// other, and the scrape counts them.
func TestOpentracker(t *testing.T) {
	var hashes [2][20]byte
	rand.Read(hashes[0][:])
	rand.Read(hashes[1][:])
	httpURL, udpURL := peertest.StartOpentracker(t, hex.EncodeToString(hashes[0][:]), hex.EncodeToString(hashes[1][:]))
	c := &tracker.Client{UDPTimeout: 2 * time.Second}
	for i, url := range []string{httpURL, udpURL} {
		ih := hashes[i] // one torrent per protocol: opentracker shares its swarms between them
		t.Run([]string{"http", "udp"}[i], func(t *testing.T) {
			ctx := context.Background()
			seed := tracker.AnnounceRequest{InfoHash: ih, PeerID: [20]byte{'-', 'B', 'T', '1'}, Port: 7001, Left: 0,
				Event: tracker.EventStarted, NumWant: 50, Key: 1}
			leech := tracker.AnnounceRequest{InfoHash: ih, PeerID: [20]byte{'-', 'B', 'T', '2'}, Port: 7002, Left: 1000,
				Event: tracker.EventStarted, NumWant: 50, Key: 2}
			if _, err := c.Announce(ctx, url, seed); err != nil {
				t.Fatalf("seed's announce: %v", err)
			}
			resp, err := c.Announce(ctx, url, leech)
			if err != nil {
				t.Fatalf("leecher's announce: %v", err)
			}
			if want := netip.MustParseAddrPort("127.0.0.1:7001"); !slices.Contains(resp.Peers, want) {
				t.Errorf("leecher got peers %v, want %v among them", resp.Peers, want)
			}
			if resp.Complete != 1 || resp.Incomplete != 1 || resp.Interval <= 0 {
				t.Errorf("reply %+v", resp)
			}
			seed.Event = tracker.EventNone
			resp, err = c.Announce(ctx, url, seed)
			if err != nil {
				t.Fatal(err)
			}
			if want := netip.MustParseAddrPort("127.0.0.1:7002"); !slices.Contains(resp.Peers, want) {
				t.Errorf("seed got peers %v, want %v among them", resp.Peers, want)
			}
			res, err := c.Scrape(ctx, url, ih)
			if err != nil {
				t.Fatalf("scrape: %v", err)
			}
			if r := res[ih]; r.Complete != 1 || r.Incomplete != 1 {
				t.Errorf("scrape %+v, want 1 seed and 1 leecher", r)
			}
			leech.Event = tracker.EventStopped
			if _, err := c.Announce(ctx, url, leech); err != nil {
				t.Fatalf("stopped: %v", err)
			}
			res, err = c.Scrape(ctx, url, ih)
			if err != nil {
				t.Fatalf("scrape: %v", err)
			}
			if r := res[ih]; r.Complete != 1 || r.Incomplete != 0 {
				t.Errorf("scrape after stop %+v, want 1 seed and no leecher", r)
			}
			t.Logf("opentracker %s: announce and scrape agree", url)
		})
	}
	// An info hash opentracker does not list: a failure reason.
	_, err := c.Announce(context.Background(), httpURL, tracker.AnnounceRequest{InfoHash: [20]byte{7}, PeerID: [20]byte{1}, Port: 1})
	if _, ok := err.(*tracker.FailureError); !ok {
		t.Errorf("unlisted torrent: err = %v, want a failure reason", err)
	}
}
