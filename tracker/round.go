package tracker

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/bt-go/bt/internal/termtext"
)

// round announces group g: each tier in order, each tracker of a tier in
// order, until one answers. The first that answers moves to the front of its
// tier, its peers go to the Peers callback and the group's next round is set
// by its interval; if none answers, the next round is a retry with back-off.
func (a *Announcer) round(ctx context.Context, g *group) {
	var st Stats
	if a.cfg.Stats != nil {
		st = a.cfg.Stats()
	}
	for _, ti := range g.tiers {
		t := a.tiers[ti]
		a.mu.Lock()
		urls := slices.Clone(t.urls)
		a.mu.Unlock()
		for _, u := range urls {
			a.mu.Lock()
			ev := EventNone
			switch {
			case !t.started[u]:
				ev = EventStarted
			case t.completedDue:
				ev = EventCompleted
			}
			req := AnnounceRequest{
				InfoHash: a.cfg.InfoHash, PeerID: a.cfg.PeerID, Port: a.cfg.Port,
				Uploaded: st.Uploaded, Downloaded: st.Downloaded, Left: st.Left,
				Event: ev, NumWant: a.cfg.NumWant, Key: a.cfg.Key, TrackerID: t.trackerIDs[u],
			}
			a.mu.Unlock()

			resp, err := a.client.Announce(ctx, u, req)
			if err != nil && ctx.Err() != nil {
				// Ending, not the tracker's failure. The request may have
				// reached it, so it will hear "stopped" too.
				a.mu.Lock()
				t.started[u] = true
				a.mu.Unlock()
				return
			}
			now := time.Now()
			if err != nil {
				a.mu.Lock()
				t.status.Failures++
				t.status.LastError = err
				gone := Permanent(err) && a.dropLocked(t, u)
				a.mu.Unlock()
				if gone {
					a.log.Warn("tracker failed for good; not announcing to it again", "url", termtext.Safe(u), "err", err)
					continue
				}
				a.log.Debug("tracker announce failed", "url", termtext.Safe(u), "event", ev.String(), "err", err)
				continue
			}
			interval, minWait := a.intervals(resp)
			a.mu.Lock()
			if i := slices.Index(t.urls, u); i > 0 {
				t.urls = slices.Insert(slices.Delete(t.urls, i, i+1), 0, u)
			}
			t.started[u] = true
			if ev == EventCompleted {
				t.completedDue = false
			} else if t.completedDue {
				// "completed" is still to tell this tracker (Completed came
				// before its "started" went out, or during it): at once.
				g.asked = askedNow
			}
			if resp.TrackerID != "" {
				t.trackerIDs[u] = resp.TrackerID
			}
			s := &t.status
			s.Complete, s.Incomplete = resp.Complete, resp.Incomplete
			s.Failures, s.LastError, s.Warning = 0, nil, resp.Warning
			s.Peers, s.Peers6 = nil, nil
			for _, p := range resp.Peers {
				if p.Addr().Is4() {
					s.Peers = append(s.Peers, p)
				} else {
					s.Peers6 = append(s.Peers6, p)
				}
			}
			s.Interval, s.LastAnnounce = interval, now
			g.last, g.minWait, g.failedRun = now, minWait, 0
			a.scheduleLocked(g, now.Add(interval))
			a.mu.Unlock()
			a.log.Debug("tracker announce", "url", termtext.Safe(u), "event", ev.String(), "peers", len(resp.Peers),
				"interval", interval, "seeds", resp.Complete, "leechers", resp.Incomplete)
			if a.cfg.Peers != nil && len(resp.Peers) > 0 {
				a.cfg.Peers(resp.Peers)
			}
			return
		}
	}
	a.mu.Lock()
	g.failedRun++
	wait := a.cfg.MaxInterval
	if g.failedRun < 30 {
		wait = min(a.cfg.RetryInterval<<(g.failedRun-1), a.cfg.MaxInterval)
	}
	a.scheduleLocked(g, time.Now().Add(wait))
	a.mu.Unlock()
}

// scheduleLocked sets g's next round and the NextAnnounce of its tiers,
// brought forward by a Completed or Reannounce made during the round.
func (a *Announcer) scheduleLocked(g *group, next time.Time) {
	now := time.Now()
	switch g.asked {
	case askedNow:
		next = now
	case askedReannounce:
		if at := g.last.Add(g.minWait); at.Before(next) {
			next = at
		}
	}
	g.asked = askedNothing
	g.next = next
	for _, ti := range g.tiers {
		a.tiers[ti].status.NextAnnounce = next
	}
}

// intervals clamps a reply's interval to [lo, MaxInterval], where lo is
// MinInterval raised to the tracker's "min interval" (but not past
// MaxInterval); lo is also the least wait Reannounce respects.
func (a *Announcer) intervals(resp *AnnounceResponse) (interval, lo time.Duration) {
	lo = min(max(a.cfg.MinInterval, resp.MinInterval), a.cfg.MaxInterval)
	interval = resp.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	return min(max(interval, lo), a.cfg.MaxInterval), lo
}

// stop sends "stopped" to every tracker that accepted "started", all at
// once, each bounded by StopTimeout. A tracker not yet told "completed"
// after Completed hears it first: a download that ends as its process
// exits still counts in the tracker's downloads.
func (a *Announcer) stop(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.StopTimeout)
	defer cancel()
	var st Stats
	if a.cfg.Stats != nil {
		st = a.cfg.Stats()
	}
	var wg sync.WaitGroup
	a.mu.Lock()
	for _, t := range a.tiers {
		if t.completedDue && len(t.started) == 0 && len(t.urls) > 0 {
			// Run ended before this tier heard "started": the first
			// tracker still hears that the download completed.
			t.started[t.urls[0]] = true
		}
		for u := range t.started {
			req := AnnounceRequest{
				InfoHash: a.cfg.InfoHash, PeerID: a.cfg.PeerID, Port: a.cfg.Port,
				Uploaded: st.Uploaded, Downloaded: st.Downloaded, Left: st.Left,
				Event: EventStopped, NumWant: 0, Key: a.cfg.Key, TrackerID: t.trackerIDs[u],
			}
			completed := t.completedDue
			wg.Go(func() {
				if completed {
					c := req
					c.Event, c.NumWant = EventCompleted, a.cfg.NumWant
					if _, err := a.client.Announce(ctx, u, c); err != nil {
						a.log.Debug("tracker completed announce failed", "url", termtext.Safe(u), "err", err)
					}
				}
				if _, err := a.client.Announce(ctx, u, req); err != nil {
					a.log.Debug("tracker stopped announce failed", "url", termtext.Safe(u), "err", err)
				}
			})
		}
		clear(t.started)
		t.completedDue = false
	}
	a.mu.Unlock()
	wg.Wait()
}
