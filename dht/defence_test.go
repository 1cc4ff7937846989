package dht

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/bt-go/bt/dht/internal/krpc"
	"github.com/bt-go/bt/internal/waitfor"
)

// rawNode is a plain UDP socket on 127.0.0.1 that sends hand-made KRPC
// messages: the hostile side of the defence tests.
type rawNode struct {
	t    *testing.T
	conn *net.UDPConn
	id   [20]byte
}

func newRaw(t *testing.T) *rawNode {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawNode{t: t, conn: c, id: RandomID()}
}

func (r *rawNode) addr() netip.AddrPort { return r.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (r *rawNode) send(to netip.AddrPort, b []byte) {
	r.t.Helper()
	if _, err := r.conn.WriteToUDPAddrPort(b, to); err != nil {
		r.t.Fatal(err)
	}
}

// recv returns the next datagram, failing the test if none comes in 5 s.
func (r *rawNode) recv() ([]byte, netip.AddrPort) {
	r.t.Helper()
	buf := make([]byte, 65536)
	r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := r.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		r.t.Fatalf("no datagram: %v", err)
	}
	return buf[:n], from
}

func (r *rawNode) recvMsg() (*krpc.Msg, int) {
	r.t.Helper()
	b, _ := r.recv()
	m, err := krpc.Parse(b)
	if err != nil {
		r.t.Fatalf("our server sent malformed KRPC %q: %v", b, err)
	}
	return m, len(b)
}

func (r *rawNode) query(method string, a krpc.Args, tid string) []byte {
	a.ID = r.id
	return krpc.AppendQuery(nil, []byte(tid), method, &a, false)
}

// expectOnly asserts that the next message from the server is the reply to
// a ping with transaction id tid, i.e. that whatever was sent before it got
// no answer. (A ping from a node the server does not know also makes the
// server ping back to verify it; those pings are skipped.)
func (r *rawNode) expectPingReply(to netip.AddrPort, tid string) {
	r.t.Helper()
	r.send(to, r.query(krpc.MethodPing, krpc.Args{}, tid))
	for {
		m, _ := r.recvMsg()
		if m.Y == krpc.Query && m.Q == krpc.MethodPing {
			continue
		}
		if m.Y != krpc.Response || string(m.T) != tid {
			r.t.Fatalf("got %c %q (t=%q) before the ping reply", m.Y, m.Q, m.T)
		}
		return
	}
}

func TestDefenceMalformed(t *testing.T) {
	s := newTestServer(t, Config{})
	r := newRaw(t)
	id := string(r.id[:])
	bad := []string{
		"",
		"garbage",
		"de",
		"d1:t2:aa1:y1:qe", // a query with no method or arguments
		"d1:ad2:id20:" + id + "e1:q4:ping1:t17:" + strings.Repeat("x", 17) + "1:y1:qe", // oversized transaction id
		"d1:ad2:id20:" + id + "9:info_hash20:" + id + "4:porti1e5:token65:" + strings.Repeat("x", 65) +
			"e1:q13:announce_peer1:t2:aa1:y1:qe", // oversized token
		"d1:ad2:id5:shorte1:q4:ping1:t2:aa1:y1:qe",                           // short id
		"d1:ad2:id20:" + id + "e1:q4:ping1:t2:aa1:y1:qe" + "trailing",        // trailing bytes
		"d1:x" + strings.Repeat("l", 5000) + strings.Repeat("e", 5000) + "e", // deep nesting
		"d1:t999999:x", // string longer than the datagram
		"d1:rd2:id20:" + id + "5:nodes27:" + strings.Repeat("n", 27) + "e1:t2:aa1:y1:re",                // nodes of the wrong length
		"d1:rd2:id20:" + id + "6:nodes626:" + strings.Repeat("n", 26) + "e1:t2:aa1:y1:re",               // nodes6 of the wrong length
		"d1:ad2:id20:" + id + "9:info_hash20:" + id + "4:porti99999ee1:q13:announce_peer1:t2:aa1:y1:qe", // port out of range
	}
	for _, b := range bad {
		r.send(s.Addr(), []byte(b))
	}
	r.expectPingReply(s.Addr(), "ok")
	waitfor.Cond(t, 5*time.Second, "all malformed datagrams counted", func() bool {
		return s.Stats().Malformed == uint64(len(bad))
	})
}

