package server

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/bencode"
	"github.com/bt-go/bt/tracker"
	"go.uber.org/goleak"

	"github.com/bt-go/bt/internal/peertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// running is a Server listening on loopback for one test.
type running struct {
	*Server
	http, udp string // announce URLs
	mu        sync.Mutex
	clock     time.Time
}

func start(t *testing.T, cfg Config, host string) *running {
	t.Helper()
	s := New(cfg)
	r := &running{Server: s, clock: time.Now()}
	s.now = func() time.Time { r.mu.Lock(); defer r.mu.Unlock(); return r.clock }
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		peertest.Unavailable(t, "no %s: %v", host, err)
	}
	pc, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	r.http = "http://" + ln.Addr().String() + "/announce"
	r.udp = "udp://" + pc.LocalAddr().String() + "/announce"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, pc) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return r
}

func (r *running) advance(d time.Duration) {
	r.mu.Lock()
	r.clock = r.clock.Add(d)
	r.mu.Unlock()
}

func hash(i int) [20]byte { return [20]byte{byte(i >> 8), byte(i), 0xbb} }

func peerID(i int) [20]byte {
	var id [20]byte
	copy(id[:], fmt.Sprintf("-BT0001-%012d", i))
	return id
}

func announce(t *testing.T, c *tracker.Client, url string, ih [20]byte, id, port int, left int64, ev tracker.Event) *tracker.AnnounceResponse {
	t.Helper()
	resp, err := c.Announce(context.Background(), url, tracker.AnnounceRequest{
		InfoHash: ih, PeerID: peerID(id), Port: uint16(port), Left: left, Event: ev,
	})
	if err != nil {
		t.Fatalf("announce to %s: %v", url, err)
	}
	return resp
}

func TestAnnounceAndScrape(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "::1"} {
		for _, proto := range []string{"http", "udp"} {
			t.Run(host+"/"+proto, func(t *testing.T) {
				r := start(t, Config{Interval: 10 * time.Minute}, host)
				url := r.http
				if proto == "udp" {
					url = r.udp
				}
				c := &tracker.Client{UDPTimeout: time.Second}
				ih := hash(1)
				first := announce(t, c, url, ih, 1, 7001, 0, tracker.EventStarted)
				if len(first.Peers) != 0 || first.Complete != 1 || first.Incomplete != 0 {
					t.Errorf("first announce: %+v", first)
				}
				if first.Interval != 10*time.Minute {
					t.Errorf("interval %v", first.Interval)
				}
				second := announce(t, c, url, ih, 2, 7002, 100, tracker.EventStarted)
				want := netip.AddrPortFrom(netip.MustParseAddr(host), 7001)
				if !slices.Equal(second.Peers, []netip.AddrPort{want}) || second.Complete != 1 || second.Incomplete != 1 {
					t.Errorf("second announce: %+v, want peer %v", second, want)
				}
				// The seed asks again: it hears of the leecher.
				again := announce(t, c, url, ih, 1, 7001, 0, tracker.EventNone)
				if len(again.Peers) != 1 || again.Peers[0].Port() != 7002 {
					t.Errorf("seed's reannounce: %+v", again)
				}
				announce(t, c, url, ih, 2, 7002, 0, tracker.EventCompleted)
				res, err := c.Scrape(context.Background(), url, ih, hash(2))
				if err != nil {
					t.Fatal(err)
				}
				if res[ih] != (tracker.ScrapeResult{Complete: 2, Downloaded: 1}) || res[hash(2)] != (tracker.ScrapeResult{}) {
					t.Errorf("scrape: %+v", res)
				}
				announce(t, c, url, ih, 2, 7002, 0, tracker.EventStopped)
				if _, peers := r.Stats(); peers != 1 {
					t.Errorf("%d peers after a stop, want 1", peers)
				}
			})
		}
	}
}

