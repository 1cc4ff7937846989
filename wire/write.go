package wire

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// maxIdleBuffer is the capacity above which the writer drops its spare
// buffer when a batch uses little of it, so idle connections stay small.
const maxIdleBuffer = 1 << 20

// writeLoop is the connection's writer goroutine. It writes everything
// queued since its last write in one call, sends keep-alives, times out the
// head request and closes an idle connection, with a single timer.
func (c *Conn) writeLoop(start time.Duration) {
	defer close(c.writerDone)
	lastSend := start
	var buf []byte
	var blocks []outBlock
	var pending []completion
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-c.closing:
			return
		case <-c.wake:
		case <-timer.C:
		}
		now := c.now()
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return
		}
		if c.keepAlive > 0 && now-lastSend >= c.keepAlive && len(c.out) == 0 {
			c.out = append(c.out, 0, 0, 0, 0)
		}
		if c.timeout > 0 && c.requests.n > 0 && now-c.headSince >= c.timeout {
			r := c.requests.remove(0)
			c.headSince = now
			c.deferred = append(c.deferred, completion{req: r.Request, done: r.done, err: ErrTimeout, event: EventTimeout})
		}
		buf, c.out = c.out, buf[:0]
		blocks, c.outBlocks = c.outBlocks, blocks[:0]
		payload := c.outPayload
		c.outPayload = 0
		pending, c.deferred = c.deferred, pending[:0]
		next := c.nextDeadline(now, lastSend, len(buf) > 0)
		c.mu.Unlock()

		idle := c.cfg.IdleTimeout
		if idle > 0 && now-time.Duration(c.lastRecv.Load()) >= idle {
			c.closeWith(protoErr(MsgKeepAlive, ErrIdle, "nothing received for %v", idle))
			return
		}
		if len(buf) > 0 {
			if err := c.write(buf, blocks); err != nil {
				c.closeWith(fmt.Errorf("wire: writing: %w", err))
				return
			}
			lastSend = c.now()
			c.stats.protoUp.Add(uint64(len(buf)))
			c.stats.payloadUp.Add(uint64(payload))
			if payload > 0 {
				c.upRate.add(lastSend, payload)
			}
		}
		if cap(buf) > maxIdleBuffer && len(buf) < cap(buf)/8 {
			buf = nil // traffic fell: let a smaller buffer grow again
		}
		if len(pending) > 0 || payload > 0 {
			c.cbMu.Lock()
			c.deliver(pending)
			if payload > 0 {
				c.handler.HandleEvent(c, Event{Type: EventUpload, Bytes: payload})
			}
			c.cbMu.Unlock()
			clear(pending)
			pending = pending[:0]
		}
		timer.Reset(max(next-c.now(), time.Millisecond))
	}
}

// nextDeadline returns when the writer must next wake up, as a time since
// the epoch. c.mu must be held.
func (c *Conn) nextDeadline(now, lastSend time.Duration, sending bool) time.Duration {
	next := now + time.Hour
	if c.keepAlive > 0 {
		if sending {
			lastSend = now
		}
		next = min(next, lastSend+c.keepAlive)
	}
	if c.cfg.IdleTimeout > 0 {
		next = min(next, time.Duration(c.lastRecv.Load())+c.cfg.IdleTimeout)
	}
	if c.timeout > 0 && c.requests.n > 0 {
		next = min(next, c.headSince+c.timeout)
	}
	return next
}

// buffersWriter is a stream that writes net.Buffers in one go itself
// (an *mse.Conn: vectored when plaintext, one encrypted buffer with RC4).
type buffersWriter interface {
	WriteBuffers(v *net.Buffers) (int64, error)
}

// write writes buf with the queued blocks spliced in, in one writev when
// the stream supports it (a TCP connection), and recycles the blocks. On a
// stream with write deadlines, a write that makes no progress for
// Config.IdleTimeout fails: a peer that stops reading cannot hold the
// writer forever.
func (c *Conn) write(buf []byte, blocks []outBlock) error {
	iov := c.iov[:0]
	prev := 0
	for _, b := range blocks {
		if b.end > prev {
			iov = append(iov, buf[prev:b.end])
		}
		iov = append(iov, b.block)
		prev = b.end
	}
	if prev < len(buf) {
		iov = append(iov, buf[prev:])
	}
	c.wbuf = iov
	dl, hasDeadline := c.rwc.(interface{ SetWriteDeadline(time.Time) error })
	hasDeadline = hasDeadline && c.cfg.IdleTimeout > 0
	var err error
	for {
		if hasDeadline {
			dl.SetWriteDeadline(time.Now().Add(c.cfg.IdleTimeout))
		}
		var n int64
		if bw, ok := c.rwc.(buffersWriter); ok {
			n, err = bw.WriteBuffers(&c.wbuf)
		} else {
			n, err = c.wbuf.WriteTo(c.rwc)
		}
		var ne net.Error
		if err != nil && n > 0 && errors.As(err, &ne) && ne.Timeout() {
			continue // slow, but moving
		}
		break
	}
	for i := range blocks {
		putBlock(blocks[i].block)
		blocks[i] = outBlock{}
	}
	clear(iov)
	c.iov = iov[:0]
	c.wbuf = nil
	return err
}
