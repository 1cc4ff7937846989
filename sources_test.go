package bt

import (
	"context"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/internal/waitfor"
)

// recordingSource is a PeerSource that hands out fixed peers and records
// what it was told.
type recordingSource struct {
	peers []netip.AddrPort
	mu    sync.Mutex
	reqs  []AnnounceRequest
}

func (s *recordingSource) Announce(ctx context.Context, req AnnounceRequest) (AnnounceResponse, error) {
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	return AnnounceResponse{Peers: s.peers, Interval: time.Hour}, nil
}

func (s *recordingSource) events() []AnnounceEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []AnnounceEvent
	for _, r := range s.reqs {
		out = append(out, r.Event)
	}
	return out
}

// TestPeerSource: peers come from a PeerSource, which is told started,
// completed and stopped with the torrent's numbers.
func TestPeerSource(t *testing.T) {
	dir := t.TempDir()
	src := makeData(t, filepath.Join(dir, "seed"), "tree", 90_000)
	mi := makeTorrent(t, src, 16<<10)
	s := newTestClient(t, Config{})
	st, _ := s.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "seed")})
	waitSeeding(t, st, 10*time.Second)

	rs := &recordingSource{peers: []netip.AddrPort{loopback(s.Port())}}
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), PeerSources: []PeerSource{rs}})
	if err != nil {
		t.Fatal(err)
	}
	waitComplete(t, tor, 30*time.Second)
	waitfor.Cond(t, 10*time.Second, "the completed announce", func() bool {
		ev := rs.events()
		return len(ev) >= 2 && ev[len(ev)-1] == AnnounceCompleted
	})
	tor.Stop()
	waitfor.Cond(t, 10*time.Second, "the stopped announce", func() bool {
		ev := rs.events()
		return ev[len(ev)-1] == AnnounceStopped
	})
	rs.mu.Lock()
	defer rs.mu.Unlock()
	first, last := rs.reqs[0], rs.reqs[len(rs.reqs)-1]
	if first.Event != AnnounceStarted || first.Left != mi.Info.TotalLength() || first.InfoHash != mi.InfoHash ||
		first.Port != c.Port() || first.PeerID != c.PeerID() {
		t.Errorf("first announce %+v", first)
	}
	if last.Left != 0 || last.Downloaded < mi.Info.TotalLength() {
		t.Errorf("stopped announce %+v", last)
	}
}

// blockingSource is a PeerSource whose started announces hang until their
// context ends (a tracker that never answers); it records the calls and
// the most that were ever in flight at once.
type blockingSource struct {
	mu                    sync.Mutex
	events                []AnnounceEvent
	cancelled             []bool // whether each call returned because its ctx ended
	inFlight, maxInFlight int
}

func (s *blockingSource) Announce(ctx context.Context, req AnnounceRequest) (AnnounceResponse, error) {
	s.mu.Lock()
	s.events = append(s.events, req.Event)
	k := len(s.events) - 1
	s.cancelled = append(s.cancelled, false)
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	s.mu.Unlock()
	var err error
	if req.Event == AnnounceStarted {
		<-ctx.Done()
		err = ctx.Err()
	}
	s.mu.Lock()
	s.inFlight--
	s.cancelled[k] = err != nil
	s.mu.Unlock()
	return AnnounceResponse{}, err
}

func (s *blockingSource) calls() ([]AnnounceEvent, []bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AnnounceEvent(nil), s.events...), append([]bool(nil), s.cancelled...), s.maxInFlight
}

// TestPeerSourceStopOverlap: Stop while a started announce hangs. The stop
// cancels it, and the stopped announce goes out only once it has returned;
// started again, the next started waits for the stopped. Calls to one
// source never overlap, as PeerSource promises.
func TestPeerSourceStopOverlap(t *testing.T) {
	dir := t.TempDir()
	mi := makeTorrent(t, makeData(t, filepath.Join(dir, "seed"), "tree", 40_000), 16<<10)
	src := &blockingSource{}
	c := newTestClient(t, Config{})
	tor, err := c.AddTorrent(mi, &TorrentOptions{Dir: filepath.Join(dir, "leech"), PeerSources: []PeerSource{src}})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 10*time.Second, "the started announce", func() bool { ev, _, _ := src.calls(); return len(ev) == 1 })
	if err := tor.Stop(); err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 10*time.Second, "the stopped announce", func() bool { ev, _, _ := src.calls(); return len(ev) == 2 })
	if err := tor.Start(); err != nil {
		t.Fatal(err)
	}
	waitfor.Cond(t, 10*time.Second, "the second started announce", func() bool { ev, _, _ := src.calls(); return len(ev) == 3 })
	ev, cancelled, most := src.calls()
	if want := []AnnounceEvent{AnnounceStarted, AnnounceStopped, AnnounceStarted}; !slices.Equal(ev, want) {
		t.Errorf("announces %v, want %v", ev, want)
	}
	if !cancelled[0] {
		t.Error("Stop did not cancel the started announce in flight")
	}
	if most != 1 {
		t.Errorf("%d announces to one source were in flight at once", most)
	}
}
