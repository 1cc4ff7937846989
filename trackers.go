package bt

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bt-go/bt/tracker"
)

// Trackers as a peer source (BEP 3, 12, 15, 23, 27). While a torrent is
// not stopped, and once its data has been checked, it runs a
// tracker.Announcer over its own tiers (the .torrent's announce-list or
// announce, or a magnet link's tr= trackers, one to a tier): "started",
// regular announces at the tracker's interval, "completed" once when a
// download finishes in this run, and "stopped" when the torrent stops or
// closes. The peers the trackers return are dialled like any others.
// Trackers added with AddTrackers run in an Announcer of their own. The
// DHT half of the torrent's discovery is in dht.go.

// ErrPrivate is returned when an operation would use a source that a
// private torrent (BEP 27) must not use, such as a tracker that is not in
// its metainfo.
var ErrPrivate = errors.New("bt: private torrent")

// discovery is a torrent's tracker and DHT state. The fields marked
// "loop" are owned by the torrent's loop goroutine.
type discovery struct {
	running bool               // loop: announcers (and DHT lookups) run
	cancel  context.CancelFunc // loop: ends this run's announcers and lookups
	ctx     context.Context    // loop: this run's context
	dlStart int64              // loop: Downloaded when the run began
	doneDue bool               // loop: completed before the run began; tell its trackers
	reann   time.Time          // loop: last Reannounce asked
	wg      sync.WaitGroup     // the run's goroutines, old runs included

	left atomic.Int64 // what announces report as left, refreshed by the loop

	mu    sync.Mutex // guards anns and extra; never held across I/O
	anns  []*tracker.Announcer
	extra [][]string // tiers added by AddTrackers

	dht dhtState // loop: (dht.go)
}

// lowPeers is the connection count under which the torrent asks its
// trackers and the DHT for more peers early.
const lowPeers = 5

// Trackers returns the per-tier report of the torrent's trackers (the
// seed's trackers()): for each tier its URLs (the working tracker first),
// the seeds (Complete) and leechers (Incomplete) of the latest reply, the
// consecutive failures, the latest IPv4 and IPv6 peers and the last
// error. Tiers added with AddTrackers come after the torrent's own. It is
// empty until the torrent has checked its data and begun announcing; after
// a stop it shows the last run until the next start.
func (t *Torrent) Trackers() []tracker.TierStatus {
	t.disc.mu.Lock()
	anns := slices.Clone(t.disc.anns)
	t.disc.mu.Unlock()
	var out []tracker.TierStatus
	for _, a := range anns {
		out = append(out, a.Trackers()...)
	}
	return out
}

// AddTrackers adds tiers of tracker URLs (http, https, udp) to the
// torrent; each inner slice is one BEP 12 tier. URLs the torrent already
// has are left out. They are announced to
// from the next start on, or at once if the torrent is running. A private
// torrent (BEP 27) accepts no trackers but its own: AddTrackers then
// returns ErrPrivate.
func (t *Torrent) AddTrackers(tiers ...[]string) error {
	var err error
	e := t.call(func() {
		if t.private() {
			err = ErrPrivate
			return
		}
		t.disc.mu.Lock()
		known := make(map[string]bool)
		for _, tier := range slices.Concat(t.ownTiers(), t.disc.extra) {
			for _, u := range tier {
				known[u] = true
			}
		}
		t.disc.mu.Unlock()
		var add [][]string
		for _, tier := range tiers {
			var keep []string
			for _, u := range tier {
				if u != "" && !known[u] {
					known[u] = true
					keep = append(keep, u)
				}
			}
			if len(keep) > 0 {
				add = append(add, keep)
			}
		}
		if len(add) == 0 {
			return
		}
		t.disc.mu.Lock()
		t.disc.extra = append(t.disc.extra, add...)
		t.disc.mu.Unlock()
		if t.disc.running {
			t.runAnnouncer(add)
		}
	})
	if e != nil {
		return e
	}
	return err
}

// private reports whether the torrent is known to be private (BEP 27).
func (t *Torrent) private() bool {
	m := t.meta.Load()
	return m != nil && m.info.Private
}

// ownTiers returns the torrent's own trackers as BEP 12 tiers.
func (t *Torrent) ownTiers() [][]string {
	if m := t.meta.Load(); m != nil {
		return tracker.Tiers(m.mi.Announce, m.mi.AnnounceList)
	}
	var tiers [][]string
	if t.magnet != nil {
		for _, u := range t.magnet.Trackers {
			tiers = append(tiers, []string{u})
		}
	}
	return tiers
}

