package tracker

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bt-go/bt/tracker/internal/trackerwire"

	"github.com/bt-go/bt/internal/peertest"
)

// fakeUDP is a UDP tracker for unit tests of one rule at a time: handle
// returns the datagrams to send back for each request.
type fakeUDP struct {
	conn      *net.UDPConn
	url       string
	connects  atomic.Int32
	announces atomic.Int32
	connID    atomic.Uint64
	handle    func(f *fakeUDP, from netip.AddrPort, req any) [][]byte
}

func startFakeUDP(t *testing.T, network, addr string, handle func(f *fakeUDP, from netip.AddrPort, req any) [][]byte) *fakeUDP {
	t.Helper()
	conn, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		peertest.Unavailable(t, "no %s socket: %v", network, err)
	}
	f := &fakeUDP{conn: conn, url: "udp://" + conn.LocalAddr().String() + "/announce", handle: handle}
	f.connID.Store(0x1122334455667788)
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			req, err := trackerwire.ParseRequest(buf[:n])
			if err != nil {
				t.Errorf("fake tracker: %v", err)
				continue
			}
			switch req.(type) {
			case *trackerwire.ConnectRequest:
				f.connects.Add(1)
			case *trackerwire.AnnounceRequest:
				f.announces.Add(1)
			}
			for _, p := range f.handle(f, from, req) {
				conn.WriteToUDPAddrPort(p, from)
			}
		}
	})
	t.Cleanup(func() { conn.Close(); wg.Wait() })
	return f
}

var fakePeers = []netip.AddrPort{netip.MustParseAddrPort("10.1.2.3:4567"), netip.MustParseAddrPort("10.1.2.4:4568")}

// honest answers as a tracker should.
func honest(f *fakeUDP, from netip.AddrPort, req any) [][]byte {
	switch r := req.(type) {
	case *trackerwire.ConnectRequest:
		return [][]byte{(&trackerwire.ConnectResponse{TransactionID: r.TransactionID, ConnectionID: f.connID.Load()}).AppendBinary(nil)}
	case *trackerwire.AnnounceRequest:
		if r.ConnectionID != f.connID.Load() {
			return [][]byte{(&trackerwire.ErrorResponse{TransactionID: r.TransactionID, Message: "bad connection id"}).AppendBinary(nil)}
		}
		peers := fakePeers
		if from.Addr().Is6() && !from.Addr().Is4In6() {
			peers = []netip.AddrPort{netip.MustParseAddrPort("[2001:db8::5]:7000")}
		}
		return [][]byte{(&trackerwire.AnnounceResponse{TransactionID: r.TransactionID, Interval: 900,
			Leechers: 7, Seeders: 3, Peers: peers}).AppendBinary(nil)}
	case *trackerwire.ScrapeRequest:
		resp := &trackerwire.ScrapeResponse{TransactionID: r.TransactionID}
		for i := range r.InfoHashes {
			resp.Entries = append(resp.Entries, trackerwire.ScrapeEntry{Seeders: uint32(i), Completed: 10, Leechers: 20})
		}
		return [][]byte{resp.AppendBinary(nil)}
	}
	return nil
}

// fastUDPClient gives up soon: for trackers that never answer properly.
// (Its timeouts only shorten the tests; they are generous enough that a
// loaded machine does not turn a reply into a retransmission.)
func fastUDPClient() *Client {
	return &Client{UDPTimeout: 200 * time.Millisecond, UDPAttempts: 2}
}

// patientClient is for trackers that answer: no retransmission expected.
func patientClient() *Client {
	return &Client{UDPTimeout: 10 * time.Second}
}

func TestUDPAnnounceAndScrape(t *testing.T) {
	f := startFakeUDP(t, "udp4", "127.0.0.1:0", honest)
	c := patientClient()
	for range 2 {
		resp, err := c.Announce(context.Background(), f.url, testRequest())
		if err != nil {
			t.Fatal(err)
		}
		if resp.Interval != 15*time.Minute || resp.Complete != 3 || resp.Incomplete != 7 || len(resp.Peers) != 2 || resp.Peers[1] != fakePeers[1] {
			t.Fatalf("reply %+v", resp)
		}
	}
	if n := f.connects.Load(); n != 1 {
		t.Errorf("%d connects for two announces, want the connection id reused", n)
	}
	hashes := make([][20]byte, 100) // two requests: 74 + 26
	for i := range hashes {
		hashes[i][0] = byte(i)
	}
	res, err := c.Scrape(context.Background(), f.url, hashes...)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 100 || res[hashes[5]] != (ScrapeResult{Complete: 5, Downloaded: 10, Incomplete: 20}) || res[hashes[80]].Complete != 80-74 {
		t.Errorf("scrape: %d results, [5] = %+v", len(res), res[hashes[5]])
	}
}