func TestExpiry(t *testing.T) {
	r := start(t, Config{Interval: time.Minute}, "127.0.0.1")
	c := &tracker.Client{}
	announce(t, c, r.http, hash(1), 1, 7001, 5, tracker.EventStarted)
	announce(t, c, r.http, hash(2), 1, 7001, 5, tracker.EventStarted)
	r.advance(90 * time.Second)
	announce(t, c, r.http, hash(1), 1, 7001, 5, tracker.EventNone)
	r.advance(60 * time.Second) // hash(2)'s peer is 150 s old, past 2×interval
	r.Expire()
	if torrents, peers := r.Stats(); torrents != 1 || peers != 1 {
		t.Errorf("after expiry: %d torrents, %d peers; want 1, 1", torrents, peers)
	}
	r.advance(10 * time.Minute)
	r.Expire()
	if torrents, peers := r.Stats(); torrents != 0 || peers != 0 {
		t.Errorf("after expiry: %d torrents, %d peers; want none", torrents, peers)
	}
}

// TestFloodFromOneAddress: one address announcing many torrents and ports
// stays within its caps, and another address is still served.
func TestFloodFromOneAddress(t *testing.T) {
	s := New(Config{MaxEntriesPerIP: 100, MaxPeersPerIP: 4, RequestsPerSecond: 1e9, Burst: 1 << 30})
	flooder := netip.MustParseAddr("192.0.2.1")
	for i := range 5000 {
		s.store.announce(announceArgs{infoHash: hash(i % 1000), addr: netip.AddrPortFrom(flooder, uint16(1+i)), left: 1, numWant: 50}, s.now())
	}
	torrents, peers := s.Stats()
	if peers > 100 || torrents > 100 {
		t.Fatalf("flood stored %d peers in %d torrents, want at most 100", peers, torrents)
	}
	// Per torrent, a new port replaces the oldest entry of a full address.
	for i := range 10 {
		s.store.announce(announceArgs{infoHash: hash(5000), addr: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.2"), uint16(1+i)), left: 1}, s.now().Add(time.Duration(i)*time.Second))
	}
	got := s.store.scrape([][20]byte{hash(5000)})[0]
	if got.incomplete != 4 {
		t.Errorf("%d entries for one address in one torrent, want 4", got.incomplete)
	}
	other := s.store.announce(announceArgs{infoHash: hash(5), addr: netip.MustParseAddrPort("198.51.100.9:1"), left: 1, numWant: 500}, s.now())
	if other.incomplete == 0 {
		t.Errorf("another address was not stored")
	}
}

func TestRateLimit(t *testing.T) {
	r := start(t, Config{RequestsPerSecond: 0.001, Burst: 3}, "127.0.0.1")
	c := &tracker.Client{UDPTimeout: 50 * time.Millisecond, UDPAttempts: 1}
	for i := range 3 {
		announce(t, c, r.http, hash(1), i, 7000+i, 5, tracker.EventStarted)
	}
	_, err := c.Announce(context.Background(), r.http, tracker.AnnounceRequest{InfoHash: hash(1), PeerID: peerID(9), Port: 9})
	if fe, ok := err.(*tracker.FailureError); !ok || fe.Reason != errRateLimited.Error() {
		t.Errorf("4th announce: %v, want rate limited", err)
	}
	// Over UDP, a limited source gets silence.
	_, err = c.Announce(context.Background(), r.udp, tracker.AnnounceRequest{InfoHash: hash(1), PeerID: peerID(9), Port: 9})
	if err == nil {
		t.Errorf("UDP announce over the limit answered")
	}
}

func TestAllowList(t *testing.T) {
	r := start(t, Config{Allow: func(h [20]byte) bool { return h == hash(1) }}, "127.0.0.1")
	c := &tracker.Client{UDPTimeout: time.Second}
	for _, url := range []string{r.http, r.udp} {
		announce(t, c, url, hash(1), 1, 7001, 5, tracker.EventStarted)
		_, err := c.Announce(context.Background(), url, tracker.AnnounceRequest{InfoHash: hash(2), PeerID: peerID(1), Port: 1})
		if fe, ok := err.(*tracker.FailureError); !ok || fe.Reason != errNotAllowed.Error() {
			t.Errorf("%s: unlisted torrent: %v", url, err)
		}
	}
}

// TestHTTPDictionaryPeers: compact=0 gets the BEP 3 list of dictionaries,
// and bad parameters get a failure reason.
func TestHTTPDictionaryPeers(t *testing.T) {
	s := New(Config{})
	get := func(q string) map[string]any {
		t.Helper()
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "http://t.example/announce?"+q, nil))
		var v map[string]any
		if err := bencode.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s: reply %q: %v", q, rec.Body.String(), err)
		}
		return v
	}
	ih := (qs(hash(1)))
	base := "info_hash=" + ih + "&left=5&peer_id="
	get(base + (qs(peerID(1))) + "&port=7001")
	v := get(base + (qs(peerID(2))) + "&port=7002&compact=0")
	peers, ok := v["peers"].([]any)
	if !ok || len(peers) != 1 {
		t.Fatalf("reply %v", v)
	}
	p := peers[0].(map[string]any)
	if p["ip"] != "192.0.2.1" || p["port"] != int64(7001) {
		t.Errorf("peer %v", p)
	}
	for _, q := range []string{
		"info_hash=short&peer_id=x&port=1&left=0",
		base + (qs(peerID(3))) + "&port=0",
		base + (qs(peerID(3))) + "&port=1&event=bogus",
		base + (qs(peerID(3))) + "&port=1;x",
	} {
		if _, ok := get(q)["failure reason"]; !ok {
			t.Errorf("%s: no failure reason", q)
		}
	}
}

