package bt

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/bt-go/bt/metainfo"
	"github.com/bt-go/bt/storage"
	"github.com/bt-go/bt/wire"
)

// AnnounceEvent is the event an announce reports (BEP 3).
type AnnounceEvent int

// The announce events.
const (
	AnnounceNone      AnnounceEvent = iota // a regular, periodic announce
	AnnounceStarted                        // the torrent started
	AnnounceCompleted                      // the download completed (sent once)
	AnnounceStopped                        // the torrent stopped
)

func (e AnnounceEvent) String() string {
	switch e {
	case AnnounceStarted:
		return "started"
	case AnnounceCompleted:
		return "completed"
	case AnnounceStopped:
		return "stopped"
	}
	return ""
}

// AnnounceRequest is what a PeerSource is told about a torrent: everything
// a tracker needs (BEP 3) and what the DHT needs (info hash and port).
type AnnounceRequest struct {
	InfoHash                   metainfo.Hash
	PeerID                     [20]byte
	Port                       int // our listening port, 0 if we do not listen
	Uploaded, Downloaded, Left int64
	Event                      AnnounceEvent
	NumWant                    int
	Private                    bool // BEP 27: only the torrent's own trackers may be used
}

// AnnounceResponse is what a PeerSource found.
type AnnounceResponse struct {
	Peers []netip.AddrPort
	// Interval is when to announce again; 0 means DefaultAnnounceInterval.
	// It is clamped to [MinAnnounceInterval, MaxAnnounceInterval].
	Interval time.Duration
}

// Announce intervals.
const (
	DefaultAnnounceInterval = 5 * time.Minute
	MinAnnounceInterval     = 10 * time.Second
	MaxAnnounceInterval     = 2 * time.Hour
)

// PeerSource finds peers for a torrent: a tracker (or a tier list of them),
// the DHT, a local discovery service. The torrent calls Announce when it
// starts (AnnounceStarted), then whenever the previous answer's interval
// has passed (AnnounceNone), once on completion (AnnounceCompleted), and
// when it stops (AnnounceStopped, with a short deadline and the answer
// ignored). Calls to one source never overlap: a stop cancels the call in
// flight and the stopped announce waits for it to return. Announce runs on
// a goroutine of its own and must honour ctx.
type PeerSource interface {
	Announce(ctx context.Context, req AnnounceRequest) (AnnounceResponse, error)
}

// PeerSourceFunc adapts a function to a PeerSource.
type PeerSourceFunc func(ctx context.Context, req AnnounceRequest) (AnnounceResponse, error)

// Announce calls f.
func (f PeerSourceFunc) Announce(ctx context.Context, req AnnounceRequest) (AnnounceResponse, error) {
	return f(ctx, req)
}

type sourceState struct {
	src      PeerSource
	next     time.Time
	running  bool // a regular announce is in flight
	started  bool // AnnounceStarted succeeded; a stopped is owed
	pending  AnnounceEvent
	failures int
	gen      int                // bumped by stopSources: older answers are ignored
	cancel   context.CancelFunc // ends the announce in flight
	idle     chan struct{}      // closed when the last call launched has returned
}

// launch calls s's Announce in the background once the call launched
// before it has returned, so calls for one source never overlap; then
// receives the answer on the calling goroutine. wg counts the call.
func (s *sourceState) launch(ctx context.Context, wg *sync.WaitGroup, req AnnounceRequest, then func(AnnounceResponse, error)) {
	prev, done := s.idle, make(chan struct{})
	s.idle = done
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		if prev != nil {
			<-prev // cancelled by stopSources, or bounded by its own deadline
		}
		resp, err := s.src.Announce(ctx, req)
		if then != nil {
			then(resp, err)
		}
	}()
}

// knownPeer is an address we may dial.
type knownPeer struct {
	next  time.Time
	fails int
}

// Dial retry policy.
const (
	dialRetryBase = time.Second
	maxDialFails  = 7
	reconnectWait = 30 * time.Second
)

func (t *Torrent) announceRequest(ev AnnounceEvent) AnnounceRequest {
	req := AnnounceRequest{
		InfoHash: t.infoHash, PeerID: t.client.peerID, Port: t.client.Port(),
		Uploaded: t.uploaded.Load(), Downloaded: t.downloaded.Load(), Left: t.left(),
		Event: ev, NumWant: 50,
	}
	if m := t.meta.Load(); m != nil {
		req.Private = m.info.Private
	}
	if req.Left < 0 {
		req.Left = 1 << 40 // unknown before metadata: not zero, or we look like a seed
	}
	return req
}

func (t *Torrent) startSources() {
	now := time.Now()
	for _, s := range t.sources {
		if !s.started && !s.running {
			s.pending = AnnounceStarted
			s.next = now
		}
	}
	t.sourcesTick(now)
}

// sourcesTick launches the announces that are due.
func (t *Torrent) sourcesTick(now time.Time) {
	t.discoveryTick(now) // trackers and DHT (trackers.go)
	if t.state == Stopped || t.closing.Load() {
		return
	}
	for _, s := range t.sources {
		if s.running || now.Before(s.next) {
			continue
		}
		ev := s.pending
		if !s.started {
			ev = AnnounceStarted
		}
		s.running = true
		s.pending = AnnounceNone
		req := t.announceRequest(ev)
		ctx, cancel := context.WithTimeout(t.ctx, time.Minute)
		s.cancel = cancel
		gen := s.gen
		s.launch(ctx, &t.bg, req, func(resp AnnounceResponse, err error) {
			cancel()
			t.post(func() { t.announced(s, gen, req.Event, resp, err) })
		})
	}
}

