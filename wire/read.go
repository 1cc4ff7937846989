package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync/atomic"

	"github.com/bt-go/bt/bitfield"
)

// maxPendingHave bounds a have index received before the number of pieces
// is known: a bitfield for more pieces could not fit in MaxFrame.
const maxPendingHave = 8 * MaxFrame

// maxPeerFast bounds the peer's allowed-fast set we remember.
const maxPeerFast = 1024

// recoverPanics makes the reader turn a panic into an error that closes
// the connection; the fuzz test turns it off so that panics surface.
var recoverPanics = func() *atomic.Bool { var b atomic.Bool; b.Store(true); return &b }()

// readLoop is the connection's reader goroutine.
func (c *Conn) readLoop() {
	defer func() {
		if !recoverPanics.Load() {
			return
		}
		if p := recover(); p != nil {
			// Last resort: a bug must not take the whole process down.
			c.log.Error("wire: panic in connection reader", "panic", p, "stack", string(debug.Stack()))
			c.closeWith(fmt.Errorf("wire: internal error: %v", p))
			<-c.writerDone
			c.finish()
		}
	}()
	err := c.readMessages()
	c.closeWith(err)
	<-c.writerDone
	c.finish()
}

// readMessages reads and dispatches messages until an error.
func (c *Conn) readMessages() error {
	for {
		if c.gate != nil {
			c.gate.WaitRead(c)
		}
		if _, err := io.ReadFull(c.br, c.hdr[:4]); err != nil {
			return c.readError(err)
		}
		c.lastRecv.Store(int64(c.now()))
		n := binary.BigEndian.Uint32(c.hdr[:4])
		if n == 0 {
			c.stats.protoDown.Add(4)
			c.msg = Message{Type: MsgKeepAlive}
			c.emit()
			continue
		}
		id, err := c.br.ReadByte()
		if err != nil {
			return c.readError(err)
		}
		t := MessageType(id)
		if err := c.checkFrame(t, n); err != nil {
			return err
		}
		if t == MsgPiece {
			if err := c.readPiece(int(n) - 9); err != nil {
				return err
			}
			continue
		}
		c.stats.protoDown.Add(4 + uint64(n))
		var err2 error
		switch t {
		case MsgBitfield, MsgExtended:
			err2 = c.readVariable(t, int(n)-1)
		default:
			if _, err := io.ReadFull(c.br, c.hdr[:n-1]); err != nil {
				return c.readError(err)
			}
			err2 = c.handleFixed(t)
		}
		if err2 != nil {
			return err2
		}
	}
}

func (c *Conn) readError(err error) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return ErrClosed // closeWith already recorded the cause
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("wire: peer closed the connection: %w", err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return protoErr(MsgKeepAlive, ErrIdle, "%v", err)
	}
	return fmt.Errorf("wire: reading: %w", err)
}

// checkFrame checks a message's length against its id, before anything
// of its payload is read or allocated.
func (c *Conn) checkFrame(t MessageType, n uint32) error {
	ok := false
	switch t {
	case MsgChoke, MsgUnchoke, MsgInterested, MsgNotInterested, MsgHaveAll, MsgHaveNone:
		ok = n == 1
	case MsgHave, MsgSuggest, MsgAllowedFast:
		ok = n == 5
	case MsgRequest, MsgCancel, MsgReject:
		ok = n == 13
	case MsgPort:
		ok = n == 3
	case MsgPiece:
		ok = n >= 9 && n <= 9+MaxBlockLength
	case MsgBitfield:
		ok = n <= MaxFrame
		if !ok {
			c.mu.Lock()
			np := c.numPieces
			c.mu.Unlock()
			ok = np >= 0 && n == uint32(1+bitfield.ByteLen(np))
		}
		if !ok {
			return protoErr(t, ErrFrameTooLarge, "%d bytes", n)
		}
	case MsgExtended:
		ok = n >= 2 && n <= MaxFrame
		if n > MaxFrame {
			return protoErr(t, ErrFrameTooLarge, "%d bytes", n)
		}
	default:
		if n > MaxFrame {
			return protoErr(t, ErrFrameTooLarge, "%d bytes", n)
		}
		return protoErr(t, ErrUnknownMessage, "id %d, %d bytes", int(t), n)
	}
	if !ok {
		return protoErr(t, ErrMessageLength, "%d bytes", n)
	}
	if t.fast() && !c.fast {
		return protoErr(t, ErrFastNotNegotiated, "")
	}
	if t == MsgExtended && !c.extended {
		return protoErr(t, ErrExtendedNotSupported, "")
	}
	return nil
}

// emit hands c.msg to the handler.
func (c *Conn) emit() {
	c.cbMu.Lock()
	c.handler.HandleMessage(c, &c.msg)
	c.cbMu.Unlock()
}

func (c *Conn) u32(i int) int { return int(binary.BigEndian.Uint32(c.hdr[4*i:])) }

