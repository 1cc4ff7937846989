package tracker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
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

// TestOpentrackerFindsLibtorrent: an Announcer and a libtorrent seed find
// each other through opentracker alone: the Announcer delivers the seed's
// address, and libtorrent dials the port we announced and sends a
// BitTorrent handshake for the torrent.
func TestOpentrackerFindsLibtorrent(t *testing.T) {
	dir := t.TempDir()
	peertest.WriteRandomFile(t, filepath.Join(dir, "data.bin"), 1<<20)
	torrent, ihHex := peertest.CreateTorrent(t, filepath.Join(dir, "data.bin"), peertest.CreateOptions{V1Only: true})
	file := filepath.Join(t.TempDir(), "data.torrent")
	if err := os.WriteFile(file, torrent, 0o644); err != nil {
		t.Fatal(err)
	}
	httpURL, udpURL := peertest.StartOpentracker(t, ihHex)
	lt := peertest.StartLibtorrent(t, nil)
	lt.AddTorrent(t, peertest.AddTorrent{TorrentFile: file, SavePath: dir, SeedMode: true})
	lt.Exec(t, "h = handles[args['ih']]\nh.add_tracker({'url': args['url'], 'tier': 0})\nh.force_reannounce()\nresult = True",
		map[string]any{"ih": ihHex, "url": httpURL})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var ih [20]byte
	hex.Decode(ih[:], []byte(ihHex))
	found := make(chan []netip.AddrPort, 16)
	a := tracker.NewAnnouncer(tracker.AnnouncerConfig{
		Client:   &tracker.Client{UDPTimeout: 2 * time.Second},
		Tiers:    [][]string{{udpURL}},
		InfoHash: ih, PeerID: [20]byte{'-', 'B', 'T', '0', '0', '0', '1', '-'},
		Port:  uint16(ln.Addr().(*net.TCPAddr).Port),
		Stats: func() tracker.Stats { return tracker.Stats{Left: 1 << 20} },
		Peers: func(p []netip.AddrPort) {
			select {
			case found <- p:
			default:
			}
		},
		MinInterval: 50 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// Our side: libtorrent's address arrives through the Announcer.
	want := netip.MustParseAddrPort(lt.Addr())
	deadline := time.After(30 * time.Second)
	for seen := false; !seen; {
		select {
		case peers := <-found:
			seen = slices.Contains(peers, want)
		case <-time.After(200 * time.Millisecond):
			a.Reannounce()
		case <-deadline:
			t.Fatalf("libtorrent at %v never came from the tracker; report %+v", want, a.Trackers())
		}
	}

	// libtorrent's side: it learns our address from the tracker and dials.
	// (The tracker's min interval would hold back a plain reannounce.)
	lt.Exec(t, "handles[args['ih']].force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)\nresult = True",
		map[string]any{"ih": ihHex})
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(30 * time.Second))
	conn, err := ln.Accept()
	if err != nil {
		t.Fatalf("libtorrent did not dial the announced port: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	hs := make([]byte, 48)
	if _, err := io.ReadFull(conn, hs); err != nil {
		t.Fatalf("reading libtorrent's handshake: %v", err)
	}
	if string(hs[:20]) != "\x13BitTorrent protocol" || [20]byte(hs[28:48]) != ih {
		t.Fatalf("handshake %q", hs)
	}
	if st := a.Trackers()[0]; st.Complete < 1 || st.Failures != 0 {
		t.Errorf("tier report %+v", st)
	}
}