// TestDefenceUnsolicited: replies to queries we never sent, and replies to
// queries we did send but from another address, are dropped; a reply whose
// nodes string has the wrong length teaches us nothing.
func TestDefenceUnsolicited(t *testing.T) {
	boot := newRaw(t)
	spoof := newRaw(t)
	s := newTestServer(t, Config{Bootstrap: []string{boot.addr().String()}, QueryTimeout: 500 * time.Millisecond})

	// An unknown transaction id.
	resp := func(tid []byte, from *rawNode, nodes []krpc.NodeInfo) []byte {
		return krpc.AppendResponse(nil, tid, &krpc.Return{ID: from.id, Nodes: nodes}, netip.AddrPort{})
	}
	spoof.send(s.Addr(), resp([]byte{0xde, 0xad}, spoof, nil))
	spoof.send(s.Addr(), resp([]byte("long-transaction"), spoof, nil))

	// The server's self-lookup queries the bootstrap node; answer it from
	// the wrong address first.
	var q *krpc.Msg
	for {
		q, _ = boot.recvMsg()
		if q.Y == krpc.Query && q.Q == krpc.MethodFindNode {
			break
		}
	}
	evil := []krpc.NodeInfo{{ID: RandomID(), Addr: spoof.addr()}}
	spoof.send(s.Addr(), resp(q.T, spoof, evil))
	waitfor.Cond(t, 5*time.Second, "3 unsolicited replies counted", func() bool { return s.Stats().Unsolicited == 3 })
	// Now from the right address, but with a nodes string of 27 bytes.
	b := string(resp(q.T, boot, nil))
	b = strings.Replace(b, "e1:t", "5:nodes27:"+strings.Repeat("x", 27)+"e1:t", 1)
	boot.send(s.Addr(), []byte(b))
	waitfor.Cond(t, 5*time.Second, "the bad nodes string counted", func() bool { return s.Stats().Malformed == 1 })
	for _, n := range s.Nodes() {
		t.Errorf("routing table holds %v after only bad replies", n.Addr)
	}
}

// TestDefenceRateLimit floods the server with pings from one address: it
// answers about QueryBurst + QueryRate·elapsed of them and drops the rest.
func TestDefenceRateLimit(t *testing.T) {
	s := newTestServer(t, Config{QueryRate: 10, QueryBurst: 20})
	r := newRaw(t)
	const flood = 3000
	start := time.Now()
	var in uint64
	for i := range flood {
		if i%100 == 0 {
			// Pace the flood a little so that the kernel does not drop
			// most of it before the server reads it: wait until the
			// server has read something of the previous batch.
			if i > 0 {
				waitfor.Cond(t, 10*time.Second, "the server to read", func() bool { return s.Stats().PacketsIn > in })
			}
			in = s.Stats().PacketsIn
		}
		r.send(s.Addr(), r.query(krpc.MethodPing, krpc.Args{}, string([]byte{byte(i >> 8), byte(i)})))
	}
	waitfor.Cond(t, 10*time.Second, "the flood to be read", func() bool {
		return s.Stats().RateLimited >= 500
	})
	st := s.Stats()
	elapsed := time.Since(start).Seconds()
	limit := uint64(20 + 10*elapsed + 1)
	t.Logf("flood of %d pings in %.2fs: %d answered, %d rate limited", flood, elapsed, st.QueriesIn, st.RateLimited)
	if st.QueriesIn > limit {
		t.Errorf("answered %d queries, limit allows %d", st.QueriesIn, limit)
	}
	if st.RateLimited == 0 {
		t.Error("nothing was rate limited")
	}
}

func TestRateLimiterBounded(t *testing.T) {
	r := newRateLimiter(1, 2, 100)
	now := time.Now()
	ip := netip.MustParseAddr("127.0.0.1")
	first, second, third := r.allow(ip, now), r.allow(ip, now), r.allow(ip, now)
	if !first || !second || third {
		t.Error("burst of 2 not enforced")
	}
	if !r.allow(netip.MustParseAddr("::1"), now) {
		t.Error("another address is limited")
	}
	if !r.allow(ip, now.Add(time.Second)) {
		t.Error("no refill after a second")
	}
	for i := range 10000 {
		r.allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), now)
	}
	if len(r.buckets) > 100 {
		t.Errorf("tracking %d addresses, bound is 100", len(r.buckets))
	}
	r.sweep(now.Add(time.Hour))
	if len(r.buckets) != 0 {
		t.Errorf("sweep left %d addresses", len(r.buckets))
	}
}

