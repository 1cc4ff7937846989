package pex

import (
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/bt-go/bt/internal/compact"
)

// Name is the extension's name in the "m" dictionary of the extended
// handshake.
const Name = "ut_pex"

// Interval is the shortest time between two messages an Extension sends: BEP
// 11 allows at most one message a minute.
const Interval = time.Minute

// Defaults for Config.
const (
	// DefaultMaxPerMinute is how many messages a peer may send in any 60
	// seconds; one more closes the connection. libtorrent uses the same
	// number.
	DefaultMaxPerMinute = 6
	// DefaultMaxRemotePeers bounds how many peers received from one
	// connection are remembered (and reported); further added peers are
	// ignored until some are dropped.
	DefaultMaxRemotePeers = 500
)

// ErrTooFrequent is returned by HandleMessage (closing the connection) when
// the peer sends more than Config.MaxPerMinute messages in a minute.
var ErrTooFrequent = errors.New("pex: peer sends messages too often")

// Config configures an Extension. The zero value is usable: it exchanges
// peers but reports none.
type Config struct {
	// OnPeer is called for every new peer the remote side announces: a peer
	// is new when it is not already among the peers this connection
	// announced and did not drop since. It is not called for our own
	// address or the remote's, for addresses that cannot be peers, nor when
	// the remote does not support ut_pex. It runs on the connection's read
	// goroutine and must not block.
	OnPeer func(addr netip.AddrPort, flags Flags)
	// OnDropped is called for every peer the remote side drops that it had
	// announced before (and OnPeer reported). Same rules as OnPeer.
	OnDropped func(addr netip.AddrPort)
	// Self lists our own addresses (for example our listen address as others
	// see it). They are never sent nor reported. Each must be a specific
	// address: 0.0.0.0:port matches nothing. Excluded automatically: the
	// remote's address and listen address, and, when wire.Config.ListenPort
	// is set, our listen port on the connection's local address and on the
	// address the remote says it sees us at ("yourip").
	Self []netip.AddrPort
	// MaxPerMinute is how many messages the remote may send in any 60
	// seconds; DefaultMaxPerMinute if 0.
	MaxPerMinute int
	// MaxRemotePeers bounds the peers remembered from the remote;
	// DefaultMaxRemotePeers if 0.
	MaxRemotePeers int
	// Clock is the time source; the real clock if nil.
	Clock Clock
	// Logger receives debug logs; slog.Default() if nil.
	Logger *slog.Logger
}

// Extension is ut_pex on one connection. Create it with New, install it with
// the connection's Use before the handshakes, and call Start to send our
// peers. Its methods are safe for concurrent use.
type Extension struct {
	cfg   Config
	clock Clock
	log   *slog.Logger

	mu        sync.Mutex
	send      func(payload []byte) error // set once the remote's handshake names ut_pex
	ourPort   int                        // our listen port, from our extended handshake
	supported bool
	closed    bool
	started   bool
	sentAny   bool
	lastSent  time.Time
	timer     Timer
	local     map[netip.AddrPort]Flags    // peers we want the remote to know: AddPeer minus DropPeer
	sent      map[netip.AddrPort]struct{} // peers the remote knows from us: added minus dropped sent
	remote    map[netip.AddrPort]struct{} // peers the remote announced and did not drop
	exclude   map[netip.AddrPort]struct{} // never sent, never reported
	remoteIP  netip.Addr
	recvTimes []time.Time // ring of the last MaxPerMinute arrival times
	recvNext  int
}