func TestUDPConnectionIDExpiry(t *testing.T) {
	f := startFakeUDP(t, "udp4", "127.0.0.1:0", honest)
	c := patientClient()
	if _, err := c.Announce(context.Background(), f.url, testRequest()); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	for k, v := range c.connIDs {
		v.expires = time.Now().Add(-time.Second)
		c.connIDs[k] = v
	}
	c.mu.Unlock()
	if _, err := c.Announce(context.Background(), f.url, testRequest()); err != nil {
		t.Fatal(err)
	}
	if n := f.connects.Load(); n != 2 {
		t.Errorf("%d connects, want 2 (the expired id renewed)", n)
	}

	// The tracker forgets the id before it expires: an error reply to a
	// cached id leads to one reconnect, not a failure.
	f.connID.Store(99)
	if _, err := c.Announce(context.Background(), f.url, testRequest()); err != nil {
		t.Fatal(err)
	}
	if n := f.connects.Load(); n != 3 {
		t.Errorf("%d connects, want 3", n)
	}
}

func TestUDPRetransmission(t *testing.T) {
	var dropped atomic.Bool
	f := startFakeUDP(t, "udp4", "127.0.0.1:0", func(f *fakeUDP, from netip.AddrPort, req any) [][]byte {
		if _, ok := req.(*trackerwire.AnnounceRequest); ok && !dropped.Swap(true) {
			return nil // the first announce is "lost"
		}
		return honest(f, from, req)
	})
	c := &Client{UDPTimeout: 50 * time.Millisecond, UDPAttempts: 8}
	if _, err := c.Announce(context.Background(), f.url, testRequest()); err != nil {
		t.Fatal(err)
	}
	if n := f.announces.Load(); n < 2 {
		t.Errorf("%d announces sent, want a retransmission", n)
	}
}

// TestUDPBackoff: the retransmissions of an unanswered request wait
// exactly UDPTimeout·2^n (BEP 15), and the request gives up UDPTimeout·2^n
// after its last send. It runs on synctest's fake clock over a silent
// in-memory socket, so the schedule is checked to the nanosecond.
func TestUDPBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const base = 15 * time.Second
		sock := &silentUDP{changed: make(chan struct{})}
		c := &Client{UDPTimeout: base, UDPAttempts: 4,
			dialUDPConn: func(netip.AddrPort) (udpConn, error) { return sock, nil }}
		start := time.Now()
		if _, err := c.Announce(context.Background(), "udp://127.0.0.1:6969/announce", testRequest()); !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
		if len(sock.sent) != 4 {
			t.Fatalf("%d connect requests sent, want 4", len(sock.sent))
		}
		for n := range sock.sent {
			if got, want := sock.sent[n].Sub(start), base*(1<<n-1); got != want {
				t.Errorf("attempt %d sent at +%v, want +%v", n+1, got, want)
			}
		}
		if got, want := time.Since(start), base*(1<<4-1); got != want {
			t.Errorf("gave up after %v, want %v", got, want)
		}
	})
}

// silentUDP is a connected UDP socket to a tracker that never answers: it
// records when each datagram was sent and honours read deadlines, on
// whatever clock time.Now reads (synctest's, in a bubble).
type silentUDP struct {
	mu       sync.Mutex
	sent     []time.Time
	deadline time.Time
	changed  chan struct{} // closed and replaced when the deadline changes
	closed   bool
}

func (s *silentUDP) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, time.Now())
	return len(b), nil
}

func (s *silentUDP) SetReadDeadline(d time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deadline = d
	close(s.changed)
	s.changed = make(chan struct{})
	return nil
}

func (s *silentUDP) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.changed)
	}
	return nil
}

func (s *silentUDP) ReadFromUDPAddrPort([]byte) (int, netip.AddrPort, error) {
	for {
		s.mu.Lock()
		d, changed, closed := s.deadline, s.changed, s.closed
		s.mu.Unlock()
		if closed {
			return 0, netip.AddrPort{}, net.ErrClosed
		}
		if d.IsZero() {
			<-changed
			continue
		}
		if !time.Now().Before(d) {
			return 0, netip.AddrPort{}, os.ErrDeadlineExceeded
		}
		timer := time.NewTimer(time.Until(d))
		select {
		case <-timer.C:
		case <-changed:
		}
		timer.Stop()
	}
}

func TestUDPIPv6(t *testing.T) {
	f := startFakeUDP(t, "udp6", "[::1]:0", honest)
	resp, err := patientClient().Announce(context.Background(), f.url, testRequest())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Peers) != 1 || resp.Peers[0].String() != "[2001:db8::5]:7000" {
		t.Errorf("peers %v, want the 18-byte entries of BEP 15 over IPv6", resp.Peers)
	}
}

