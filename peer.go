package bt

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/internal/picker"
	"github.com/bt-go/bt/wire"
	"github.com/bt-go/bt/wire/pex"
)

// peer is one connection of a torrent. Fields not marked otherwise are
// owned by the torrent's loop; the wire.Conn's read goroutine only runs the
// handler methods, which copy what they need into peerEvents.
type peer struct {
	t        *Torrent
	conn     *wire.Conn
	id       picker.PeerID // the picker's handle for it (its 20-byte peer id is peerID)
	addr     netip.AddrPort
	incoming bool
	peerID   [20]byte
	client   string
	pex      *pex.Extension
	listen   netip.AddrPort // where it accepts connections, if known
	dhtPort  uint16         // its DHT port, held until a magnet's privacy is known

	started     bool
	connectedAt time.Time
	has         bitfield.Bitfield
	seed        bool // sent have-all (counted as a seed in the picker)
	counted     bool // its pieces are counted in the picker

	amChoking, amInterested     bool
	peerChoking, peerInterested bool
	allowedFast, suggested      []int

	reqs             map[picker.Block]time.Time // our outstanding requests
	reqq             int                        // the peer's advertised queue bound
	lastBlock        time.Time
	lastActive       time.Time // last time either side was interested
	lastUnchoke      time.Time
	snubbed          bool
	downRate, upRate rate
	badPieces        int
	uploadedA        atomic.Int64               // payload sent (read goroutine)
	downloaded       int64                      // payload received, fresh or not
	upq              uploadQueue                // requests waiting for upload tokens (limits.go)
	rejected         map[int]time.Time          // pieces it refused while unchoking us (faults.go)
	cancelled        map[picker.Block]time.Time // our cancels its rejects may answer (reader.go)

	// Events the loop could not take at once, held by the read goroutine
	// until WaitRead hands them over, before reading more.
	backlogMu sync.Mutex
	backlog   []peerEvent
}

// peerEvent carries what a peer's read goroutine saw to the loop.
type peerEvent struct {
	p       *peer
	typ     wire.MessageType
	index   int
	begin   int
	data    []byte // block (pooled) or bitfield copy
	err     error
	close   bool
	timeout bool
	port    uint16
	ext     bool // extended handshake received
}

// blockPool holds 16 KiB buffers that carry blocks to the loop.
var blockPool = sync.Pool{New: func() any { b := make([]byte, picker.BlockSize); return &b }}

func getBlockBuf(n int) []byte {
	if n > picker.BlockSize {
		return make([]byte, n)
	}
	return (*blockPool.Get().(*[]byte))[:n]
}

func putBlockBuf(b []byte) {
	if cap(b) == picker.BlockSize {
		b = b[:picker.BlockSize]
		blockPool.Put(&b)
	}
}

// send hands an event to the loop without blocking: while the loop
// applies back-pressure, the event waits in the peer's backlog and
// WaitRead, before the next message is read, waits for the loop to take
// it. Handler calls never block, so the connection's writer never waits
// for the loop.
func (p *peer) send(e peerEvent) {
	e.p = p
	p.backlogMu.Lock()
	defer p.backlogMu.Unlock()
	if len(p.backlog) == 0 {
		select {
		case p.t.events <- e:
			return
		default:
		}
	}
	p.backlog = append(p.backlog, e)
}

// WaitRead runs on the read goroutine before each message: it hands the
// backlog to the loop, waiting as long as the loop applies back-pressure,
// so the socket is not read meanwhile.
func (p *peer) WaitRead(c *wire.Conn) { p.flush(c.Closing()) }

// flush hands the backlog to the loop, blocking, and drops what is left
// if stop is closed or the torrent closes first.
func (p *peer) flush(stop <-chan struct{}) {
	p.backlogMu.Lock()
	b := p.backlog
	p.backlog = nil
	p.backlogMu.Unlock()
	for i, e := range b {
		select {
		case p.t.events <- e:
			continue
		case <-p.t.quit:
		case <-stop:
		}
		for _, e := range b[i:] {
			if e.data != nil && e.typ == wire.MsgPiece {
				putBlockBuf(e.data)
			}
		}
		return
	}
}

// mailbox passes events to the loop without ever blocking the sender: the
// loop takes them all at once, back-pressure or not. It holds at most one
// time-out per request we have outstanding.
type mailbox struct {
	mu    sync.Mutex
	items []peerEvent
	wake  chan struct{} // cap 1
}

func newMailbox() mailbox { return mailbox{wake: make(chan struct{}, 1)} }

func (m *mailbox) put(e peerEvent) {
	m.mu.Lock()
	m.items = append(m.items, e)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// take returns the events waiting, oldest first.
func (m *mailbox) take() []peerEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	items := m.items
	m.items = nil
	return items
}

// HandleMessage runs on the connection's read goroutine.
func (p *peer) HandleMessage(c *wire.Conn, m *wire.Message) {
	switch m.Type {
	case wire.MsgRequest:
		p.t.serveRequest(p, m.Index, m.Begin, m.Length)
	case wire.MsgPiece:
		b := getBlockBuf(len(m.Block))
		copy(b, m.Block)
		p.send(peerEvent{typ: m.Type, index: m.Index, begin: m.Begin, data: b})
	case wire.MsgBitfield:
		p.send(peerEvent{typ: m.Type, data: append([]byte(nil), m.Bitfield...)})
	case wire.MsgExtended:
		if m.ExtendedID == 0 {
			p.send(peerEvent{typ: m.Type, ext: true})
		}
	case wire.MsgKeepAlive, wire.MsgCancel:
		// Nothing for the loop: the Conn tracks cancels itself.
	default:
		p.send(peerEvent{typ: m.Type, index: m.Index, begin: m.Begin, port: m.Port})
	}
}

// HandleEvent runs on the connection's goroutines.
func (p *peer) HandleEvent(c *wire.Conn, e wire.Event) {
	switch e.Type {
	case wire.EventUpload:
		p.uploadedA.Add(int64(e.Bytes))
		p.t.uploaded.Add(int64(e.Bytes))
	case wire.EventTimeout:
		// On the writer goroutine, which must go on writing (keep-alives,
		// haves, blocks) while back-pressure holds the event channel.
		p.t.timeouts.put(peerEvent{p: p, timeout: true, index: e.Request.Index, begin: e.Request.Begin})
	case wire.EventClose:
		// The last call, after the reader and writer have ended: what the
		// reader left, then the close, waiting for the loop.
		p.flush(nil)
		p.backlogMu.Lock()
		p.backlog = []peerEvent{{p: p, close: true, err: e.Err}}
		p.backlogMu.Unlock()
		p.flush(nil)
	}
}

// addrPortOf converts a net.Addr to a netip.AddrPort (zero if unknown).
func addrPortOf(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	if a == nil {
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}
