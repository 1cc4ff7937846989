package bt

import (
	"bytes"
	"errors"
	"time"

	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/internal/picker"
	"github.com/bt-go/bt/wire"
	"github.com/bt-go/bt/wire/metadata"
)

// Peers: adopting connections, applying what peers tell us, and our
// interest in them. What we request is in requests.go, what we upload in
// upload.go.

// Bounds on what a peer may make us remember.
const (
	maxAllowedFast = 32
	maxSuggested   = 16
)

// addConn adopts a connection whose handshake is done (dialled or
// accepted). It runs on the loop.
func (t *Torrent) addConn(c *wire.Conn, incoming bool) {
	reject := func(why string) {
		t.log.Debug("connection refused", "addr", c.RemoteAddr(), "why", why)
		c.Close()
	}
	addr := addrPortOf(c.RemoteAddr())
	peerID := c.PeerID()
	switch {
	case t.closing.Load() || t.state == Stopped:
		reject("torrent stopped")
		return
	case peerID == t.client.peerID:
		t.client.noteSelf(addr)
		delete(t.known, addr)
		reject("connection to ourselves")
		return
	case t.isBanned(addr, peerID):
		reject("banned")
		return
	case len(t.peers) >= t.maxConns() && !t.displace(time.Now()):
		reject("too many connections")
		return
	}
	var replaced *peer
	for q := range t.peers {
		if q.peerID != peerID {
			continue
		}
		switch {
		case q.incoming != incoming:
			// Both sides dialled each other. Each side must keep the
			// same connection: the one opened by the side with the
			// lower peer id.
			if t.keepsFirst(incoming, peerID) {
				reject("duplicate connection")
				return
			}
		case incoming && q.addr.Addr() == addr.Addr():
			// The peer connects again from the same address: it has
			// given up the old connection, which we have not yet seen
			// close (two seeds parted, and one of them lost a piece).
		default:
			// A second connection we dialled (another address of the
			// same peer), or one from elsewhere claiming its peer id.
			reject("duplicate connection")
			return
		}
		replaced = q
	}
	if !t.client.acquireConn() && (!t.displace(time.Now()) || !t.client.acquireConn()) {
		reject("too many connections in the client")
		return // keeping the connection it would have replaced
	}
	if replaced != nil {
		replaced.conn.Close()
	}
	t.nextPickID++
	now := time.Now()
	p := &peer{
		t: t, conn: c, id: t.nextPickID, addr: addr, incoming: incoming, peerID: peerID,
		client:      ClientName(peerID),
		connectedAt: now, lastActive: now, lastBlock: now,
		amChoking: true, peerChoking: true,
		reqs: make(map[picker.Block]time.Time),
	}
	if t.events == nil {
		// On first use: an idle torrent has none. Peers' goroutines,
		// started below, see it; it is never replaced.
		t.events = make(chan peerEvent, 512)
	}
	t.peers[p] = struct{}{}
	t.byPickID[p.id] = p
	if !incoming {
		t.tried[addr] = now
	}
	t.attachExtensions(p)
	if m := t.meta.Load(); m != nil {
		t.sendHaves(p)
	}
	c.SetTimeout(t.cfg.RequestTimeout)
	if d := t.client.keepAlive; d > 0 {
		c.SetKeepAlive(d)
	}
	if err := c.Start(p); err != nil {
		// The close event will remove it.
		return
	}
	p.started = true
	t.sendDHTPort(p)
	if m := t.meta.Load(); m != nil && c.SupportsFast() {
		t.sendAllowedFast(p)
	}
}

// keepsFirst decides between two connections with the same peer, one
// incoming and one outgoing: it reports whether the existing one stays
// when the new one is incoming (or not). The connection opened by the
// lower peer id wins, so both ends choose the same one.
func (t *Torrent) keepsFirst(newIncoming bool, peerID [20]byte) bool {
	weOpenWin := bytes.Compare(t.client.peerID[:], peerID[:]) < 0
	if newIncoming {
		return weOpenWin // the existing one is ours
	}
	return !weOpenWin
}

// sendHaves queues our bitfield (or have-all/have-none) before Start.
func (t *Torrent) sendHaves(p *peer) {
	h := t.have.Load()
	switch {
	case p.conn.SupportsFast() && h.All():
		p.conn.HaveAll()
	case p.conn.SupportsFast() && h.None():
		p.conn.HaveNone()
	case !h.None():
		p.conn.Bitfield(*h)
	}
}

// sendAllowedFast grants the peer its BEP 6 allowed-fast set, limited to
// pieces we have, so a choked peer can still get started.
func (t *Torrent) sendAllowedFast(p *peer) {
	m := t.meta.Load()
	h := t.have.Load()
	for _, i := range allowedFastSet(p.addr.Addr(), t.infoHash, m.layout.NumPieces, allowedFastCount) {
		if h.Has(i) {
			p.conn.AllowedFast(i)
		}
	}
}

// removePeer forgets a closed connection.
func (t *Torrent) removePeer(p *peer) {
	if _, ok := t.peers[p]; !ok {
		return
	}
	delete(t.peers, p)
	delete(t.byPickID, p.id)
	t.client.releaseConn()
	if t.pick != nil && p.counted {
		t.pick.PeerGone(p.id, p.has, p.seed)
	} else if t.pick != nil {
		t.pick.PeerGone(p.id, bitfield.Bitfield{}, false)
	}
	p.reqs = nil
	t.pexDrop(p)
	if !p.amChoking {
		t.lastChoke = time.Time{} // a slot is free: rerun the choker soon
	}
	t.dialMore()
}