func TestUDPContextCancel(t *testing.T) {
	f := startFakeUDP(t, "udp4", "127.0.0.1:0", func(*fakeUDP, netip.AddrPort, any) [][]byte { return nil })
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for f.connects.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	c := &Client{UDPTimeout: time.Hour}
	if _, err := c.Announce(ctx, f.url, testRequest()); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// hostileUDP are UDP tracker behaviours each of which must end in a clear
// error.
func hostileUDP(t *testing.T) map[string]struct {
	handle func(f *fakeUDP, from netip.AddrPort, req any) [][]byte
	check  func(error) bool
} {
	other, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	isTimeout := func(detail string) func(error) bool {
		return func(err error) bool {
			return errors.Is(err, ErrTimeout) && regexp.MustCompile(detail).MatchString(err.Error())
		}
	}
	isResponse := func(err error) bool {
		var re *ResponseError
		return errors.As(err, &re)
	}
	onAnnounce := func(bad func(tid uint32) []byte) func(f *fakeUDP, from netip.AddrPort, req any) [][]byte {
		return func(f *fakeUDP, from netip.AddrPort, req any) [][]byte {
			if r, ok := req.(*trackerwire.AnnounceRequest); ok {
				return [][]byte{bad(r.TransactionID)}
			}
			return honest(f, from, req)
		}
	}
	type tc = struct {
		handle func(f *fakeUDP, from netip.AddrPort, req any) [][]byte
		check  func(error) bool
	}
	return map[string]tc{
		"wrong transaction id": {onAnnounce(func(tid uint32) []byte {
			return (&trackerwire.AnnounceResponse{TransactionID: tid + 1, Interval: 60}).AppendBinary(nil)
		}), isTimeout(`ignored [1-9]\d* datagrams with a wrong transaction id`)},
		"short packets": {onAnnounce(func(tid uint32) []byte { return []byte{0, 0, 0, 1, 0} }),
			isTimeout(`[1-9]\d* malformed or foreign`)},
		"reply from another address": {func(f *fakeUDP, from netip.AddrPort, req any) [][]byte {
			if r, ok := req.(*trackerwire.AnnounceRequest); ok {
				p := (&trackerwire.AnnounceResponse{TransactionID: r.TransactionID, Interval: 60, Peers: fakePeers}).AppendBinary(nil)
				other.WriteToUDPAddrPort(p, from)
				return nil
			}
			return honest(f, from, req)
		}, isTimeout("after 2 attempts")},
		"compact peers of a wrong length": {onAnnounce(func(tid uint32) []byte {
			return append((&trackerwire.AnnounceResponse{TransactionID: tid, Interval: 60}).AppendBinary(nil), 1, 2, 3)
		}), isResponse},
		"announce reply too short": {onAnnounce(func(tid uint32) []byte {
			return (&trackerwire.AnnounceResponse{TransactionID: tid, Interval: 60}).AppendBinary(nil)[:14]
		}), isResponse},
		"connect reply to an announce": {onAnnounce(func(tid uint32) []byte {
			return (&trackerwire.ConnectResponse{TransactionID: tid, ConnectionID: 1}).AppendBinary(nil)
		}), isResponse},
		"unknown action": {onAnnounce(func(tid uint32) []byte {
			return binary.BigEndian.AppendUint32([]byte{0, 0, 0, 7}, tid)
		}), isResponse},
		"error packet": {onAnnounce(func(tid uint32) []byte {
			return (&trackerwire.ErrorResponse{TransactionID: tid, Message: "torrent not registered"}).AppendBinary(nil)
		}), func(err error) bool {
			var fe *FailureError
			return errors.As(err, &fe) && fe.Reason == "torrent not registered"
		}},
		"silence": {func(*fakeUDP, netip.AddrPort, any) [][]byte { return nil }, isTimeout("after 2 attempts")},
	}
}

func TestUDPHostileReplies(t *testing.T) {
	for name, tc := range hostileUDP(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := startFakeUDP(t, "udp4", "127.0.0.1:0", tc.handle)
			_, err := fastUDPClient().Announce(context.Background(), f.url, testRequest())
			if err == nil || !tc.check(err) {
				t.Fatalf("err = %v", err)
			}
			t.Logf("error: %v", err)
		})
	}
}

func TestUDPScrapeWrongCount(t *testing.T) {
	f := startFakeUDP(t, "udp4", "127.0.0.1:0", func(f *fakeUDP, from netip.AddrPort, req any) [][]byte {
		if r, ok := req.(*trackerwire.ScrapeRequest); ok {
			return [][]byte{(&trackerwire.ScrapeResponse{TransactionID: r.TransactionID,
				Entries: make([]trackerwire.ScrapeEntry, len(r.InfoHashes)+1)}).AppendBinary(nil)}
		}
		return honest(f, from, req)
	})
	_, err := fastUDPClient().Scrape(context.Background(), f.url, testHash)
	var re *ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v", err)
	}
}

// TestUDPPortClosed: the ICMP "port unreachable" of a closed port ends the
// request at once with an error, rather than after every retransmission.
func TestUDPPortClosed(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := conn.LocalAddr().String()
	conn.Close()
	c := &Client{UDPTimeout: time.Hour}
	_, err = c.Announce(context.Background(), "udp://"+addr, testRequest())
	if err == nil || errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want a connection error", err)
	}
	t.Logf("error: %v", err)
}
