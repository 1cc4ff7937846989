package wire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/bt-go/bt/bitfield"
)

// Errors of the send methods.
var (
	// ErrNotRequested: Piece answered a request the peer does not have
	// pending (it canceled it, or we choked it meanwhile).
	ErrNotRequested = errors.New("wire: no such pending request from the peer")
)

// Messages are queued under c.mu and written by the writer goroutine, which
// takes the whole queue in one write: messages sent in a burst share a
// system call.

// appendFrame queues a message with up to three integers and a payload.
// c.mu must be held.
func (c *Conn) appendFrame(t MessageType, nints int, payload []byte, ints ...uint32) {
	n := 1 + 4*nints + len(payload)
	c.out = binary.BigEndian.AppendUint32(c.out, uint32(n))
	c.out = append(c.out, byte(t))
	for _, v := range ints {
		c.out = binary.BigEndian.AppendUint32(c.out, v)
	}
	c.out = append(c.out, payload...)
}

// send queues a message of fixed fields and wakes the writer.
func (c *Conn) send(t MessageType, ints ...uint32) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if t.fast() && !c.fast {
		c.mu.Unlock()
		return fmt.Errorf("wire: sending %v: %w", t, ErrFastNotNegotiated)
	}
	c.appendFrame(t, len(ints), nil, ints...)
	c.mu.Unlock()
	c.signal()
	return nil
}

// KeepAlive sends a keep-alive.
func (c *Conn) KeepAlive() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.out = append(c.out, 0, 0, 0, 0)
	c.mu.Unlock()
	c.signal()
	return nil
}

// Choke chokes the peer. Its pending requests are discarded; with the Fast
// extension each one outside our allowed-fast set is rejected, as BEP 6
// requires.
func (c *Conn) Choke() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.amChoking = true
	c.appendFrame(MsgChoke, 0, nil)
	kept := c.peerRequests[:0]
	for _, r := range c.peerRequests {
		if c.fast && containsInt(c.ourFast, r.Index) {
			kept = append(kept, r)
			continue
		}
		if c.fast {
			c.appendFrame(MsgReject, 3, nil, uint32(r.Index), uint32(r.Begin), uint32(r.Length))
		}
	}
	clear(c.peerRequests[len(kept):])
	c.peerRequests = kept
	c.mu.Unlock()
	c.signal()
	return nil
}

// Unchoke unchokes the peer.
func (c *Conn) Unchoke() error { return c.setOurs(&c.amChoking, false, MsgUnchoke) }

// Interested tells the peer we are interested.
func (c *Conn) Interested() error { return c.setOurs(&c.amInterested, true, MsgInterested) }

// NotInterested tells the peer we are not interested (the seed's uninterested).
func (c *Conn) NotInterested() error { return c.setOurs(&c.amInterested, false, MsgNotInterested) }

func (c *Conn) setOurs(flag *bool, v bool, t MessageType) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	*flag = v
	c.appendFrame(t, 0, nil)
	c.mu.Unlock()
	c.signal()
	return nil
}

// Have tells the peer we have piece index.
func (c *Conn) Have(index int) error {
	if index < 0 || index > 1<<31-1 {
		return fmt.Errorf("wire: have %d: %w", index, ErrIndexOutOfRange)
	}
	return c.send(MsgHave, uint32(index))
}

// Bitfield sends our pieces. It should be the first message after the
// handshake; queue it before Start to be sure. Its length must match the
// number of pieces when that is known.
func (c *Conn) Bitfield(b bitfield.Bitfield) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if c.numPieces >= 0 && b.Len() != c.numPieces {
		return fmt.Errorf("wire: bitfield of %d pieces for a torrent of %d", b.Len(), c.numPieces)
	}
	c.appendFrame(MsgBitfield, 0, b.Bytes())
	c.signal()
	return nil
}

// Request asks the peer for a block. done, if not nil, is called once with
// the block or with an error: ErrChoked, ErrRejected, ErrTimeout,
// ErrCanceled or ErrClosed. The block is valid only during the call (it
// is pooled): copy it to keep it. Whether or not done is nil, the block
// also reaches the Handler as a piece Message. Requesting while choked
// fails with ErrChoked unless the piece is in the peer's allowed-fast set.
// Requesting a block already outstanding is not checked (it would cost a
// scan per request): each request is answered by the next matching piece.
func (c *Conn) Request(index, begin, length int, done func(block []byte, err error)) error {
	r := Request{index, begin, length}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if c.numPieces >= 0 {
		if err := c.checkBlock(index, begin, length, MaxBlockLength); err != nil {
			return fmt.Errorf("wire: request %v: %w", r, err)
		}
	} else if index < 0 || begin < 0 || length <= 0 || length > MaxBlockLength {
		return fmt.Errorf("wire: request %v: %w", r, ErrBadRequest)
	}
	if c.peerChoking && !(c.fast && containsInt(c.peerFast, index)) {
		return fmt.Errorf("wire: request %v: %w", r, ErrChoked)
	}
	if c.requests.n == 0 {
		c.headSince = c.now()
	}
	c.requests.push(outReq{r, done})
	c.appendFrame(MsgRequest, 3, nil, uint32(index), uint32(begin), uint32(length))
	c.signal()
	return nil
}

