package pex

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

// harness drives one Extension without a connection: sent payloads are
// decoded and collected, events recorded.
type harness struct {
	t     *testing.T
	clock *manualClock
	ext   *Extension

	mu      sync.Mutex
	msgs    []*Message
	peers   []Peer
	dropped []netip.AddrPort
}

var (
	remoteAddr = ap("127.0.0.1:40000")
	remoteP    = 6881
)

func newHarness(t *testing.T, cfg Config) *harness {
	h := &harness{t: t, clock: newManualClock()}
	cfg.Clock = h.clock
	cfg.OnPeer = func(a netip.AddrPort, f Flags) {
		h.mu.Lock()
		h.peers = append(h.peers, Peer{a, f})
		h.mu.Unlock()
	}
	cfg.OnDropped = func(a netip.AddrPort) {
		h.mu.Lock()
		h.dropped = append(h.dropped, a)
		h.mu.Unlock()
	}
	h.ext = New(cfg)
	return h
}

func (h *harness) send(p []byte) error {
	m, err := ParseMessage(p)
	if err != nil {
		h.t.Errorf("we sent an unparsable message %q: %v", p, err)
		return err
	}
	if len(m.Added) == 0 && len(m.Dropped) == 0 {
		h.t.Errorf("we sent an empty message %q", p)
	}
	h.mu.Lock()
	h.msgs = append(h.msgs, m)
	h.mu.Unlock()
	return nil
}

// handshake simulates the remote's extended handshake.
func (h *harness) handshake(supported bool) {
	h.ext.attach(remoteAddr, netip.AddrPortFrom(remoteAddr.Addr(), uint16(remoteP)), nil, supported, h.send)
}

func (h *harness) sent() []*Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.msgs)
}

func addrs(ps []Peer) []netip.AddrPort {
	var s []netip.AddrPort
	for _, p := range ps {
		s = append(s, p.Addr)
	}
	return s
}

func peerN(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 6881)
}

