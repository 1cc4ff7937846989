package wire

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bt-go/bt/bitfield"
)

// Conn is a connection to one peer after the BitTorrent handshake. Create
// it with NewConn, Dial or a Listener, register extensions with Use, queue
// a bitfield if you like, then Start it. Its methods are safe for
// concurrent use. A started Conn runs two goroutines: one reads and calls
// the Handler, one writes and runs the timers.
type Conn struct {
	rwc      io.ReadWriteCloser
	br       *readBuf
	cfg      Config
	ours     Handshake
	peer     Handshake
	fast     bool // both sides set the Fast bit
	extended bool // both sides set the Extension protocol bit
	epoch    time.Time
	log      *slog.Logger

	handler Handler
	gate    ReadWaiter // the handler, if it is one
	cbMu    sync.Mutex // serializes Handler, Extension and completion calls

	wake       chan struct{} // cap 1: output or deferred work is waiting
	closing    chan struct{} // closed by closeWith
	writerDone chan struct{}
	done       chan struct{} // closed when everything has ended

	lastRecv atomic.Int64 // time.Duration since epoch
	stats    counters
	upRate   meter
	downRate meter

	// Writer-owned scratch.
	iov  [][]byte
	wbuf net.Buffers

	// Reader-owned scratch.
	hdr    [13]byte
	msg    Message
	failed []completion

	mu              sync.Mutex // guards everything below; never held across I/O or callbacks
	started, closed bool
	err             error

	amChoking, amInterested, peerChoking, peerInterested bool

	numPieces     int // -1: unknown
	pieceLength   int64
	totalLength   int64
	peerPieces    bitfield.Bitfield
	pendingHave   []byte // haves before the size is known, as a growing bitmap
	pendingBits   []byte // a bitfield before the size is known
	pendingAll    int8   // +1 have all, -1 have none, before the size is known
	peerFast      []int  // pieces the peer allows us while choked
	ourFast       []int  // pieces we allow the peer while choked
	requests      reqQueue
	headSince     time.Duration
	peerRequests  []Request
	served        [servedMemory]servedBlock // the last blocks queued for the peer, a ring
	servedNext    int
	duplicates    int // duplicate requests seen, less one per block served
	timeout       time.Duration
	keepAlive     time.Duration
	deferred      []completion
	out           []byte
	outPayload    int
	outBlocks     []outBlock // piece data queued after out[:end]
	exts          []Extension
	peerExt       *ExtendedHandshake
	peerExtIDs    map[string]int
	ourExtendedHS *ExtendedHandshake
}

// outBlock is the data of a queued piece message: it follows out[:end].
type outBlock struct {
	end   int
	block []byte // from getBlock
}

// servedMemory is how many of the blocks last queued for the peer a Conn
// remembers, to refuse requests for them again.
const servedMemory = 64

// servedBlock is a block queued for the peer, and how many times it was
// queued again since.
type servedBlock struct {
	Request
	again int
}

// completion is a request completion or event waiting to be delivered.
type completion struct {
	req   Request
	done  func([]byte, error)
	err   error
	event EventType // EventTimeout for time-outs, 0 otherwise
}

// NewConn exchanges handshakes over rwc (sending ours while reading the
// peer's) and returns the Conn, not yet started. It fails if the peer's
// handshake is malformed or names another info hash; rwc is then closed.
// Without a deadline in ctx the handshake is bounded by
// DefaultHandshakeTimeout.
func NewConn(ctx context.Context, rwc io.ReadWriteCloser, cfg *Config) (*Conn, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultHandshakeTimeout)
		defer cancel()
	}
	peer, err := ExchangeHandshakes(ctx, rwc, cfg.Handshake())
	if err == nil && peer.InfoHash != cfg.InfoHash {
		err = fmt.Errorf("%w: %x", ErrInfoHash, peer.InfoHash)
	}
	if err != nil {
		rwc.Close()
		return nil, err
	}
	return newConn(rwc, nil, cfg, peer), nil
}

// newConn makes a Conn after the handshakes. br, when non-nil, holds bytes
// already read from rwc.
func newConn(rwc io.ReadWriteCloser, br *readBuf, cfg *Config, peer Handshake) *Conn {
	c := &Conn{
		rwc:         rwc,
		cfg:         cfg.withDefaults(),
		peer:        peer,
		epoch:       time.Now(),
		wake:        make(chan struct{}, 1),
		closing:     make(chan struct{}),
		writerDone:  make(chan struct{}),
		done:        make(chan struct{}),
		amChoking:   true,
		peerChoking: true,
		numPieces:   -1,
	}
	c.ours = c.cfg.Handshake()
	c.fast = c.ours.Reserved.Fast() && peer.Reserved.Fast()
	c.extended = c.ours.Reserved.Extended() && peer.Reserved.Extended()
	c.log = c.cfg.Logger
	if br == nil || br.Size() != c.cfg.ReadBufferSize {
		if br != nil && br.Buffered() > 0 {
			rest, _ := br.Peek(br.Buffered())
			rwc = &prefixedReader{rest: append([]byte(nil), rest...), ReadWriteCloser: rwc}
			br.Discard(len(rest))
		}
		br = newReadBuf(rwc, c.cfg.ReadBufferSize)
	}
	c.br = br
	c.timeout = c.cfg.RequestTimeout
	c.keepAlive = c.cfg.KeepAlive
	if c.cfg.PieceLength > 0 && c.cfg.TotalLength > 0 {
		c.setSizeLocked(c.cfg.PieceLength, c.cfg.TotalLength)
	}
	return c
}

type prefixedReader struct {
	rest []byte
	io.ReadWriteCloser
}