// New returns a ut_pex extension for one connection.
func New(cfg Config) *Extension {
	if cfg.MaxPerMinute <= 0 {
		cfg.MaxPerMinute = DefaultMaxPerMinute
	}
	if cfg.MaxRemotePeers <= 0 {
		cfg.MaxRemotePeers = DefaultMaxRemotePeers
	}
	e := &Extension{
		cfg:       cfg,
		clock:     cfg.Clock,
		log:       cfg.Logger,
		local:     make(map[netip.AddrPort]Flags),
		sent:      make(map[netip.AddrPort]struct{}),
		remote:    make(map[netip.AddrPort]struct{}),
		exclude:   make(map[netip.AddrPort]struct{}),
		recvTimes: make([]time.Time, cfg.MaxPerMinute),
	}
	if e.clock == nil {
		e.clock = realClock{}
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	for _, a := range cfg.Self {
		e.exclude[normalize(a)] = struct{}{}
	}
	return e
}

// Start begins sending our peers to the remote: the first message, as soon as
// the remote's handshake has arrived and there is something to say, carries
// the current set (up to MaxFirstAdded peers); later ones carry the changes,
// at most MaxAdded added and MaxDropped dropped, never more than one message
// per Interval.
func (e *Extension) Start() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.started = true
	e.armLocked()
}

// Stop stops sending messages. Peers keep being received and reported.
func (e *Extension) Stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.started = false
	e.stopTimerLocked()
}

// Reset stops sending and forgets the peers seen: those given to AddPeer and
// those the remote announced (so they are reported again if announced again).
// Peers the remote already learnt from us are announced as dropped by the next
// message after Start, as BEP 11 requires.
func (e *Extension) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.started = false
	e.stopTimerLocked()
	clear(e.local)
	clear(e.remote)
}

// AddPeer adds a peer we are connected to, to be announced in the next
// message. Addresses that cannot be peers (port 0, unspecified) are ignored.
func (e *Extension) AddPeer(addr netip.AddrPort) { e.AddPeerFlags(addr, 0) }

// AddPeerFlags is AddPeer with the peer's flags (FlagSeed, FlagReachable...).
func (e *Extension) AddPeerFlags(addr netip.AddrPort, flags Flags) {
	addr = normalize(addr)
	if !compact.Dialable(addr) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.local[addr] = flags
	e.armLocked()
}

// DropPeer removes a peer added with AddPeer: the next message announces it
// as dropped if the remote had learnt of it, and leaves it out otherwise.
func (e *Extension) DropPeer(addr netip.AddrPort) {
	addr = normalize(addr)
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.local, addr)
	e.armLocked()
}

// Peers returns the peers the remote has announced and not dropped, in
// address order.
func (e *Extension) Peers() []netip.AddrPort {
	e.mu.Lock()
	s := make([]netip.AddrPort, 0, len(e.remote))
	for a := range e.remote {
		s = append(s, a)
	}
	e.mu.Unlock()
	sortAddrs(s)
	return s
}

// attach records what the remote's extended handshake told us. remote is
// the connection's address, listen the remote's listen address (if known),
// self our own addresses as far as the connection tells them.
func (e *Extension) attach(remote, listen netip.AddrPort, self []netip.AddrPort, supported bool, send func([]byte) error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	remote = normalize(remote)
	e.remoteIP = remote.Addr()
	for _, a := range append([]netip.AddrPort{remote, listen}, self...) {
		if a = normalize(a); a.IsValid() {
			e.exclude[a] = struct{}{}
		}
	}
	e.supported = supported
	if supported {
		e.send = send
		e.armLocked()
	} else {
		e.send = nil
		e.stopTimerLocked()
	}
}

// handle processes one message from the remote.
func (e *Extension) handle(payload []byte) error {
	now := e.clock.Now()
	e.mu.Lock()
	if !e.supported || e.closed {
		e.mu.Unlock()
		return nil // the remote never negotiated ut_pex: ignore, report nothing
	}
	oldest := e.recvTimes[e.recvNext]
	if !oldest.IsZero() && now.Sub(oldest) < time.Minute {
		e.mu.Unlock()
		return ErrTooFrequent
	}
	e.recvTimes[e.recvNext] = now
	e.recvNext = (e.recvNext + 1) % len(e.recvTimes)
	e.mu.Unlock()

	msg, err := ParseMessage(payload)
	if err != nil {
		return err
	}

	var added []Peer
	var dropped []netip.AddrPort
	e.mu.Lock()
	for _, a := range msg.Dropped {
		if _, ok := e.remote[a]; ok {
			delete(e.remote, a)
			dropped = append(dropped, a)
		}
	}
	for _, p := range msg.Added {
		if _, ok := e.exclude[p.Addr]; ok || !e.acceptableLocked(p.Addr) {
			continue
		}
		if _, ok := e.remote[p.Addr]; ok || len(e.remote) >= e.cfg.MaxRemotePeers {
			continue
		}
		e.remote[p.Addr] = struct{}{}
		added = append(added, p)
	}
	e.mu.Unlock()

	if f := e.cfg.OnDropped; f != nil {
		for _, a := range dropped {
			f(a)
		}
	}
	if f := e.cfg.OnPeer; f != nil {
		for _, p := range added {
			f(p.Addr, p.Flags)
		}
	}
	return nil
}