func encode(t *testing.T, m *Message) []byte {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFirstMessageCarriesCurrentSet(t *testing.T) {
	h := newHarness(t, Config{})
	h.ext.AddPeerFlags(ap("10.0.0.1:1000"), FlagSeed)
	h.ext.AddPeer(ap("10.0.0.2:1000"))
	h.ext.Start()
	h.clock.Advance(0)
	if len(h.sent()) != 0 {
		t.Fatal("sent before the remote's handshake")
	}
	h.handshake(true)
	h.clock.Advance(0)
	msgs := h.sent()
	if len(msgs) != 1 {
		t.Fatalf("sent %d messages, want 1", len(msgs))
	}
	want := []Peer{{ap("10.0.0.1:1000"), FlagSeed}, {ap("10.0.0.2:1000"), 0}}
	if !slices.Equal(msgs[0].Added, want) || len(msgs[0].Dropped) != 0 {
		t.Errorf("first message = %+v, want added %v", msgs[0], want)
	}
}

func TestAtMostOneMessagePerMinute(t *testing.T) {
	h := newHarness(t, Config{})
	h.handshake(true)
	h.ext.Start()
	h.ext.AddPeer(peerN(1))
	h.clock.Advance(0)
	for i := 2; i < 10; i++ {
		h.ext.AddPeer(peerN(i))
		h.clock.Advance(5 * time.Second)
	}
	if n := len(h.sent()); n != 1 {
		t.Fatalf("after 40 s: %d messages, want 1", n)
	}
	h.clock.Advance(20 * time.Second) // 60 s after the first
	msgs := h.sent()
	if len(msgs) != 2 {
		t.Fatalf("after 60 s: %d messages, want 2", len(msgs))
	}
	if got := len(msgs[1].Added); got != 8 {
		t.Errorf("second message adds %d peers, want the 8 batched", got)
	}
	// Nothing changes: nothing is sent and no timer is left running.
	h.clock.Advance(10 * time.Minute)
	if len(h.sent()) != 2 || h.clock.Pending() != 0 {
		t.Errorf("idle: %d messages, %d timers", len(h.sent()), h.clock.Pending())
	}
}

func TestDiffsAndLimits(t *testing.T) {
	h := newHarness(t, Config{})
	h.handshake(true)
	h.ext.Start()
	for i := range 130 {
		h.ext.AddPeer(peerN(i))
	}
	h.clock.Advance(0)
	msgs := h.sent()
	if len(msgs) != 1 || len(msgs[0].Added) != MaxFirstAdded {
		t.Fatalf("first message: %d messages, %d added; want 1, %d", len(msgs), len(msgs[0].Added), MaxFirstAdded)
	}
	// Drop 60 that were sent and one never sent; add 70 more.
	for i := range 60 {
		h.ext.DropPeer(peerN(i))
	}
	h.ext.DropPeer(peerN(129))
	for i := 200; i < 270; i++ {
		h.ext.AddPeer(peerN(i))
	}
	h.clock.Advance(Interval)
	h.clock.Advance(Interval)
	h.clock.Advance(Interval)
	msgs = h.sent()
	added, dropped := map[netip.AddrPort]int{}, map[netip.AddrPort]int{}
	for i, m := range msgs[1:] {
		if len(m.Added) > MaxAdded || len(m.Dropped) > MaxDropped {
			t.Errorf("message %d: %d added, %d dropped", i+1, len(m.Added), len(m.Dropped))
		}
		for _, p := range m.Added {
			added[p.Addr]++
		}
		for _, a := range m.Dropped {
			dropped[a]++
		}
	}
	// Remaining to add: 100..128 (29, never sent) + 70 new = 99; to drop: 60.
	if len(added) != 99 || len(dropped) != 60 {
		t.Errorf("later messages added %d, dropped %d; want 99, 60", len(added), len(dropped))
	}
	if _, ok := dropped[peerN(129)]; ok {
		t.Error("dropped a peer the remote never learnt of")
	}
	for a, n := range added {
		if n != 1 || dropped[a] != 0 {
			t.Errorf("%v added %d times, dropped %d times", a, n, dropped[a])
		}
	}
}

func TestTransientPeerElided(t *testing.T) {
	h := newHarness(t, Config{})
	h.handshake(true)
	h.ext.Start()
	h.ext.AddPeer(peerN(1))
	h.clock.Advance(0)
	h.ext.AddPeer(peerN(2))
	h.ext.DropPeer(peerN(2))
	h.clock.Advance(Interval)
	if n := len(h.sent()); n != 1 {
		t.Errorf("sent %d messages, want 1: a peer added and dropped between messages is not news", n)
	}
}

func TestNeverOwnOrRemoteAddress(t *testing.T) {
	self := ap("127.0.0.1:7000")
	h := newHarness(t, Config{Self: []netip.AddrPort{self}})
	h.handshake(true)
	h.ext.Start()
	h.ext.AddPeer(self)
	h.ext.AddPeer(remoteAddr)
	h.ext.AddPeer(netip.AddrPortFrom(remoteAddr.Addr(), uint16(remoteP)))
	h.ext.AddPeer(ap("[::ffff:127.0.0.1]:7000")) // self, IPv4-mapped
	h.ext.AddPeer(ap("127.0.0.1:0"))
	h.ext.AddPeer(ap("127.0.0.2:7000"))
	h.clock.Advance(0)
	msgs := h.sent()
	if len(msgs) != 1 || !slices.Equal(addrs(msgs[0].Added), []netip.AddrPort{ap("127.0.0.2:7000")}) {
		t.Errorf("sent %+v, want only 127.0.0.2:7000", msgs)
	}
	// The same addresses from the remote are not reported either.
	h.ext.handle(encode(t, &Message{Added: []Peer{{self, 0}, {remoteAddr, 0}, {ap("127.0.0.3:1"), 0}}}))
	if !slices.Equal(addrs(h.peers), []netip.AddrPort{ap("127.0.0.3:1")}) {
		t.Errorf("reported %v, want only 127.0.0.3:1", h.peers)
	}
}

func TestStopAndReset(t *testing.T) {
	h := newHarness(t, Config{})
	h.handshake(true)
	h.ext.Start()
	h.ext.AddPeer(peerN(1))
	h.clock.Advance(0)
	h.ext.Stop()
	h.ext.AddPeer(peerN(2))
	h.clock.Advance(10 * time.Minute)
	if n := len(h.sent()); n != 1 {
		t.Fatalf("sent %d messages after Stop, want 1", n)
	}
	h.ext.Start()
	h.clock.Advance(0)
	if msgs := h.sent(); len(msgs) != 2 || !slices.Equal(addrs(msgs[1].Added), []netip.AddrPort{peerN(2)}) {
		t.Fatalf("after Start again: %+v", msgs)
	}

	h.ext.handle(encode(t, &Message{Added: []Peer{{peerN(9), 0}}}))
	h.ext.Reset()
	h.clock.Advance(10 * time.Minute)
	if n := len(h.sent()); n != 2 {
		t.Fatalf("sent %d messages after Reset, want 2", n)
	}
	if len(h.ext.Peers()) != 0 {
		t.Errorf("Peers after Reset = %v, want none", h.ext.Peers())
	}
	// Reset forgot what the remote announced: announced again, it is reported again.
	h.clock.Advance(time.Minute)
	h.ext.handle(encode(t, &Message{Added: []Peer{{peerN(9), 0}}}))
	if len(h.peers) != 2 {
		t.Errorf("peer events = %v, want peerN(9) twice", h.peers)
	}
	// After Reset and Start, the peers the remote learnt from us are dropped.
	h.ext.Start()
	h.clock.Advance(0)
	msgs := h.sent()
	if len(msgs) != 3 || len(msgs[2].Added) != 0 || !slices.Equal(msgs[2].Dropped, []netip.AddrPort{peerN(1), peerN(2)}) {
		t.Errorf("after Reset+Start: %+v, want peers 1 and 2 dropped", msgs[len(msgs)-1])
	}
}

func TestEventsNeedSupport(t *testing.T) {
	h := newHarness(t, Config{})
	payload := encode(t, &Message{Added: []Peer{{peerN(1), 0}}})
	if err := h.ext.handle(payload); err != nil {
		t.Fatal(err)
	}
	h.handshake(false)
	if err := h.ext.handle(payload); err != nil {
		t.Fatal(err)
	}
	h.ext.Start()
	h.ext.AddPeer(peerN(2))
	h.clock.Advance(time.Hour)
	if len(h.peers) != 0 || len(h.sent()) != 0 {
		t.Errorf("without ut_pex support: events %v, sent %v", h.peers, h.sent())
	}
}

func TestPeerAndDroppedEvents(t *testing.T) {
	h := newHarness(t, Config{})
	h.handshake(true)
	m1 := &Message{Added: []Peer{{peerN(1), FlagSeed}, {peerN(2), 0}, {peerN(1), FlagSeed}}}
	h.ext.handle(encode(t, m1))
	h.clock.Advance(time.Minute)
	m2 := &Message{Added: []Peer{{peerN(2), 0}, {peerN(3), FlagUTP}}, Dropped: []netip.AddrPort{peerN(1), peerN(7)}}
	h.ext.handle(encode(t, m2))
	wantPeers := []Peer{{peerN(1), FlagSeed}, {peerN(2), 0}, {peerN(3), FlagUTP}}
	if !slices.Equal(h.peers, wantPeers) {
		t.Errorf("peer events = %v, want %v", h.peers, wantPeers)
	}
	if !slices.Equal(h.dropped, []netip.AddrPort{peerN(1)}) {
		t.Errorf("dropped events = %v, want only peerN(1) (peerN(7) was never announced)", h.dropped)
	}
	if got := h.ext.Peers(); !slices.Equal(got, []netip.AddrPort{peerN(2), peerN(3)}) {
		t.Errorf("Peers = %v", got)
	}
}

func TestFloodDisconnects(t *testing.T) {
	h := newHarness(t, Config{})
	h.handshake(true)
	payload := encode(t, &Message{Added: []Peer{{peerN(1), 0}}})
	// One a minute for an hour is fine.
	for range 60 {
		if err := h.ext.handle(payload); err != nil {
			t.Fatalf("message a minute: %v", err)
		}
		h.clock.Advance(time.Minute)
	}
	// DefaultMaxPerMinute within a minute is tolerated; one more is not.
	for i := range DefaultMaxPerMinute {
		if err := h.ext.handle(payload); err != nil {
			t.Fatalf("message %d in a burst: %v", i, err)
		}
		h.clock.Advance(time.Second)
	}
	if err := h.ext.handle(payload); !errors.Is(err, ErrTooFrequent) {
		t.Errorf("message %d within a minute: error %v, want ErrTooFrequent", DefaultMaxPerMinute+1, err)
	}
}

func TestInvalidPayloadDisconnects(t *testing.T) {
	h := newHarness(t, Config{})
	h.handshake(true)
	for _, p := range []string{"le", "i1e", "d"} {
		if err := h.ext.handle([]byte(p)); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("payload %q: error %v, want ErrInvalidMessage", p, err)
		}
		h.clock.Advance(time.Minute)
	}
}

