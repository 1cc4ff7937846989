package wire

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

// readBuf is a connection's read buffer. Unlike a bufio.Reader, it holds
// no memory of its own while the connection is idle: a read that needs
// little (a message header) and comes after a quiet spell goes into a
// small array in the Conn, and a large buffer of Config.ReadBufferSize is
// taken from a pool only while data streams in or a long message is read,
// and given back as soon as everything in it has been consumed. An idle
// peer thus costs a few hundred bytes of reading state, not 64 KiB.
type readBuf struct {
	rd        io.Reader
	size      int    // the large buffer's size
	buf       []byte // small[:] or a pooled buffer; nil when empty
	pooled    bool   // buf came from the pool
	r, w      int    // buf[r:w] is unread
	err       error  // sticky read error, returned once buf is drained
	streaming bool   // the last fill filled its buffer: more is likely waiting
	small     [smallRead]byte
	held      atomic.Bool // a pooled buffer is held (for tests and stats)
}

// smallRead is the size of the in-Conn buffer for reads after a quiet
// spell: room for several short messages.
const smallRead = 128

// readPools hold large read buffers, one pool per size.
var readPools sync.Map // int -> *sync.Pool

func getReadBuf(size int) []byte {
	p, _ := readPools.LoadOrStore(size, &sync.Pool{})
	if b, ok := p.(*sync.Pool).Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, size)
}

func putReadBuf(b []byte) {
	if p, ok := readPools.Load(cap(b)); ok {
		b = b[:cap(b)]
		p.(*sync.Pool).Put(&b)
	}
}

func newReadBuf(rd io.Reader, size int) *readBuf {
	return &readBuf{rd: rd, size: size}
}

// Size returns the size of the large buffer: the longest Peek.
func (b *readBuf) Size() int { return b.size }

// Buffered returns the number of unread bytes in the buffer.
func (b *readBuf) Buffered() int { return b.w - b.r }

// release gives the large buffer back once it is drained.
func (b *readBuf) release() {
	if b.r < b.w {
		return
	}
	if b.pooled {
		putReadBuf(b.buf)
		b.held.Store(false)
	}
	b.buf, b.pooled, b.r, b.w = nil, false, 0, 0
}

// fill reads more data, into a buffer that can hold need unread bytes
// (need <= size). It calls the underlying reader once.
func (b *readBuf) fill(need int) {
	if b.buf == nil {
		if need > smallRead || b.streaming {
			b.buf, b.pooled = getReadBuf(b.size), true
			b.held.Store(true)
		} else {
			b.buf = b.small[:]
		}
	} else if !b.pooled && need > smallRead {
		// Promote: the small array cannot hold what is wanted.
		big := getReadBuf(b.size)
		b.w = copy(big, b.buf[b.r:b.w])
		b.r = 0
		b.buf, b.pooled = big, true
		b.held.Store(true)
	}
	if b.r+need > len(b.buf) {
		b.w = copy(b.buf, b.buf[b.r:b.w])
		b.r = 0
	}
	n, err := b.rd.Read(b.buf[b.w:])
	if n < 0 || n > len(b.buf)-b.w {
		n, err = 0, errors.New("wire: reader returned an invalid count")
	}
	b.w += n
	b.streaming = b.w == len(b.buf)
	if err != nil {
		b.err = err
	}
}

// readErr returns the sticky error once the buffer is drained.
func (b *readBuf) readErr() error {
	err := b.err
	b.err = nil
	return err
}

// Read reads into p. A read of at least the large buffer's size goes
// straight into p when nothing is buffered.
func (b *readBuf) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.r == b.w {
		if b.err != nil {
			return 0, b.readErr()
		}
		if len(p) >= b.size {
			b.release()
			n, err := b.rd.Read(p)
			b.streaming = n == len(p)
			return n, err
		}
		b.fill(len(p))
		if b.r == b.w {
			b.release()
			return 0, b.readErr()
		}
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	b.release()
	return n, nil
}

// ReadByte reads one byte.
func (b *readBuf) ReadByte() (byte, error) {
	for b.r == b.w {
		if b.err != nil {
			return 0, b.readErr()
		}
		b.fill(1)
	}
	c := b.buf[b.r]
	b.r++
	b.release()
	return c, nil
}

// Peek returns the next n bytes without consuming them; n must not exceed
// Size. The slice is valid until the next read or Discard.
func (b *readBuf) Peek(n int) ([]byte, error) {
	if n > b.size {
		return nil, errors.New("wire: peek larger than the read buffer")
	}
	for b.w-b.r < n {
		if b.err != nil {
			return nil, b.readErr()
		}
		b.fill(n)
	}
	return b.buf[b.r : b.r+n], nil
}

// Discard skips the next n bytes.
func (b *readBuf) Discard(n int) (int, error) {
	done := 0
	for done < n {
		if b.r == b.w {
			if b.err != nil {
				b.release()
				return done, b.readErr()
			}
			b.fill(min(n-done, b.size))
			continue
		}
		k := min(n-done, b.w-b.r)
		b.r += k
		done += k
	}
	b.release()
	return done, nil
}