// TestDefenceBadToken: announce_peer is refused without a token we issued
// to that IP; accepted with one.
func TestDefenceBadToken(t *testing.T) {
	s := newTestServer(t, Config{})
	r := newRaw(t)
	ih := RandomID()
	for _, tok := range []string{"", "bogus123", strings.Repeat("x", 8), strings.Repeat("y", 64)} {
		r.send(s.Addr(), r.query(krpc.MethodAnnouncePeer, krpc.Args{InfoHash: ih, Port: 1234, Token: []byte(tok)}, "an"))
		m, _ := r.recvMsg()
		for m.Y == krpc.Query { // a verification ping
			m, _ = r.recvMsg()
		}
		if m.Y != krpc.Error || m.E.Code != krpc.ErrProtocol {
			t.Errorf("token %q: got %+v, want a 203 error", tok, m)
		}
	}
	if st := s.Stats(); st.Peers != 0 || st.BadTokens != 4 {
		t.Fatalf("peers %d, bad tokens %d after bad announces", st.Peers, st.BadTokens)
	}
	r.send(s.Addr(), r.query(krpc.MethodGetPeers, krpc.Args{InfoHash: ih}, "gp"))
	m, _ := r.recvMsg()
	for m.Y == krpc.Query {
		m, _ = r.recvMsg()
	}
	r.send(s.Addr(), r.query(krpc.MethodAnnouncePeer, krpc.Args{InfoHash: ih, Port: 1234, Token: m.R.Token}, "an"))
	m, _ = r.recvMsg()
	for m.Y == krpc.Query {
		m, _ = r.recvMsg()
	}
	if m.Y != krpc.Response || s.Stats().Peers != 1 {
		t.Fatalf("valid token refused: %+v", m)
	}
}

func TestTokens(t *testing.T) {
	now := time.Now()
	tk := newTokens(now)
	a, b := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")
	tok := tk.issue(a)
	if !tk.valid(tok, a) || tk.valid(tok, b) {
		t.Fatal("token not tied to its address")
	}
	tk.maybeRotate(now.Add(tokenRotate))
	if !tk.valid(tok, a) {
		t.Fatal("token rejected after one rotation")
	}
	tk.maybeRotate(now.Add(2 * tokenRotate))
	if tk.valid(tok, a) {
		t.Fatal("token accepted after two rotations")
	}
}

// TestNoAmplification sends every kind of query and checks that each reply
// is at most amplificationMax times the query's size, and that every
// datagram the server sends goes to the query's source.
func TestNoAmplification(t *testing.T) {
	s := newTestServer(t, Config{})
	// Let the start-up self-lookup (with nobody to ask) finish before
	// filling the table, so the server sends no queries of its own.
	waitfor.Cond(t, 5*time.Second, "the start-up lookup", func() bool { return s.Stats().Lookups > 0 })
	ih := RandomID()
	now := time.Now()
	s.mu.Lock()
	for i := range 300 {
		id := RandomID()
		addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, byte(i >> 8), byte(i)}), 6881)
		s.t4.heardReply(id, addr, now)
		s.store.add(ih, addr, now)
	}
	s.mu.Unlock()
	r := newRaw(t)
	queries := map[string][]byte{
		"ping":              r.query(krpc.MethodPing, krpc.Args{}, "a"),
		"find_node":         r.query(krpc.MethodFindNode, krpc.Args{Target: ih}, "a"),
		"find_node n4 n6":   r.query(krpc.MethodFindNode, krpc.Args{Target: ih, Want: krpc.WantN4 | krpc.WantN6}, "a"),
		"get_peers":         r.query(krpc.MethodGetPeers, krpc.Args{InfoHash: ih}, "a"),
		"get_peers n4 n6":   r.query(krpc.MethodGetPeers, krpc.Args{InfoHash: ih, Want: krpc.WantN4 | krpc.WantN6}, "a"),
		"get_peers unknown": r.query(krpc.MethodGetPeers, krpc.Args{InfoHash: RandomID()}, "a"),
		"announce_peer":     r.query(krpc.MethodAnnouncePeer, krpc.Args{InfoHash: ih, Port: 1, Token: []byte("x")}, "a"),
		"unknown method":    r.query("vote", krpc.Args{}, "a"),
	}
	worst := 0.0
	sent := 0
	for name, q := range queries {
		r.send(s.Addr(), q)
		m, n := r.recvMsg()
		received := 1
		for m.Y == krpc.Query { // a verification ping to the source
			m, n = r.recvMsg()
			received++
		}
		sent += received
		ratio := float64(n) / float64(len(q))
		worst = max(worst, ratio)
		t.Logf("%-18s query %3d bytes, reply %3d bytes (%.2f×), values %d, nodes %d", name, len(q), n, ratio, len(m.R.Values), len(m.R.Nodes))
		if n > amplificationMax*len(q) {
			t.Errorf("%s: reply of %d bytes to a query of %d", name, n, len(q))
		}
		if name == "get_peers" && len(m.R.Values) == 0 {
			t.Errorf("get_peers returned no values")
		}
	}
	t.Logf("worst reply/query ratio %.2f", worst)
	// Everything the server sent reached the source of the queries. (The
	// counter moves just after each send.)
	waitfor.Cond(t, 5*time.Second, "the send counter", func() bool { return s.Stats().PacketsOut >= uint64(sent) })
	for uint64(sent) < s.Stats().PacketsOut {
		r.recv()
		sent++
	}
	if out := s.Stats().PacketsOut; out != uint64(sent) {
		t.Errorf("server sent %d datagrams, the querier received %d", out, sent)
	}
}