// Cancel cancels our request for a block. Its completion, if any, is called
// with ErrCanceled (from the connection's goroutine, not from Cancel). A
// piece that still arrives for it is counted as waste.
func (c *Conn) Cancel(index, begin, length int) error {
	r := Request{index, begin, length}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if i := c.requests.find(r); i >= 0 {
		o := c.requests.remove(i)
		if i == 0 {
			c.headSince = c.now()
		}
		if o.done != nil {
			c.deferred = append(c.deferred, completion{req: r, done: o.done, err: ErrCanceled})
		}
	}
	c.appendFrame(MsgCancel, 3, nil, uint32(index), uint32(begin), uint32(length))
	c.signal()
	return nil
}

// Piece answers the peer's pending request for the block at index, begin
// with len(block) bytes: it is the responder of an incoming request. The
// block is copied before Piece returns. It fails with ErrNotRequested if
// the request is no longer pending (canceled by the peer, or discarded
// because we choked it).
func (c *Conn) Piece(index, begin int, block []byte) error {
	r := Request{index, begin, len(block)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	i := indexRequest(c.peerRequests, r)
	if i < 0 {
		return fmt.Errorf("wire: piece %v: %w", r, ErrNotRequested)
	}
	c.peerRequests = append(c.peerRequests[:i], c.peerRequests[i+1:]...)
	if j := c.findServed(r); j >= 0 {
		c.served[j].again++
	} else {
		c.served[c.servedNext] = servedBlock{Request: r}
		c.servedNext = (c.servedNext + 1) % len(c.served)
	}
	if c.duplicates > 0 {
		c.duplicates--
	}
	c.out = binary.BigEndian.AppendUint32(c.out, uint32(9+len(block)))
	c.out = append(c.out, byte(MsgPiece))
	c.out = binary.BigEndian.AppendUint32(c.out, uint32(index))
	c.out = binary.BigEndian.AppendUint32(c.out, uint32(begin))
	// The block goes into a pooled buffer written by writev after the
	// header: no copy into the growing output buffer.
	b := getBlock(len(block))
	copy(b, block)
	c.outBlocks = append(c.outBlocks, outBlock{end: len(c.out), block: b[:len(block)]})
	c.outPayload += len(block)
	c.signal()
	return nil
}

func indexRequest(rs []Request, r Request) int {
	for i, x := range rs {
		if x == r {
			return i
		}
	}
	return -1
}

// Reject refuses the peer's request for a block: it is forgotten and, with
// the Fast extension, a reject message tells the peer. Without the Fast
// extension nothing is sent (BEP 3 has no way to say no).
func (c *Conn) Reject(index, begin, length int) error {
	r := Request{index, begin, length}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if i := indexRequest(c.peerRequests, r); i >= 0 {
		c.peerRequests = append(c.peerRequests[:i], c.peerRequests[i+1:]...)
	}
	if c.fast {
		c.appendFrame(MsgReject, 3, nil, uint32(index), uint32(begin), uint32(length))
		c.signal()
	}
	return nil
}

// Port sends our DHT port (BEP 5).
func (c *Conn) Port(port uint16) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.out = binary.BigEndian.AppendUint32(c.out, 3)
	c.out = append(c.out, byte(MsgPort), byte(port>>8), byte(port))
	c.signal()
	return nil
}

// HaveAll tells the peer we have every piece (BEP 6; instead of a bitfield).
func (c *Conn) HaveAll() error { return c.send(MsgHaveAll) }

// HaveNone tells the peer we have no piece (BEP 6; instead of a bitfield).
func (c *Conn) HaveNone() error { return c.send(MsgHaveNone) }

// Suggest suggests piece index to the peer (BEP 6).
func (c *Conn) Suggest(index int) error {
	if index < 0 || index > 1<<31-1 {
		return fmt.Errorf("wire: suggest %d: %w", index, ErrIndexOutOfRange)
	}
	return c.send(MsgSuggest, uint32(index))
}

// AllowedFast lets the peer request piece index while choked (BEP 6).
func (c *Conn) AllowedFast(index int) error {
	if index < 0 || index > 1<<31-1 {
		return fmt.Errorf("wire: allowed fast %d: %w", index, ErrIndexOutOfRange)
	}
	if err := c.send(MsgAllowedFast, uint32(index)); err != nil {
		return err
	}
	c.mu.Lock()
	if !containsInt(c.ourFast, index) {
		c.ourFast = append(c.ourFast, index)
	}
	c.mu.Unlock()
	return nil
}

// Extended sends an extended message (BEP 10) with the given extended id,
// as the peer numbered it. Prefer SendExtended, which maps names to ids.
func (c *Conn) Extended(id byte, payload []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if !c.extended {
		return fmt.Errorf("wire: sending extended message: %w", ErrExtensionNotSupported)
	}
	c.appendExtended(id, payload)
	c.signal()
	return nil
}

// appendExtended queues an extended message; c.mu must be held.
func (c *Conn) appendExtended(id byte, payload []byte) {
	c.out = binary.BigEndian.AppendUint32(c.out, uint32(2+len(payload)))
	c.out = append(c.out, byte(MsgExtended), id)
	c.out = append(c.out, payload...)
}
