package wire

import (
	"fmt"
	"time"

	"github.com/bt-go/bt/bitfield"
)

// AmChoking reports whether we choke the peer (initially true).
func (c *Conn) AmChoking() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.amChoking }

// AmInterested reports whether we are interested in the peer (initially false).
func (c *Conn) AmInterested() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.amInterested }

// PeerChoking reports whether the peer chokes us (initially true).
func (c *Conn) PeerChoking() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.peerChoking }

// PeerInterested reports whether the peer is interested in us (initially false).
func (c *Conn) PeerInterested() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.peerInterested }

// PeerHas reports whether the peer has piece i (the seed's peerPieces[i]).
// It is false while the number of pieces is unknown.
func (c *Conn) PeerHas(i int) bool { c.mu.Lock(); defer c.mu.Unlock(); return c.peerPieces.Has(i) }

// PeerPieces returns a copy of the peer's pieces. Its length is zero while
// the number of pieces is unknown.
func (c *Conn) PeerPieces() bitfield.Bitfield {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peerPieces.Clone()
}

// NumPieces returns the number of pieces, or -1 while unknown.
func (c *Conn) NumPieces() int { c.mu.Lock(); defer c.mu.Unlock(); return c.numPieces }

// Requests returns our outstanding requests, oldest first (the seed's
// wire.requests).
func (c *Conn) Requests() []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	rs := make([]Request, c.requests.n)
	for i := range rs {
		rs[i] = c.requests.at(i).Request
	}
	return rs
}

// NumRequests returns the number of our outstanding requests.
func (c *Conn) NumRequests() int { c.mu.Lock(); defer c.mu.Unlock(); return c.requests.n }

// PeerRequests returns the peer's pending requests, oldest first (the
// seed's wire.peerRequests).
func (c *Conn) PeerRequests() []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Request(nil), c.peerRequests...)
}

// HasPeerRequest reports whether the peer's request for the block at
// index, begin of length bytes is pending (not yet answered, canceled or
// discarded): a cheap check before reading the block from disk.
func (c *Conn) HasPeerRequest(index, begin, length int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return indexRequest(c.peerRequests, Request{index, begin, length}) >= 0
}

// PeerAllowedFast returns the pieces the peer allows us to request while
// choked (BEP 6).
func (c *Conn) PeerAllowedFast() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.peerFast...)
}

// SetTimeout makes the head request (our oldest outstanding one) fail with
// ErrTimeout, and an EventTimeout be reported, when it stays unanswered for
// d. Zero or negative turns the time-out off.
func (c *Conn) SetTimeout(d time.Duration) {
	c.mu.Lock()
	c.timeout = d
	c.headSince = c.now()
	c.mu.Unlock()
	c.signal()
}

// SetKeepAlive sets the idle time after which a keep-alive is sent; zero
// or negative turns keep-alives off. (The seed's setKeepAlive(true) is
// SetKeepAlive(DefaultKeepAlive).)
func (c *Conn) SetKeepAlive(d time.Duration) {
	c.mu.Lock()
	c.keepAlive = d
	c.mu.Unlock()
	c.signal()
}

// SetTorrentSize gives the torrent's geometry once it is known (after a
// magnet's metadata arrived). The peer's bitfield and haves received so far
// are checked against it; a mismatch closes the connection and is returned.
func (c *Conn) SetTorrentSize(pieceLength, totalLength int64) error {
	if pieceLength <= 0 || totalLength <= 0 {
		return fmt.Errorf("wire: bad torrent size %d/%d", pieceLength, totalLength)
	}
	c.mu.Lock()
	if c.numPieces >= 0 {
		c.mu.Unlock()
		return fmt.Errorf("wire: torrent size already set")
	}
	err := c.setSizeLocked(pieceLength, totalLength)
	c.mu.Unlock()
	if err != nil {
		c.closeWith(err)
	}
	return err
}

func (c *Conn) setSizeLocked(pieceLength, totalLength int64) error {
	n64 := (totalLength + pieceLength - 1) / pieceLength
	if n64 > 1<<31-1 {
		return fmt.Errorf("wire: %d pieces is too many", n64)
	}
	n := int(n64)
	c.numPieces, c.pieceLength, c.totalLength = n, pieceLength, totalLength
	switch {
	case c.pendingAll > 0:
		c.peerPieces = bitfield.Full(n)
	case c.pendingBits != nil:
		b, err := bitfield.FromBytes(c.pendingBits, n)
		if err != nil {
			c.peerPieces = bitfield.New(n)
			return protoErr(MsgBitfield, ErrBadBitfield, "%v", err)
		}
		c.peerPieces = b
	default:
		c.peerPieces = bitfield.New(n)
	}
	for i, x := range c.pendingHave {
		for j := 0; x != 0; j++ {
			if x&0x80 != 0 {
				k := i*8 + j
				if k >= n {
					return protoErr(MsgHave, ErrIndexOutOfRange, "index %d of %d pieces", k, n)
				}
				c.peerPieces.Set(k)
			}
			x <<= 1
		}
	}
	c.pendingBits, c.pendingHave, c.pendingAll = nil, nil, 0
	return nil
}

// pieceSize returns the length of piece i, which must be in range.
func (c *Conn) pieceSize(i int) int64 {
	if i == c.numPieces-1 {
		return c.totalLength - int64(i)*c.pieceLength
	}
	return c.pieceLength
}

// checkBlock checks a request against the torrent's geometry, in 64 bits.
func (c *Conn) checkBlock(index, begin, length, maxLength int) error {
	if c.numPieces < 0 {
		return fmt.Errorf("%w: torrent size unknown", ErrIndexOutOfRange)
	}
	if index < 0 || index >= c.numPieces {
		return fmt.Errorf("%w: index %d of %d pieces", ErrIndexOutOfRange, index, c.numPieces)
	}
	if length <= 0 || length > maxLength {
		return fmt.Errorf("%w: length %d (max %d)", ErrBadRequest, length, maxLength)
	}
	if begin < 0 || int64(begin)+int64(length) > c.pieceSize(index) {
		return fmt.Errorf("%w: %d+%d past the end of piece %d (%d bytes)", ErrBadRequest, begin, length, index, c.pieceSize(index))
	}
	return nil
}

func containsInt(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// outReq is one of our outstanding requests.
type outReq struct {
	Request
	done func([]byte, error)
}

// reqQueue is a ring buffer of our outstanding requests, oldest first.
// Answers usually come in order, so lookups scan from the head.
type reqQueue struct {
	buf     []outReq
	head, n int
}

func (q *reqQueue) at(i int) *outReq { return &q.buf[(q.head+i)%len(q.buf)] }

func (q *reqQueue) push(r outReq) {
	if q.n == len(q.buf) {
		nb := make([]outReq, max(16, 2*len(q.buf)))
		for i := 0; i < q.n; i++ {
			nb[i] = *q.at(i)
		}
		q.buf, q.head = nb, 0
	}
	*q.at(q.n) = r
	q.n++
}

func (q *reqQueue) find(r Request) int {
	for i := 0; i < q.n; i++ {
		if q.at(i).Request == r {
			return i
		}
	}
	return -1
}

func (q *reqQueue) remove(i int) outReq {
	r := *q.at(i)
	if i == 0 {
		*q.at(0) = outReq{}
		q.head = (q.head + 1) % len(q.buf)
		q.n--
		return r
	}
	for j := i; j < q.n-1; j++ {
		*q.at(j) = *q.at(j + 1)
	}
	*q.at(q.n - 1) = outReq{}
	q.n--
	return r
}