// TestReadOnly: a BEP 43 read-only node answers nothing, marks its queries
// "ro", and is not put in others' routing tables.
func TestReadOnly(t *testing.T) {
	full := newTestServer(t, Config{})
	ro := newTestServer(t, Config{ReadOnly: true, Bootstrap: []string{full.Addr().String()}})
	waitfor.Cond(t, 5*time.Second, "the read-only node to learn the full node", func() bool { return hasNode(ro, full.Addr()) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := ro.FindNode(ctx, RandomID()); err != nil {
		t.Fatal(err)
	}
	if hasNode(full, ro.Addr()) || full.Stats().VerificationsIssued != 0 {
		t.Error("the full node added or pinged the read-only node")
	}
	r := newRaw(t)
	r.send(ro.Addr(), r.query(krpc.MethodPing, krpc.Args{}, "p"))
	waitfor.Cond(t, 5*time.Second, "the read-only node to drop the ping", func() bool { return ro.Stats().Dropped == 1 })
	if st := ro.Stats(); st.QueriesIn != 0 {
		t.Errorf("read-only node answered %d queries", st.QueriesIn)
	}
}

// TestVerificationPingsBounded: queries from many unknown nodes that never
// answer (spoofed sources, say) make the server ping back at most
// maxServerPings/2 of them at a time: its pending queries stay bounded,
// and it sends each source at most its reply and one ping.
func TestVerificationPingsBounded(t *testing.T) {
	s := newTestServer(t, Config{QueryRate: 1e6, QueryBurst: 1e6, QueryTimeout: time.Minute})
	waitfor.Cond(t, 5*time.Second, "the start-up lookup", func() bool { return s.Stats().Lookups > 0 })
	const sources = 3 * maxServerPings / 2
	base := s.Stats()
	for i := range sources {
		r := newRaw(t)
		r.send(s.Addr(), r.query(krpc.MethodPing, krpc.Args{}, "p"))
		if i%50 == 49 {
			// Let the server read the batch before the socket buffer fills.
			waitfor.Cond(t, 10*time.Second, "the server to read", func() bool { return s.Stats().QueriesIn >= base.QueriesIn+uint64(i)/2 })
		}
	}
	waitfor.Cond(t, 10*time.Second, "every query answered", func() bool { return s.Stats().QueriesIn == base.QueriesIn+sources })
	st := s.Stats()
	t.Logf("%d sources: %d verification pings, %d pending, %d datagrams out", sources, st.VerificationsIssued, st.Pending, st.PacketsOut-base.PacketsOut)
	if st.VerificationsIssued-base.VerificationsIssued > maxServerPings/2 || st.Pending > maxServerPings {
		t.Errorf("%d verification pings issued, %d queries pending; bound %d", st.VerificationsIssued, st.Pending, maxServerPings/2)
	}
	if st.VerificationsIssued == 0 {
		t.Error("no unknown node was verified")
	}
	if out := st.PacketsOut - base.PacketsOut; out > sources+maxServerPings/2 {
		t.Errorf("%d datagrams sent for %d queries", out, sources)
	}
}