// acceptableLocked applies the rule libtorrent uses against PEX-driven
// connection floods: loopback and private addresses are accepted only from
// a remote that is itself loopback or private.
func (e *Extension) acceptableLocked(a netip.AddrPort) bool {
	ip := a.Addr()
	r := e.remoteIP
	if !r.IsValid() {
		return true
	}
	local := func(ip netip.Addr) bool {
		return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast()
	}
	if local(ip) && !local(r) {
		return false
	}
	return true
}

// close releases the timer; nothing is sent afterwards.
func (e *Extension) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	e.send = nil
	e.stopTimerLocked()
}

func (e *Extension) readyLocked() bool {
	return e.started && e.supported && e.send != nil && !e.closed
}

func (e *Extension) stopTimerLocked() {
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
}

// armLocked schedules the next message if one is due and none is scheduled.
func (e *Extension) armLocked() {
	if e.timer != nil || !e.readyLocked() || !e.hasChangesLocked() {
		return
	}
	var d time.Duration
	if e.sentAny {
		d = e.lastSent.Add(Interval).Sub(e.clock.Now())
	}
	e.timer = e.clock.AfterFunc(max(d, 0), e.fire)
}

// fire sends the next message, called by the timer.
func (e *Extension) fire() {
	e.mu.Lock()
	e.timer = nil
	if !e.readyLocked() {
		e.mu.Unlock()
		return
	}
	msg := e.nextMessageLocked()
	send := e.send
	if msg != nil {
		e.sentAny = true
		e.lastSent = e.clock.Now()
	}
	e.armLocked() // more changes than fit in one message
	e.mu.Unlock()
	if msg == nil {
		return
	}
	payload, err := msg.Marshal()
	if err == nil {
		err = send(payload)
	}
	if err != nil {
		e.log.Debug("pex: sending message", "err", err)
	}
}

func (e *Extension) hasChangesLocked() bool {
	for a := range e.local {
		if _, ok := e.sent[a]; !ok {
			if _, ex := e.exclude[a]; !ex {
				return true
			}
		}
	}
	for a := range e.sent {
		if _, ok := e.local[a]; !ok {
			return true
		}
	}
	return false
}

// nextMessageLocked computes the difference between what the remote knows
// from us and what we want it to know, within the per-message limits, and
// records it as sent. It returns nil when there is nothing to say.
func (e *Extension) nextMessageLocked() *Message {
	var add, drop []netip.AddrPort
	for a := range e.local {
		_, ok := e.sent[a]
		_, ex := e.exclude[a]
		if !ok && !ex {
			add = append(add, a)
		}
	}
	for a := range e.sent {
		if _, ok := e.local[a]; !ok {
			drop = append(drop, a)
		}
	}
	if len(add) == 0 && len(drop) == 0 {
		return nil
	}
	sortAddrs(add)
	sortAddrs(drop)
	maxAdd := MaxAdded
	if !e.sentAny {
		maxAdd = MaxFirstAdded
	}
	add = add[:min(len(add), maxAdd)]
	drop = drop[:min(len(drop), MaxDropped)]
	m := &Message{Dropped: drop}
	for _, a := range add {
		m.Added = append(m.Added, Peer{Addr: a, Flags: e.local[a]})
		e.sent[a] = struct{}{}
	}
	for _, a := range drop {
		delete(e.sent, a)
	}
	return m
}

func normalize(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}