// handleFixed handles a message whose payload (at most 12 bytes) is in c.hdr.
func (c *Conn) handleFixed(t MessageType) error {
	c.msg = Message{Type: t}
	switch t {
	case MsgChoke:
		c.mu.Lock()
		c.peerChoking = true
		failed := c.failed[:0]
		if !c.fast {
			for c.requests.n > 0 {
				r := c.requests.remove(0)
				failed = append(failed, completion{req: r.Request, done: r.done, err: ErrChoked})
			}
		}
		c.mu.Unlock()
		c.cbMu.Lock()
		c.deliver(failed)
		c.handler.HandleMessage(c, &c.msg)
		c.cbMu.Unlock()
		clear(failed)
		c.failed = failed[:0]
		return nil
	case MsgUnchoke:
		c.setPeer(&c.peerChoking, false)
	case MsgInterested:
		c.setPeer(&c.peerInterested, true)
	case MsgNotInterested:
		c.setPeer(&c.peerInterested, false)
	case MsgHave:
		c.msg.Index = c.u32(0)
		if err := c.peerHave(c.msg.Index); err != nil {
			return err
		}
	case MsgHaveAll, MsgHaveNone:
		c.mu.Lock()
		if c.numPieces >= 0 {
			if t == MsgHaveAll {
				c.peerPieces.SetAll()
			} else {
				c.peerPieces.ClearAll()
			}
		} else {
			c.pendingAll, c.pendingBits, c.pendingHave = 1, nil, nil
			if t == MsgHaveNone {
				c.pendingAll = -1
			}
		}
		c.mu.Unlock()
	case MsgRequest:
		c.msg.Index, c.msg.Begin, c.msg.Length = c.u32(0), c.u32(1), c.u32(2)
		deliver, err := c.peerRequest(Request{c.msg.Index, c.msg.Begin, c.msg.Length})
		if err != nil || !deliver {
			return err
		}
	case MsgCancel:
		c.msg.Index, c.msg.Begin, c.msg.Length = c.u32(0), c.u32(1), c.u32(2)
		r := Request{c.msg.Index, c.msg.Begin, c.msg.Length}
		c.mu.Lock()
		if i := indexRequest(c.peerRequests, r); i >= 0 {
			c.peerRequests = append(c.peerRequests[:i], c.peerRequests[i+1:]...)
			if c.fast { // BEP 6: every request gets exactly one answer
				c.appendFrame(MsgReject, 3, nil, uint32(r.Index), uint32(r.Begin), uint32(r.Length))
				c.signal()
			}
		}
		c.mu.Unlock()
	case MsgReject:
		c.msg.Index, c.msg.Begin, c.msg.Length = c.u32(0), c.u32(1), c.u32(2)
		r := Request{c.msg.Index, c.msg.Begin, c.msg.Length}
		c.mu.Lock()
		var done func([]byte, error)
		if i := c.requests.find(r); i >= 0 {
			done = c.requests.remove(i).done
			if i == 0 {
				c.headSince = c.now()
			}
		}
		c.mu.Unlock()
		c.cbMu.Lock()
		if done != nil {
			done(nil, ErrRejected)
		}
		c.handler.HandleMessage(c, &c.msg)
		c.cbMu.Unlock()
		return nil
	case MsgPort:
		c.msg.Port = binary.BigEndian.Uint16(c.hdr[:2])
	case MsgSuggest, MsgAllowedFast:
		c.msg.Index = c.u32(0)
		c.mu.Lock()
		np := c.numPieces
		if np >= 0 && c.msg.Index >= np {
			c.mu.Unlock()
			return protoErr(t, ErrIndexOutOfRange, "index %d of %d pieces", c.msg.Index, np)
		}
		if t == MsgAllowedFast && len(c.peerFast) < maxPeerFast && !containsInt(c.peerFast, c.msg.Index) {
			c.peerFast = append(c.peerFast, c.msg.Index)
		}
		c.mu.Unlock()
	}
	c.emit()
	return nil
}

func (c *Conn) setPeer(flag *bool, v bool) {
	c.mu.Lock()
	*flag = v
	c.mu.Unlock()
}

func (c *Conn) peerHave(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.numPieces >= 0 {
		if i >= c.numPieces {
			return protoErr(MsgHave, ErrIndexOutOfRange, "index %d of %d pieces", i, c.numPieces)
		}
		c.peerPieces.Set(i)
		return nil
	}
	if i >= maxPendingHave {
		return protoErr(MsgHave, ErrIndexOutOfRange, "index %d", i)
	}
	if c.pendingAll > 0 {
		return nil
	}
	for len(c.pendingHave) <= i/8 {
		c.pendingHave = append(c.pendingHave, 0)
	}
	c.pendingHave[i/8] |= 0x80 >> (i % 8)
	return nil
}

