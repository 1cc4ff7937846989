package wire

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Dial connects to a peer over TCP, exchanges handshakes and returns the
// Conn, not yet started (Peerface's connect). Without a deadline in ctx the
// connection and handshake are bounded by DefaultHandshakeTimeout.
func Dial(ctx context.Context, addr string, cfg *Config) (*Conn, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultHandshakeTimeout)
		defer cancel()
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("wire: dial %s: %w", addr, err)
	}
	c, err := ClientHandshake(ctx, nc, cfg)
	if err != nil {
		return nil, fmt.Errorf("wire: dial %s: %w", addr, err)
	}
	return c, nil
}

// ClientHandshake does the handshake of the side that opened nc: it sends
// ours, reads the peer's and checks the info hash. On failure nc is closed.
func ClientHandshake(ctx context.Context, nc net.Conn, cfg *Config) (*Conn, error) {
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	br := newReadBuf(nc, cfg.withDefaults().ReadBufferSize)
	var peer Handshake
	err := WriteHandshake(nc, cfg.Handshake())
	if err == nil {
		peer, err = ReadHandshake(br)
	}
	if err == nil && peer.InfoHash != cfg.InfoHash {
		err = fmt.Errorf("%w: %x", ErrInfoHash, peer.InfoHash)
	}
	if err == nil && !stop() {
		err = ctx.Err()
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return newConn(nc, br, cfg, peer), nil
}

// ListenConfig configures a Listener.
type ListenConfig struct {
	// Torrent chooses, from the peer's handshake (read up to the info
	// hash; PeerID is still zero), the configuration to answer with, or nil
	// to hang up: one port serves many torrents. It must not block for long.
	Torrent func(peer Handshake, remote net.Addr) *Config
	// Connected receives each Conn after both handshakes, not yet started
	// (Peerface's peer-connected): register extensions, queue a bitfield,
	// then Start it. When nil, connections are closed. It runs on the
	// handshake's goroutine, which Close waits for: it must not block.
	Connected func(c *Conn)
	// Error reports an error of the listener or of an incoming handshake
	// (the seed's server 'error').
	Error func(err error)
	// Stopping is called when Close begins, Stopped when the listener has
	// stopped, with the error that stopped it if any (the seed's 'stopping'
	// and 'stop').
	Stopping func(at time.Time)
	Stopped  func(err error)
	// Wrap, if set, turns each accepted connection into the stream the
	// handshake runs over, for instance to classify it and answer Message
	// Stream Encryption (package wire/mse) before the BitTorrent
	// handshake. It runs on the handshake's goroutine within
	// HandshakeTimeout (the deadline is set on the accepted connection);
	// an error closes the connection.
	Wrap func(nc net.Conn) (net.Conn, error)
	// HandshakeTimeout bounds an incoming handshake (default
	// DefaultHandshakeTimeout).
	HandshakeTimeout time.Duration
	// MaxHandshakes bounds handshakes in progress (default 64). At the
	// bound the listener stops accepting, so a burst of honest peers waits
	// in the kernel's backlog rather than being hung up on; a handshake
	// older than HandshakeStale is then given up to make room, so slow or
	// silent peers cannot hold the listener for long.
	MaxHandshakes int
	// HandshakeStale is the age after which a handshake in progress is
	// aborted when another peer waits for its slot (default a quarter of
	// HandshakeTimeout; an honest peer's takes a few round trips).
	HandshakeStale time.Duration
}

// Listener accepts incoming peer connections (Peerface's listen).
type Listener struct {
	ln      net.Listener
	lc      ListenConfig
	wg      sync.WaitGroup
	mu      sync.Mutex
	hs      map[net.Conn]time.Time // handshakes in progress, and when they began
	freed   chan struct{}          // closed (and replaced) when a handshake ends
	err     error
	closing bool
	stopped chan struct{}
}

// ErrListenerClosed is reported by Wait after Close.
var ErrListenerClosed = errors.New("wire: listener closed")

// Listen listens on a TCP address such as "127.0.0.1:6881" and serves it.
func Listen(addr string, lc ListenConfig) (*Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("wire: listen: %w", err)
	}
	return NewListener(ln, lc), nil
}