// handlePeerEvent applies one event from a peer's read goroutine.
func (t *Torrent) handlePeerEvent(e peerEvent) {
	p := e.p
	if e.close {
		if _, live := t.peers[p]; live && (errors.Is(e.err, metadata.ErrBadMetadata) || errors.Is(e.err, metadata.ErrBadData)) {
			// It lied about the metadata or broke ut_metadata's rules:
			// not to be dialled or accepted again.
			t.ban(p, "bad metadata")
		}
		t.removePeer(p)
		return
	}
	if _, live := t.peers[p]; !live {
		if e.typ == wire.MsgPiece {
			t.onBlock(p, e.index, e.begin, e.data)
		}
		return
	}
	if e.timeout {
		t.release(p, e.index, e.begin)
		return
	}
	switch e.typ {
	case wire.MsgChoke:
		p.peerChoking = true
		if !p.conn.SupportsFast() {
			// The Conn dropped our requests; so do we.
			for b := range p.reqs {
				t.pick.Cancel(p.id, b)
			}
			clear(p.reqs)
		}
	case wire.MsgUnchoke:
		p.peerChoking = false
		t.fillRequests(p)
	case wire.MsgInterested:
		p.peerInterested = true
		p.lastActive = time.Now()
		t.maybeUnchoke(p)
	case wire.MsgNotInterested:
		p.peerInterested = false
		if !p.amChoking {
			p.amChoking = true
			p.conn.Choke()
			t.lastChoke = time.Time{}
		}
	case wire.MsgHave:
		t.peerHave(p, e.index)
	case wire.MsgBitfield:
		t.peerBitfield(p, e.data)
	case wire.MsgHaveAll:
		if t.pick != nil {
			t.peerBitfield(p, bitfield.Full(t.pick.NumPieces()).Bytes())
		}
	case wire.MsgHaveNone:
		if t.pick != nil {
			t.peerBitfield(p, bitfield.New(t.pick.NumPieces()).Bytes())
		}
	case wire.MsgPiece:
		t.onBlock(p, e.index, e.begin, e.data)
	case wire.MsgReject:
		p.noteReject(e.index, e.begin) // faults.go
		t.release(p, e.index, e.begin)
		t.fillRequests(p)
	case wire.MsgAllowedFast:
		if len(p.allowedFast) < maxAllowedFast {
			p.allowedFast = append(p.allowedFast, e.index)
		}
		if p.peerChoking {
			t.updatePeerInterest(p)
			t.fillRequests(p)
		}
	case wire.MsgSuggest:
		if len(p.suggested) >= maxSuggested {
			p.suggested = p.suggested[1:]
		}
		p.suggested = append(p.suggested, e.index)
	case wire.MsgPort:
		t.peerDHTPort(p, e.port)
	case wire.MsgExtended:
		if h := p.conn.PeerExtendedHandshake(); h != nil {
			p.reqq = h.Reqq
			if h.P > 0 && h.P < 65536 && p.incoming {
				t.pexListenPort(p, h.P)
			}
		}
	}
}

// peerHave applies a have message.
func (t *Torrent) peerHave(p *peer, i int) {
	if t.pick == nil || i < 0 || i >= t.pick.NumPieces() {
		return
	}
	t.countPeer(p)
	if p.seed || p.has.Has(i) {
		return
	}
	p.has.Set(i)
	t.pick.PeerHas(i)
	if p.has.All() {
		// Now a seed: count it in O(1) from here on.
		t.pick.PeerGone(p.id, p.has, false)
		p.seed = true
		t.pick.AddSeed()
		if t.Seeding() {
			p.conn.Close()
			return
		}
	}
	if !p.amInterested && t.pick.Priority(i) > 0 && !t.pick.Have(i) {
		t.setInterested(p, true)
	}
	t.fillRequests(p)
}

// countPeer makes sure p's (empty) bitfield exists.
func (t *Torrent) countPeer(p *peer) {
	if !p.counted {
		p.counted = true
		p.has = bitfield.New(t.pick.NumPieces())
	}
}

// peerBitfield replaces the peer's pieces (bitfield, have-all, have-none).
func (t *Torrent) peerBitfield(p *peer, raw []byte) {
	if t.pick == nil {
		return
	}
	bf, err := bitfield.FromBytes(raw, t.pick.NumPieces())
	if err != nil {
		p.conn.Close() // the Conn checks sizes; this cannot happen
		return
	}
	if p.counted {
		t.pick.PeerGone(p.id, p.has, p.seed)
		// PeerGone also released requests: forget ours.
		clear(p.reqs)
	}
	p.counted = true
	p.has = bf
	p.seed = bf.All()
	if p.seed {
		t.pick.AddSeed()
		if t.Seeding() && t.pick.NumPieces() > 0 {
			p.conn.Close()
			return
		}
	} else {
		t.pick.PeerBitfield(bf)
	}
	t.updatePeerInterest(p)
	t.fillRequests(p)
}

// wantsFrom reports whether p has a piece we want.
func (t *Torrent) wantsFrom(p *peer) bool {
	if t.pick == nil || t.pick.Complete() {
		return false
	}
	if p.seed {
		return true
	}
	for i := p.has.Next(0); i >= 0; i = p.has.Next(i + 1) {
		if t.pick.Priority(i) > 0 && !t.pick.Have(i) {
			return true
		}
	}
	return false
}

func (t *Torrent) updatePeerInterest(p *peer) {
	t.setInterested(p, t.state != Stopped && t.wantsFrom(p))
}

// updateInterest re-evaluates our interest in every peer.
func (t *Torrent) updateInterest() {
	for p := range t.peers {
		if p.started {
			t.updatePeerInterest(p)
		}
	}
}

func (t *Torrent) setInterested(p *peer, v bool) {
	if p.amInterested == v {
		return
	}
	p.amInterested = v
	p.lastActive = time.Now()
	if v {
		p.conn.Interested()
	} else {
		p.conn.NotInterested()
	}
}