func (t *Torrent) announced(s *sourceState, gen int, ev AnnounceEvent, resp AnnounceResponse, err error) {
	if gen != s.gen {
		return // the torrent stopped meanwhile: stopSources took over
	}
	s.running = false
	now := time.Now()
	if err != nil {
		s.failures++
		s.next = now.Add(min(30*time.Second<<min(s.failures, 6), 30*time.Minute))
		if ev != AnnounceNone {
			s.pending = ev
		}
		t.log.Debug("announce failed", "err", err)
		return
	}
	s.failures = 0
	if ev == AnnounceStarted {
		s.started = true
	}
	iv := resp.Interval
	if iv == 0 {
		iv = DefaultAnnounceInterval
	}
	iv = min(max(iv, MinAnnounceInterval), MaxAnnounceInterval)
	if s.pending == AnnounceNone {
		s.next = now.Add(iv)
	}
	for _, a := range resp.Peers {
		t.addKnown(a)
	}
	t.dialMore()
}

// announceAll sends ev (AnnounceCompleted) to every source now.
func (t *Torrent) announceAll(ev AnnounceEvent) {
	if ev == AnnounceCompleted {
		t.discoveryCompleted()
	}
	for _, s := range t.sources {
		s.pending = ev
		s.next = time.Time{}
	}
	t.sourcesTick(time.Now())
}

// stopSources cancels the announces in flight and sends AnnounceStopped,
// with a short deadline, to every source that was told we started or was
// being told so; each stopped call waits for the call it cancels to
// return. Answers to the cancelled calls are ignored.
func (t *Torrent) stopSources() {
	t.stopDiscovery()
	for _, s := range t.sources {
		owed := s.started || s.running
		if s.cancel != nil {
			s.cancel()
			s.cancel = nil
		}
		s.gen++
		s.started, s.running, s.pending = false, false, AnnounceNone
		if !owed {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		s.launch(ctx, &t.srcWG, t.announceRequest(AnnounceStopped), func(AnnounceResponse, error) { cancel() })
	}
}

func (t *Torrent) sourcesWait() {
	t.srcWG.Wait()
	t.waitDiscovery()
}

// addKnown records an address to dial.
func (t *Torrent) addKnown(a netip.AddrPort) {
	a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	if !a.IsValid() || a.Port() == 0 || t.client.isSelf(a) || t.isBanned(a, [20]byte{}) {
		return
	}
	if _, ok := t.known[a]; ok {
		return
	}
	for p := range t.peers {
		if p.addr == a {
			return
		}
	}
	t.known[a] = &knownPeer{}
}

// dialMore starts dials while there is room.
func (t *Torrent) dialMore() {
	if t.state == Stopped || t.closing.Load() || t.err != nil {
		return
	}
	now := time.Now()
	for a, k := range t.known {
		if len(t.peers)+len(t.dialing) >= t.maxConns() || len(t.dialing) >= t.cfg.MaxHalfOpen {
			return
		}
		if now.Before(k.next) || t.dialing[a] {
			continue
		}
		connected := false
		for p := range t.peers {
			connected = connected || p.addr == a
		}
		if connected {
			continue
		}
		t.dialing[a] = true
		t.bg.Add(1)
		go t.dial(a, k)
	}
}

// dial connects to a in the background and hands the connection to the loop.
func (t *Torrent) dial(a netip.AddrPort, k *knownPeer) {
	defer t.bg.Done()
	ctx, cancel := context.WithTimeout(t.ctx, t.cfg.DialTimeout+t.cfg.HandshakeTimeout)
	defer cancel()
	cfg := t.wireConfig()
	c, err := t.dialPeer(ctx, a, cfg) // encryption.go
	ok := t.post(func() {
		delete(t.dialing, a)
		if err != nil {
			if storage.TooManyFiles(err) {
				storage.RelieveAll() // and try again soon
			}
			k.fails++
			if k.fails >= maxDialFails {
				delete(t.known, a)
			} else {
				k.next = time.Now().Add(dialRetryBase * time.Duration(k.fails)) // 1 s, 2 s, 3 s...: peers starting up are found soon
			}
			t.log.Debug("dial failed", "addr", a, "err", err)
			return
		}
		k.fails = 0
		k.next = time.Now().Add(reconnectWait)
		t.addConn(c, false)
	})
	if !ok && c != nil {
		c.Close()
	}
}

// wireConfig returns our side's configuration for a connection.
func (t *Torrent) wireConfig() *wire.Config {
	cfg := &wire.Config{
		InfoHash:        t.infoHash,
		PeerID:          t.client.peerID,
		MaxPeerRequests: 2000,
		ClientVersion:   "bt/" + Version,
		ListenPort:      t.client.Port(),
		DHT:             t.useDHT(),
		Logger:          t.log,
	}
	if m := t.meta.Load(); m != nil {
		cfg.PieceLength, cfg.TotalLength = m.layout.PieceLength, m.layout.TotalLength
	}
	return cfg
}