// NewListener serves peer connections accepted from ln.
func NewListener(ln net.Listener, lc ListenConfig) *Listener {
	if lc.HandshakeTimeout <= 0 {
		lc.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if lc.MaxHandshakes <= 0 {
		lc.MaxHandshakes = 64
	}
	if lc.HandshakeStale <= 0 {
		lc.HandshakeStale = lc.HandshakeTimeout / 4
	}
	l := &Listener{ln: ln, lc: lc, hs: make(map[net.Conn]time.Time), freed: make(chan struct{}), stopped: make(chan struct{})}
	l.wg.Add(1)
	go l.acceptLoop()
	return l
}

// Addr returns the listening address.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Close stops accepting, aborts handshakes in progress and waits for the
// listener's goroutines. Connections already handed to Connected stay open.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		<-l.stopped
		return nil
	}
	l.closing = true
	for nc := range l.hs {
		nc.Close()
	}
	close(l.freed)
	l.freed = make(chan struct{})
	l.mu.Unlock()
	if l.lc.Stopping != nil {
		l.lc.Stopping(time.Now())
	}
	err := l.ln.Close()
	l.wg.Wait()
	l.mu.Lock()
	stopErr := l.err
	l.mu.Unlock()
	if l.lc.Stopped != nil {
		l.lc.Stopped(stopErr)
	}
	close(l.stopped)
	return err
}

func (l *Listener) report(err error) {
	if l.lc.Error != nil {
		l.lc.Error(err)
	}
}

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		if !l.waitSlot() {
			return
		}
		nc, err := l.ln.Accept()
		if err != nil {
			l.mu.Lock()
			closing := l.closing
			l.mu.Unlock()
			if closing {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				l.report(fmt.Errorf("wire: accept: %w", err))
				time.Sleep(backoff)
				backoff = min(2*backoff, time.Second)
				continue
			}
			l.mu.Lock()
			l.err = fmt.Errorf("wire: accept: %w", err)
			l.mu.Unlock()
			l.report(l.err)
			return
		}
		backoff = 5 * time.Millisecond
		l.mu.Lock()
		if l.closing {
			l.mu.Unlock()
			nc.Close()
			continue
		}
		l.hs[nc] = time.Now()
		l.wg.Add(1)
		l.mu.Unlock()
		go l.handshake(nc)
	}
}

// waitSlot waits until fewer than MaxHandshakes handshakes are in
// progress. While it waits, a handshake older than HandshakeStale is
// aborted to make room. It reports false once the
// listener is closing.
func (l *Listener) waitSlot() bool {
	stale := l.lc.HandshakeStale
	for {
		l.mu.Lock()
		if l.closing {
			l.mu.Unlock()
			return false
		}
		if len(l.hs) < l.lc.MaxHandshakes {
			l.mu.Unlock()
			return true
		}
		var oldest net.Conn
		var since time.Time
		for nc, at := range l.hs {
			if oldest == nil || at.Before(since) {
				oldest, since = nc, at
			}
		}
		wait := l.freed
		l.mu.Unlock()
		d := time.Until(since.Add(stale))
		if d <= 0 {
			oldest.Close() // its handshake fails and frees the slot
			<-wait
			continue
		}
		t := time.NewTimer(d)
		select {
		case <-wait:
		case <-t.C:
		}
		t.Stop()
	}
}

func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

// handshake answers one incoming connection.
func (l *Listener) handshake(nc net.Conn) {
	defer l.wg.Done()
	c, err := l.serverHandshake(nc)
	l.mu.Lock()
	delete(l.hs, nc)
	close(l.freed)
	l.freed = make(chan struct{})
	closing := l.closing
	l.mu.Unlock()
	if err != nil {
		nc.Close()
		if !closing {
			l.report(fmt.Errorf("wire: handshake from %v: %w", nc.RemoteAddr(), err))
		}
		return
	}
	if l.lc.Connected == nil || closing {
		c.Close()
		return
	}
	l.lc.Connected(c)
}

// ErrUnknownTorrent reports an incoming handshake for a torrent the
// listener does not serve (ListenConfig.Torrent returned nil).
var ErrUnknownTorrent = errors.New("wire: no such torrent")

func (l *Listener) serverHandshake(nc net.Conn) (*Conn, error) {
	nc.SetDeadline(time.Now().Add(l.lc.HandshakeTimeout))
	if l.lc.Wrap != nil {
		var err error
		if nc, err = l.lc.Wrap(nc); err != nil {
			return nil, err
		}
	}
	br := newReadBuf(nc, DefaultReadBufferSize)
	var peer Handshake
	if err := readHandshakeHead(br, &peer); err != nil {
		return nil, err
	}
	var cfg *Config
	if l.lc.Torrent != nil {
		cfg = l.lc.Torrent(peer, nc.RemoteAddr())
	}
	if cfg == nil || cfg.InfoHash != peer.InfoHash {
		return nil, fmt.Errorf("%w: %x", ErrUnknownTorrent, peer.InfoHash)
	}
	if err := WriteHandshake(nc, cfg.Handshake()); err != nil {
		return nil, err
	}
	if err := readPeerID(br, &peer); err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return newConn(nc, br, cfg, peer), nil
}