func (p *prefixedReader) Read(b []byte) (int, error) {
	if len(p.rest) > 0 {
		n := copy(b, p.rest)
		p.rest = p.rest[n:]
		return n, nil
	}
	return p.ReadWriteCloser.Read(b)
}

// Start sends our extended handshake (when both sides support BEP 10) and
// starts the connection's reader and writer. h receives messages and
// events from now on. Start may be called once.
func (c *Conn) Start(h Handler) error {
	if h == nil {
		h = Funcs{}
	}
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return fmt.Errorf("wire: Start called twice")
	}
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.started = true
	c.handler = h
	c.gate, _ = h.(ReadWaiter)
	exts := c.exts
	c.mu.Unlock()
	if c.extended {
		eh := c.ourExtendedHandshake(exts)
		payload, err := eh.marshal()
		if err != nil {
			c.closeWith(err)
		} else {
			c.mu.Lock()
			c.ourExtendedHS = eh
			c.appendExtended(0, payload)
			c.mu.Unlock()
		}
	}
	now := c.now()
	c.lastRecv.Store(int64(now))
	go c.writeLoop(now)
	go c.readLoop()
	c.signal()
	return nil
}

// Close closes the connection. The Handler's EventClose follows with a nil
// error; Done is closed when the goroutines have ended. Close does not wait
// for them, so it may be called from a Handler.
func (c *Conn) Close() error {
	c.closeWith(nil)
	return nil
}

// CloseWithError closes the connection, reporting err as its cause.
func (c *Conn) CloseWithError(err error) { c.closeWith(err) }

func (c *Conn) closeWith(err error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.err = err
	started := c.started
	c.mu.Unlock()
	close(c.closing)
	c.rwc.Close()
	if !started {
		close(c.writerDone)
		c.finish()
	}
}

// Closing returns a channel closed as soon as the connection begins to
// close (before Done).
func (c *Conn) Closing() <-chan struct{} { return c.closing }

// Done returns a channel closed when the connection has ended and its
// goroutines have returned.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns the error that ended the connection: nil while it runs or
// after Close.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// finish runs once, after both goroutines have stopped: it fails our
// outstanding requests, tells the extensions and the handler, and closes done.
func (c *Conn) finish() {
	c.mu.Lock()
	err := c.err
	pending := c.deferred
	c.deferred = nil
	for c.requests.n > 0 {
		r := c.requests.remove(0)
		pending = append(pending, completion{req: r.Request, done: r.done, err: ErrClosed})
	}
	c.peerRequests = nil
	exts := c.exts
	h := c.handler
	c.mu.Unlock()
	c.log.Debug("wire: connection closed", "peer", c, "err", err)
	c.cbMu.Lock()
	c.deliver(pending)
	for _, e := range exts {
		e.Close(c)
	}
	if h != nil {
		h.HandleEvent(c, Event{Type: EventClose, Err: err})
	}
	c.cbMu.Unlock()
	close(c.done)
}

// deliver calls completions; cbMu must be held.
func (c *Conn) deliver(cs []completion) {
	for _, p := range cs {
		if p.done != nil {
			p.done(nil, p.err)
		}
		if p.event != 0 && c.handler != nil {
			c.handler.HandleEvent(c, Event{Type: p.event, Request: p.req})
		}
	}
}

func (c *Conn) now() time.Duration { return time.Since(c.epoch) }

// signal wakes the writer.
func (c *Conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// RemoteAddr returns the peer's address when the underlying stream has one
// (a net.Conn), nil otherwise.
func (c *Conn) RemoteAddr() net.Addr {
	if a, ok := c.rwc.(interface{ RemoteAddr() net.Addr }); ok {
		return a.RemoteAddr()
	}
	return nil
}

// Transport returns the stream the Conn runs over: the net.Conn it was
// made with, or what ListenConfig.Wrap returned (an *mse.Conn, say).
func (c *Conn) Transport() io.ReadWriteCloser { return c.rwc }

// LocalAddr returns our address when the underlying stream has one.
func (c *Conn) LocalAddr() net.Addr {
	if a, ok := c.rwc.(interface{ LocalAddr() net.Addr }); ok {
		return a.LocalAddr()
	}
	return nil
}

// String describes the connection for logs: the peer's address (when
// known) and the start of its peer id, e.g. "127.0.0.1:51413 -TR3000-".
func (c *Conn) String() string {
	id := c.peer.PeerID[:8]
	for i, b := range id {
		if b < 0x20 || b > 0x7e {
			id = id[:i]
			break
		}
	}
	if a := c.RemoteAddr(); a != nil {
		return a.String() + " " + string(id)
	}
	return string(id)
}

// PeerHandshake returns the peer's handshake: its reserved bits, info hash
// and peer id.
func (c *Conn) PeerHandshake() Handshake { return c.peer }

// PeerID returns the peer's id.
func (c *Conn) PeerID() [20]byte { return c.peer.PeerID }

// InfoHash returns the torrent's info hash.
func (c *Conn) InfoHash() [20]byte { return c.peer.InfoHash }

// OurHandshake returns the handshake we sent.
func (c *Conn) OurHandshake() Handshake { return c.ours }

// SupportsFast reports whether both sides negotiated the Fast extension.
func (c *Conn) SupportsFast() bool { return c.fast }

// SupportsExtended reports whether both sides negotiated BEP 10.
func (c *Conn) SupportsExtended() bool { return c.extended }

// SupportsDHT reports whether the peer set the DHT bit.
func (c *Conn) SupportsDHT() bool { return c.peer.Reserved.DHT() }