func TestRemotePeersBounded(t *testing.T) {
	h := newHarness(t, Config{MaxRemotePeers: 150})
	h.handshake(true)
	for round := range 10 {
		var m Message
		for i := range 100 {
			m.Added = append(m.Added, Peer{peerN(round*100 + i), 0})
		}
		if err := h.ext.handle(encode(t, &m)); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(time.Minute)
	}
	if len(h.peers) != 150 || len(h.ext.Peers()) != 150 {
		t.Errorf("reported %d, remembered %d; want 150 each", len(h.peers), len(h.ext.Peers()))
	}
	// Dropping makes room again.
	h.ext.handle(encode(t, &Message{Dropped: []netip.AddrPort{peerN(0)}, Added: []Peer{{peerN(5000), 0}}}))
	if len(h.peers) != 151 || len(h.dropped) != 1 {
		t.Errorf("after a drop: %d reported, %d dropped", len(h.peers), len(h.dropped))
	}
}

func TestLocalAddressesOnlyFromLocalRemote(t *testing.T) {
	h := newHarness(t, Config{})
	h.ext.attach(ap("203.0.113.5:5000"), netip.AddrPort{}, nil, true, h.send)
	h.ext.handle(encode(t, &Message{Added: []Peer{
		{ap("127.0.0.1:80"), 0}, {ap("192.168.0.1:80"), 0}, {ap("198.51.100.7:80"), 0},
	}}))
	if !slices.Equal(addrs(h.peers), []netip.AddrPort{ap("198.51.100.7:80")}) {
		t.Errorf("from a public remote, reported %v; want only the public address", h.peers)
	}
}

