package tracker

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Bounds the Announcer applies to the intervals trackers send (see
// AnnouncerConfig): a tracker cannot make us announce more often than once a
// minute, nor make us wait more than an hour.
const (
	DefaultMinInterval   = time.Minute
	DefaultMaxInterval   = time.Hour
	DefaultInterval      = 30 * time.Minute // when a reply gives none
	DefaultRetryInterval = 30 * time.Second // first wait after a failed round
	DefaultStopTimeout   = 5 * time.Second
	DefaultNumWant       = 50
)

// Stats are a torrent's transfer totals, as announces report them.
type Stats struct {
	Uploaded, Downloaded, Left int64
}

// AnnouncerConfig describes a torrent to announce.
type AnnouncerConfig struct {
	// Client sends the requests; nil means a new Client. Share one Client
	// between torrents so UDP connection ids are reused.
	Client *Client
	// Tiers are the torrent's trackers: its announce-list (BEP 12), or
	// [][]string{{announce}} when it has none. Empty tiers, duplicate URLs
	// and URLs of unsupported schemes are dropped. For a private torrent
	// (BEP 27) the engine must pass only the torrent's own trackers, and
	// must not add others.
	Tiers [][]string
	// InfoHash, PeerID and Port identify us.
	InfoHash, PeerID [20]byte
	Port             uint16
	// Key is sent to every tracker; 0 picks a random one.
	Key uint32
	// NumWant is how many peers to ask for (DefaultNumWant if 0).
	NumWant int
	// Stats returns the current totals; it is called before each announce.
	Stats func() Stats
	// Peers receives the peers of each successful announce, on the Run
	// goroutine: it should hand them off and return quickly.
	Peers func([]netip.AddrPort)
	// MinInterval and MaxInterval clamp the interval between regular
	// announces (DefaultMinInterval, DefaultMaxInterval if 0). A tracker's
	// "min interval" raises the lower bound, never past MaxInterval.
	MinInterval, MaxInterval time.Duration
	// RetryInterval is the wait after a round in which every tracker
	// failed; it doubles with each failed round up to MaxInterval
	// (DefaultRetryInterval if 0).
	RetryInterval time.Duration
	// StopTimeout bounds the "stopped" announces sent when Run's context
	// ends (DefaultStopTimeout if 0).
	StopTimeout time.Duration
	// AllTiers announces to every tier independently (the first working
	// tracker of each), rather than BEP 12's first working tracker of the
	// first working tier.
	AllTiers bool
	// Logger receives progress logs; nil means slog.Default().
	Logger *slog.Logger
}

// An Announcer keeps one torrent announced to its trackers: "started" when
// Run begins, regular announces at the tracker's interval (clamped to
// [MinInterval, MaxInterval]), "completed" once after Completed, "stopped"
// when Run's context ends. Within a tier the trackers are tried in an order
// shuffled once, a tracker that answers moves to the front of its tier, and
// when a whole tier fails the next tier is tried (BEP 12).
type Announcer struct {
	cfg    AnnouncerConfig
	client *Client
	log    *slog.Logger
	wake   chan struct{}

	mu        sync.Mutex // guards the fields below; never held across I/O
	tiers     []*tier
	groups    []*group
	completed bool // Completed was called
	ran       bool
}

// tier is one BEP 12 tier's trackers and its report.
type tier struct {
	urls         []string
	started      map[string]bool   // trackers that accepted our "started"
	trackerIDs   map[string]string // "tracker id" per tracker
	completedDue bool              // "completed" not yet told to this tier
	status       TierStatus
	dropped      []string // trackers that failed for good (Permanent)
}

// dropLocked stops announcing to u, which failed for good, and reports
// whether it was still in the tier.
func (a *Announcer) dropLocked(t *tier, u string) bool {
	i := slices.Index(t.urls, u)
	if i < 0 {
		return false
	}
	t.urls = slices.Delete(t.urls, i, i+1)
	delete(t.started, u)
	delete(t.trackerIDs, u)
	t.dropped = append(t.dropped, u)
	return true
}

// group is a set of tiers announced as one round: all tiers (BEP 12) or
// one (AllTiers).
type group struct {
	tiers     []int
	next      time.Time // when the next round is due
	last      time.Time // the last successful announce
	minWait   time.Duration
	failedRun int // consecutive failed rounds
	// asked records a Completed or Reannounce since the round began, so
	// the schedule the round sets when it ends does not lose it.
	asked asked
}

type asked int

const (
	askedNothing    asked = iota
	askedReannounce       // as soon as the minimum interval allows
	askedNow              // at once (an event to send)
)

// TierStatus is one tier's report, the seed's trackers() entry: counts from
// the most recent announce, consecutive failures, the latest peers, and the
// tier's URLs in their current order (the working tracker first).
type TierStatus struct {
	URLs []string
	// Dropped lists the tier's trackers that failed for good (410 Gone,
	// an unusable URL; see Permanent): they are announced to no more.
	Dropped    []string
	Complete   int // seeds in the latest reply; -1 if unknown
	Incomplete int // leechers in the latest reply; -1 if unknown
	// Failures counts failed announces in a row (a tracker that errs, times
	// out or replies with garbage), reset by a success.
	Failures     int
	Peers        []netip.AddrPort // IPv4 peers of the latest reply
	Peers6       []netip.AddrPort // IPv6 peers of the latest reply
	LastError    error
	Warning      string
	Interval     time.Duration // in use, after clamping
	LastAnnounce time.Time
	NextAnnounce time.Time
}

// NewAnnouncer returns an Announcer for cfg; call Run to start it.
func NewAnnouncer(cfg AnnouncerConfig) *Announcer {
	a := &Announcer{cfg: cfg, client: cfg.Client, log: cfg.Logger, wake: make(chan struct{}, 1)}
	if a.client == nil {
		a.client = &Client{}
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.cfg.Key == 0 {
		a.cfg.Key = rand.Uint32()
	}
	if a.cfg.NumWant == 0 {
		a.cfg.NumWant = DefaultNumWant
	}
	if a.cfg.MinInterval <= 0 {
		a.cfg.MinInterval = DefaultMinInterval
	}
	if a.cfg.MaxInterval <= 0 {
		a.cfg.MaxInterval = DefaultMaxInterval
	}
	a.cfg.MaxInterval = max(a.cfg.MaxInterval, a.cfg.MinInterval)
	if a.cfg.RetryInterval <= 0 {
		a.cfg.RetryInterval = DefaultRetryInterval
	}
	if a.cfg.StopTimeout <= 0 {
		a.cfg.StopTimeout = DefaultStopTimeout
	}
	seen := make(map[string]bool)
	for _, urls := range cfg.Tiers {
		t := &tier{started: make(map[string]bool), trackerIDs: make(map[string]string)}
		for _, u := range urls {
			if seen[u] || !supportedURL(u) {
				continue
			}
			seen[u] = true
			t.urls = append(t.urls, u)
		}
		if len(t.urls) == 0 {
			continue
		}
		rand.Shuffle(len(t.urls), func(i, j int) { t.urls[i], t.urls[j] = t.urls[j], t.urls[i] })
		t.status = TierStatus{Complete: -1, Incomplete: -1}
		a.tiers = append(a.tiers, t)
	}
	if cfg.AllTiers {
		for i := range a.tiers {
			a.groups = append(a.groups, &group{tiers: []int{i}})
		}
	} else if len(a.tiers) > 0 {
		g := &group{}
		for i := range a.tiers {
			g.tiers = append(g.tiers, i)
		}
		a.groups = []*group{g}
	}
	return a
}

func supportedURL(u string) bool {
	for _, p := range []string{"http://", "https://", "udp://"} {
		if len(u) > len(p) && u[:len(p)] == p {
			return true
		}
	}
	return false
}

// Trackers returns the per-tier report, in tier order.
func (a *Announcer) Trackers() []TierStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]TierStatus, len(a.tiers))
	for i, t := range a.tiers {
		s := t.status
		s.URLs = append([]string(nil), t.urls...)
		s.Dropped = append([]string(nil), t.dropped...)
		s.Peers = append([]netip.AddrPort(nil), s.Peers...)
		s.Peers6 = append([]netip.AddrPort(nil), s.Peers6...)
		out[i] = s
	}
	return out
}

