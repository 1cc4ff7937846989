package bt

import (
	"context"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"
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
	waitFor(t, 10*time.Second, "the completed announce", func() bool {
		ev := rs.events()
		return len(ev) >= 2 && ev[len(ev)-1] == AnnounceCompleted
	})
	tor.Stop()
	waitFor(t, 10*time.Second, "the stopped announce", func() bool {
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