func qs(b [20]byte) string { return url.QueryEscape(string(b[:])) }

// TestIPv6NetworkLimit: the addresses of one IPv6 /64 share one quota.
func TestIPv6NetworkLimit(t *testing.T) {
	s := New(Config{MaxPeersPerIP: 4, MaxEntriesPerIP: 10})
	for i := range 100 {
		a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 7: 1, 14: byte(i >> 8), 15: byte(i)})
		s.store.announce(announceArgs{infoHash: hash(i % 5), addr: netip.AddrPortFrom(a, 1), left: 1}, s.now())
	}
	if _, peers := s.Stats(); peers != 10 {
		t.Errorf("one /64 holds %d entries, want 10", peers)
	}
	if got := s.store.scrape([][20]byte{hash(0)})[0].incomplete; got > 4 {
		t.Errorf("one /64 holds %d entries in a torrent, want at most 4", got)
	}
}

// TestGlobalCaps: announces from many addresses (a botnet, or spoofed
// HTTP-less sources) fill the tracker only up to MaxTorrents,
// MaxPeersPerTorrent and MaxPeers, and a stop frees room again.
func TestGlobalCaps(t *testing.T) {
	s := New(Config{MaxTorrents: 10, MaxPeersPerTorrent: 5, MaxPeers: 30, RequestsPerSecond: 1e9, Burst: 1 << 30})
	addr := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 6881)
	}
	for i := range 5000 {
		s.store.announce(announceArgs{infoHash: hash(i % 50), addr: addr(i), left: 1, numWant: 50}, s.now())
	}
	torrents, peers := s.Stats()
	if torrents > 10 || peers > 30 {
		t.Fatalf("%d torrents, %d peers; caps are 10 and 30", torrents, peers)
	}
	for i := range 50 {
		if n := s.store.scrape([][20]byte{hash(i)})[0].incomplete; n > 5 {
			t.Errorf("torrent %d holds %d peers, cap 5", i, n)
		}
	}
	if peers != 30 {
		t.Fatalf("%d peers stored, want the cap of 30 reached", peers)
	}
	// A stop frees one entry; a newcomer takes it.
	var stored int
	for i := range 5000 {
		if s.store.scrape([][20]byte{hash(i % 50)})[0].incomplete > 0 {
			s.store.announce(announceArgs{infoHash: hash(i % 50), addr: addr(i), event: "stopped"}, s.now())
			if _, p := s.Stats(); p == 29 {
				stored = i
				break
			}
		}
	}
	s.store.announce(announceArgs{infoHash: hash(stored % 50), addr: addr(9999), left: 1}, s.now())
	if _, p := s.Stats(); p != 30 {
		t.Errorf("%d peers after a stop and a new announce, want 30", p)
	}
}