// peerRequest records a request from the peer and says whether to pass it
// to the handler.
func (c *Conn) peerRequest(r Request) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkBlock(r.Index, r.Begin, r.Length, c.cfg.MaxRequestLength); err != nil {
		return false, &ProtocolError{Type: MsgRequest, Err: errors.Unwrap(err), Detail: err.Error()}
	}
	reject := func() {
		if c.fast {
			c.appendFrame(MsgReject, 3, nil, uint32(r.Index), uint32(r.Begin), uint32(r.Length))
			c.signal()
		}
	}
	switch {
	case c.amChoking && !containsInt(c.ourFast, r.Index):
		reject()
		return false, nil
	case indexRequest(c.peerRequests, r) >= 0:
		// Pending already: the answer on its way answers both.
		return false, c.duplicate(r)
	case c.servedAgain(r):
		// BEP 3 lets a peer cancel a request, not multiply our upload:
		// the block is queued or already sent, twice.
		reject()
		return false, c.duplicate(r)
	case len(c.peerRequests) >= c.cfg.MaxPeerRequests:
		reject()
		return false, nil
	}
	c.peerRequests = append(c.peerRequests, r)
	return true, nil
}

// duplicate counts a duplicate request and fails once the peer has sent
// too many. c.mu must be held.
func (c *Conn) duplicate(r Request) error {
	c.duplicates++
	if c.duplicates > c.cfg.MaxDuplicates {
		return protoErr(MsgRequest, ErrDuplicateRequests, "%d duplicates, the last for %v", c.duplicates, r)
	}
	return nil
}

// servedAgain reports whether the block of r is among the last ones queued
// for the peer and was queued twice already. A block is served a second
// time: a peer whose piece failed its hash asks again for every block of
// it, ours included, maybe just after we sent them. c.mu must be held.
func (c *Conn) servedAgain(r Request) bool {
	i := c.findServed(r)
	return i >= 0 && c.served[i].again > 0
}

// findServed returns r's place in the ring of served blocks, or -1.
func (c *Conn) findServed(r Request) int {
	for i, s := range c.served {
		if s.Request == r && r.Length > 0 {
			return i
		}
	}
	return -1
}

// readVariable reads a bitfield or extended message of n payload bytes.
func (c *Conn) readVariable(t MessageType, n int) error {
	var payload []byte
	if n <= c.br.Size() {
		p, err := c.br.Peek(n)
		if err != nil {
			return c.readError(err)
		}
		payload = p
		defer c.br.Discard(n)
	} else {
		payload = make([]byte, n)
		if _, err := io.ReadFull(c.br, payload); err != nil {
			return c.readError(err)
		}
	}
	if t == MsgExtended {
		return c.handleExtended(payload)
	}
	c.mu.Lock()
	if c.numPieces >= 0 {
		b, err := bitfield.FromBytes(payload, c.numPieces)
		if err != nil {
			c.mu.Unlock()
			return protoErr(t, ErrBadBitfield, "%v", err)
		}
		c.peerPieces = b
	} else {
		c.pendingBits = append([]byte(nil), payload...)
		c.pendingAll, c.pendingHave = 0, nil
	}
	c.mu.Unlock()
	c.msg = Message{Type: MsgBitfield, Bitfield: payload}
	c.emit()
	return nil
}

// readPiece reads a piece message with a block of n bytes.
func (c *Conn) readPiece(n int) error {
	if _, err := io.ReadFull(c.br, c.hdr[:8]); err != nil {
		return c.readError(err)
	}
	r := Request{c.u32(0), c.u32(1), n}
	c.stats.protoDown.Add(13)
	c.mu.Lock()
	var o outReq
	i := c.requests.find(r)
	if i >= 0 {
		o = c.requests.remove(i)
		if i == 0 {
			c.headSince = c.now()
		}
	}
	c.mu.Unlock()
	if i < 0 {
		if _, err := c.br.Discard(n); err != nil {
			return c.readError(err)
		}
		c.stats.waste.Add(uint64(n))
		c.cbMu.Lock()
		c.handler.HandleEvent(c, Event{Type: EventWaste, Request: r, Bytes: n})
		c.cbMu.Unlock()
		return nil
	}
	buf := getBlock(n)
	block := buf[:n]
	if _, err := io.ReadFull(c.br, block); err != nil {
		putBlock(buf)
		err = c.readError(err)
		if o.done != nil {
			c.cbMu.Lock()
			o.done(nil, ErrClosed)
			c.cbMu.Unlock()
		}
		return err
	}
	c.stats.payloadDown.Add(uint64(n))
	c.downRate.add(c.now(), n)
	c.msg = Message{Type: MsgPiece, Index: r.Index, Begin: r.Begin, Length: n, Block: block}
	c.cbMu.Lock()
	if o.done != nil {
		o.done(block, nil)
	}
	c.handler.HandleMessage(c, &c.msg)
	c.handler.HandleEvent(c, Event{Type: EventDownload, Request: r, Bytes: n})
	c.cbMu.Unlock()
	c.msg.Block = nil
	putBlock(buf)
	return nil
}