func TestCloseStopsTimers(t *testing.T) {
	h := newHarness(t, Config{})
	h.handshake(true)
	h.ext.Start()
	h.ext.AddPeer(peerN(1))
	h.clock.Advance(0)
	h.ext.AddPeer(peerN(2))
	if h.clock.Pending() != 1 {
		t.Fatalf("%d timers pending, want 1", h.clock.Pending())
	}
	h.ext.close()
	if h.clock.Pending() != 0 {
		t.Errorf("%d timers pending after close", h.clock.Pending())
	}
	h.ext.Start()
	h.ext.AddPeer(peerN(3))
	h.clock.Advance(time.Hour)
	if n := len(h.sent()); n != 1 {
		t.Errorf("sent %d messages, want 1 (nothing after close)", n)
	}
}

func TestConcurrentUse(t *testing.T) {
	h := newHarness(t, Config{})
	h.handshake(true)
	h.ext.Start()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				a := peerN(g*1000 + i)
				h.ext.AddPeer(a)
				if i%3 == 0 {
					h.ext.DropPeer(a)
				}
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			h.clock.Advance(Interval)
		}
	})
	wg.Go(func() {
		for i := range 50 {
			h.ext.handle(fmt.Appendf(nil, "d5:added6:\x0a\x00\x00%c\x00\x01e", byte(i)))
			_ = h.ext.Peers()
		}
	})
	wg.Wait()
}