// Completed tells the trackers, once, that the download has completed: an
// announce with event "completed" goes out at once to each tier, after its
// "started" if that has not gone out yet, and before "stopped" if Run's
// context ends first. Trackers count downloads by these events. Later calls
// do nothing.
func (a *Announcer) Completed() {
	a.mu.Lock()
	if a.completed {
		a.mu.Unlock()
		return
	}
	a.completed = true
	now := time.Now()
	for _, t := range a.tiers {
		t.completedDue = true
	}
	for _, g := range a.groups {
		g.next = now
		g.asked = askedNow
	}
	a.mu.Unlock()
	a.poke()
}

// Reannounce asks for an announce as soon as the trackers allow (the
// engine is short of peers): at once if the minimum interval has passed
// since the last one, else when it has.
func (a *Announcer) Reannounce() {
	a.mu.Lock()
	now := time.Now()
	for _, g := range a.groups {
		at := g.last.Add(g.minWait)
		if at.Before(now) {
			at = now
		}
		if g.next.After(at) {
			g.next = at
		}
		g.asked = max(g.asked, askedReannounce)
	}
	a.mu.Unlock()
	a.poke()
}

func (a *Announcer) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Run announces until ctx ends, then sends "stopped" to every tracker that
// accepted "started" (bounded by StopTimeout) and returns ctx's error. Run
// may be called once.
func (a *Announcer) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.ran {
		a.mu.Unlock()
		return errors.New("tracker: Announcer.Run called twice")
	}
	a.ran = true
	a.mu.Unlock()

	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			a.stop(context.WithoutCancel(ctx))
			return ctx.Err()
		case <-timer.C:
		case <-a.wake:
		}
		now := time.Now()
		a.mu.Lock()
		var due []*group
		for _, g := range a.groups {
			if !now.Before(g.next) {
				g.asked = askedNothing
				due = append(due, g)
			}
		}
		a.mu.Unlock()
		for _, g := range due {
			if ctx.Err() != nil {
				break
			}
			a.round(ctx, g)
		}
		a.mu.Lock()
		var next time.Time
		for _, g := range a.groups {
			if next.IsZero() || g.next.Before(next) {
				next = g.next
			}
		}
		a.mu.Unlock()
		if next.IsZero() { // no trackers: wait for the end
			next = time.Now().Add(a.cfg.MaxInterval)
		}
		timer.Reset(time.Until(next))
	}
}