// TestHTTPConnsPerIP: an address holding MaxHTTPConnsPerIP idle
// connections gets its next one closed at once; when one of its
// connections closes, it is served again.
func TestHTTPConnsPerIP(t *testing.T) {
	const limit = 4
	r := start(t, Config{MaxHTTPConnsPerIP: limit}, "127.0.0.1")
	addr := strings.TrimSuffix(strings.TrimPrefix(r.http, "http://"), "/announce")
	var held []net.Conn
	for range limit {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	// The server accepts in order: by the time it takes this one, it holds
	// the others.
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	extra.Write([]byte("GET /announce HTTP/1.1\r\nHost: x\r\n\r\n"))
	extra.SetReadDeadline(time.Now().Add(3 * time.Second))
	if n, err := extra.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection over the limit: read %d bytes, %v; want it closed", n, err)
	}
	held[0].Close()
	c := &tracker.Client{}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.Announce(context.Background(), r.http, tracker.AnnounceRequest{InfoHash: hash(1), PeerID: peerID(1), Port: 1})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not served after a connection closed: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStoreCounts: after any mix of announces, stops, evictions and
// expiries, the store's counts (total, entries per address, per address
// in each swarm, seeds, the index) agree with its entries.
func TestStoreCounts(t *testing.T) {
	s := New(Config{MaxPeersPerIP: 3, MaxEntriesPerIP: 8, MaxPeers: 40, MaxPeersPerTorrent: 10, RequestsPerSecond: 1e9, Burst: 1 << 30})
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Unix(1_000_000, 0)
	for step := range 5000 {
		a := announceArgs{
			infoHash: hash(rng.IntN(6)), left: int64(rng.IntN(2)), numWant: 5,
			addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(5))}), uint16(1+rng.IntN(6))),
		}
		switch rng.IntN(10) {
		case 0:
			a.event = "stopped"
		case 1:
			a.event = "completed"
		}
		now = now.Add(time.Duration(rng.IntN(30)) * time.Second)
		s.store.announce(a, now)
		if rng.IntN(50) == 0 {
			s.store.expire(now)
		}
		st := s.store
		total, perIP := 0, map[netip.Addr]int{}
		for ih, sw := range st.torrents {
			if len(sw.peers) == 0 {
				t.Fatalf("step %d: empty swarm %x kept", step, ih[:2])
			}
			seeds, mine := 0, map[netip.Addr]int{}
			for i, p := range sw.peers {
				if sw.index[p.addr] != i {
					t.Fatalf("step %d: index of %v is %d, not %d", step, p.addr, sw.index[p.addr], i)
				}
				if p.seed {
					seeds++
				}
				mine[addrKey(p.addr.Addr())]++
				perIP[addrKey(p.addr.Addr())]++
			}
			total += len(sw.peers)
			if seeds != sw.seeds || len(sw.index) != len(sw.peers) || !maps.Equal(mine, sw.perIP) {
				t.Fatalf("step %d: swarm counts seeds %d/%d, index %d/%d, per address %v/%v",
					step, sw.seeds, seeds, len(sw.index), len(sw.peers), sw.perIP, mine)
			}
		}
		if total != st.total || !maps.Equal(perIP, st.perIP) {
			t.Fatalf("step %d: store counts total %d/%d, per address %v/%v", step, st.total, total, st.perIP, perIP)
		}
	}
}

// TestDownloadedCount: each peer's "completed" counts once, also when its
// "started" already said left=0, and the count outlives the swarm's last
// peer, as opentracker's does.
func TestDownloadedCount(t *testing.T) {
	s := New(Config{RequestsPerSecond: 1e9, Burst: 1 << 30})
	for i := range 3 {
		a := announceArgs{infoHash: hash(1), addr: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(1+i)), left: 0, event: "started"}
		s.store.announce(a, s.now())
		a.event = "completed"
		s.store.announce(a, s.now())
		s.store.announce(a, s.now()) // a repeat does not count again
		a.event = "stopped"
		s.store.announce(a, s.now())
	}
	if got := s.store.scrape([][20]byte{hash(1)})[0]; got.downloaded != 3 || got.complete != 0 || got.incomplete != 0 {
		t.Errorf("scrape after three downloads that left: %+v", got)
	}
	s.store.announce(announceArgs{infoHash: hash(1), addr: netip.MustParseAddrPort("192.0.2.9:1"), left: 5, event: "completed"}, s.now())
	if got := s.store.scrape([][20]byte{hash(1)})[0]; got.downloaded != 4 || got.incomplete != 1 {
		t.Errorf("scrape after a fourth: %+v", got)
	}
}