// discoveryTick starts and stops the torrent's trackers and DHT lookups
// as its state asks, asks for more peers when short of them, and
// refreshes what announces report. It runs on the loop, on every tick and
// when the torrent starts.
func (t *Torrent) discoveryTick(now time.Time) {
	d := &t.disc
	want := t.state != Stopped && !t.closing.Load() && t.err == nil
	if !want {
		if d.running {
			t.stopDiscovery()
		}
		return
	}
	t.refreshLeft()
	if !d.running {
		if t.checking {
			return // announce what we have, once we know it
		}
		t.startDiscovery()
	}
	short := t.state == Started && !t.completed && len(t.peers) < lowPeers
	if short && now.Sub(d.reann) >= 10*time.Second {
		d.reann = now
		d.mu.Lock()
		for _, a := range d.anns {
			a.Reannounce()
		}
		d.mu.Unlock()
	}
	t.dhtTick(now, short)
}

// refreshLeft updates what announces report as left (the announcers read
// it from their own goroutines). It runs on the loop.
func (t *Torrent) refreshLeft() {
	t.disc.left.Store(t.announceRequest(AnnounceNone).Left)
}

// startDiscovery begins a run: the announcers of the torrent's tiers.
func (t *Torrent) startDiscovery() {
	d := &t.disc
	d.running = true
	d.ctx, d.cancel = context.WithCancel(t.ctx)
	d.dlStart = t.downloaded.Load()
	d.mu.Lock()
	d.anns = nil
	extra := slices.Clone(d.extra)
	d.mu.Unlock()
	if t.cfg.NoTrackers {
		return
	}
	if own := t.ownTiers(); len(own) > 0 {
		t.runAnnouncer(own)
	}
	if len(extra) > 0 && !t.private() {
		t.runAnnouncer(extra)
	}
	if d.doneDue {
		t.discoveryCompleted()
		d.doneDue = false
	}
}

// runAnnouncer starts an Announcer for tiers in the current run.
func (t *Torrent) runAnnouncer(tiers [][]string) {
	d := &t.disc
	if t.cfg.NoTrackers || t.client.disc.trackers == nil {
		return
	}
	port := t.client.Port()
	a := tracker.NewAnnouncer(tracker.AnnouncerConfig{
		Client:   t.client.disc.trackers,
		Tiers:    tiers,
		InfoHash: t.infoHash, PeerID: t.client.peerID, Port: uint16(port),
		NumWant:     t.cfg.TrackerNumWant,
		MinInterval: t.cfg.TrackerMinInterval,
		MaxInterval: t.cfg.TrackerMaxInterval,
		Stats: func() tracker.Stats {
			return tracker.Stats{Uploaded: t.uploaded.Load(), Downloaded: t.downloaded.Load(), Left: d.left.Load()}
		},
		Peers: func(peers []netip.AddrPort) {
			t.post(func() { t.addSourcePeers(peers) })
		},
		Logger: t.log,
	})
	d.mu.Lock()
	d.anns = append(d.anns, a)
	d.mu.Unlock()
	ctx := d.ctx
	d.wg.Go(func() { a.Run(ctx) })
}

// addSourcePeers takes peers from a tracker or the DHT (on the loop).
func (t *Torrent) addSourcePeers(peers []netip.AddrPort) {
	if t.state == Stopped {
		return
	}
	for _, a := range peers {
		t.addKnown(a)
	}
	t.dialMore()
}

// discoveryCompleted tells the trackers the download completed, if it
// did in this run (no "completed" for data that was complete at start).
func (t *Torrent) discoveryCompleted() {
	d := &t.disc
	if !d.running {
		// Completed between the check and the first tick's start of
		// discovery: the run about to begin tells its trackers.
		d.doneDue = t.downloaded.Load() > 0
		return
	}
	if t.downloaded.Load() <= d.dlStart && !d.doneDue {
		return
	}
	// The announce goes out at once: it must say left=0, not what the
	// last tick saw, or the tracker keeps counting us as a leecher.
	t.refreshLeft()
	d.mu.Lock()
	for _, a := range d.anns {
		a.Completed()
	}
	d.mu.Unlock()
}

// stopDiscovery ends the run: the announcers send "stopped" in the
// background (waitDiscovery waits for them), DHT lookups end.
func (t *Torrent) stopDiscovery() {
	d := &t.disc
	if !d.running {
		return
	}
	d.running = false
	d.cancel()
	d.dht = dhtState{}
}

// waitDiscovery waits for every goroutine of the torrent's runs.
func (t *Torrent) waitDiscovery() { t.disc.wg.Wait() }
