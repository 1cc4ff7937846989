package mse

import (
	"bufio"
	"crypto/rand"
	"crypto/rc4"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
)

// Method is a set of stream methods, as in the crypto_provide and
// crypto_select fields.
type Method uint32

// The methods of the specification.
const (
	Plaintext Method = 0x01 // after the handshake the stream is in the clear
	RC4       Method = 0x02 // the whole stream is RC4-encrypted
)

// String returns "plaintext", "rc4", "plaintext|rc4" or a number.
func (m Method) String() string {
	var parts []string
	if m&Plaintext != 0 {
		parts = append(parts, "plaintext")
	}
	if m&RC4 != 0 {
		parts = append(parts, "rc4")
	}
	if rest := m &^ (Plaintext | RC4); rest != 0 || len(parts) == 0 {
		parts = append(parts, "0x"+hex32(uint32(rest)))
	}
	return strings.Join(parts, "|")
}

func hex32(v uint32) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, 8)
	for i := 28; i >= 0; i -= 4 {
		if d := v >> i & 0xf; d != 0 || len(b) > 0 || i == 0 {
			b = append(b, digits[d])
		}
	}
	return string(b)
}

// Config configures one side of a handshake.
type Config struct {
	// SKey is the shared key the initiator names: the torrent's info
	// hash. Only Client uses it.
	SKey [20]byte
	// Methods lists the methods this side accepts: what the initiator
	// offers in crypto_provide, what the receiver may select. Zero means
	// Plaintext|RC4.
	Methods Method
	// PreferPlaintext makes the receiver select Plaintext when the
	// initiator offers both; by default it selects RC4.
	PreferPlaintext bool
	// Find, on the receiving side, maps SKeyHash(skey) to the skey of a
	// torrent it serves. Only Server uses it; nil refuses every handshake.
	Find func(skeyHash [20]byte) (skey [20]byte, ok bool)
	// PadLen bounds the random padding sent after our public key (0 to
	// PadLen bytes). Zero means MaxPadLen; negative means none.
	PadLen int

	rand io.Reader // tests: a deterministic source
}

func (c *Config) methods() Method {
	if c.Methods&(Plaintext|RC4) == 0 {
		return Plaintext | RC4
	}
	return c.Methods & (Plaintext | RC4)
}

func (c *Config) random() io.Reader {
	if c.rand != nil {
		return c.rand
	}
	return rand.Reader
}

// padding returns random padding of a random length for after a public key.
func (c *Config) padding() ([]byte, error) {
	max := c.PadLen
	if max == 0 || max > MaxPadLen {
		max = MaxPadLen
	}
	if max < 0 {
		return nil, nil
	}
	var n [2]byte
	if _, err := io.ReadFull(c.random(), n[:]); err != nil {
		return nil, err
	}
	pad := make([]byte, (int(n[0])<<8|int(n[1]))%(max+1))
	_, err := io.ReadFull(c.random(), pad)
	return pad, err
}

// Errors of a handshake. Each is wrapped with context.
var (
	// ErrNotMSE: the peer sent something else (a plaintext BitTorrent
	// handshake to a Client, for instance).
	ErrNotMSE = errors.New("mse: not an encrypted handshake")
	// ErrSync: the synchronisation pattern (HASH('req1', S) or the
	// encrypted VC) was not found within the specification's limits.
	ErrSync = errors.New("mse: synchronisation pattern not found")
	// ErrUnknownSKey: the receiver serves no torrent with that key.
	ErrUnknownSKey = errors.New("mse: no such torrent")
	// ErrNoMethod: the two sides have no stream method in common.
	ErrNoMethod = errors.New("mse: no common stream method")
	// ErrProtocol: a field of the handshake is invalid (bad VC, padding
	// too long, a selection that was not offered).
	ErrProtocol = errors.New("mse: invalid handshake")
)

// Conn is a net.Conn whose stream runs through a Message Stream
// Encryption handshake. Its Read and Write may be called from different
// goroutines; each direction is serialised on its own.
type Conn struct {
	net.Conn

	cfg Config // Client: the handshake still to do

	hsMu   sync.Mutex
	hsDone bool
	hsErr  error

	rmu    sync.Mutex
	br     *bufio.Reader // handshake leftovers; nil once drained
	dec    *rc4.Cipher   // nil: plaintext
	iaLeft int           // receiver: bytes of the initial payload still encrypted
	iaDec  *rc4.Cipher

	wmu     sync.Mutex
	enc     *rc4.Cipher // nil: plaintext
	wbuf    *[]byte     // from wbufPool while a write is under way or pending
	pending []byte      // encrypted but unsent after a failed write (in wbuf)

	method Method
	skey   [20]byte
	legacy bool
}

// handshake runs a Client's handshake once, with ia as its initial
// payload, and reports whether ia went with it. Like crypto/tls, it holds
// hsMu across the exchange so that a concurrent Read or Write waits for it.
func (c *Conn) handshake(ia []byte) (sentIA bool, err error) {
	c.hsMu.Lock()
	defer c.hsMu.Unlock()
	if c.hsDone {
		return false, c.hsErr
	}
	c.hsDone = true
	if len(ia) > MaxInitialPayload {
		ia = nil
	}
	c.hsErr = c.clientHandshake(ia)
	if c.hsErr != nil {
		c.Conn.Close()
	}
	return ia != nil, c.hsErr
}

// Method returns the stream method the handshake chose (Plaintext or RC4),
// or 0 before it is done and for a connection that began with a plaintext
// BitTorrent handshake (see Server).
func (c *Conn) Method() Method {
	c.hsMu.Lock()
	defer c.hsMu.Unlock()
	return c.method
}

// Encrypted reports whether the stream after the handshake is RC4.
func (c *Conn) Encrypted() bool { return c.Method() == RC4 }

// SKey returns the shared key of the handshake: the info hash of the
// torrent the initiator asked for.
func (c *Conn) SKey() [20]byte {
	c.hsMu.Lock()
	defer c.hsMu.Unlock()
	return c.skey
}

// Plain reports whether the peer skipped MSE and began with a plaintext
// BitTorrent handshake (Server only); the Conn then just replays it.
func (c *Conn) Plain() bool { return c.legacy }

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// maxWriteChunk bounds the buffer that holds encrypted data on its way out.
const maxWriteChunk = 64 << 10

// Read reads decrypted stream data. On a Client it first runs the
// handshake (with no initial payload) if no Write has.
func (c *Conn) Read(p []byte) (int, error) {
	if _, err := c.handshake(nil); err != nil {
		return 0, err
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	var n int
	var err error
	if c.br != nil {
		if c.br.Buffered() > 0 {
			n, err = c.br.Read(p[:min(len(p), c.br.Buffered())])
		} else {
			c.br = nil
		}
	}
	if c.br == nil {
		n, err = c.Conn.Read(p)
	}
	q := p[:n]
	if c.iaLeft > 0 {
		k := min(len(q), c.iaLeft)
		c.iaDec.XORKeyStream(q[:k], q[:k])
		c.iaLeft -= k
		q = q[k:]
	}
	if c.dec != nil {
		c.dec.XORKeyStream(q, q)
	}
	return n, err
}

// Write writes p, encrypted when RC4 was chosen. On a Client the first
// Write runs the handshake and sends p (up to MaxInitialPayload bytes) as
// its initial payload, so that the peer has it with no extra round trip.
func (c *Conn) Write(p []byte) (int, error) {
	sent, err := c.handshake(p)
	if err != nil {
		return 0, err
	}
	if sent {
		return len(p), nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.enc == nil {
		return c.Conn.Write(p)
	}
	if n, err := c.flush(); err != nil {
		return int(n), err
	}
	defer c.releaseBuf()
	written := 0
	for len(p) > 0 {
		k := min(len(p), maxWriteChunk)
		b := c.buf()[:k]
		c.enc.XORKeyStream(b, p[:k])
		if err := c.send(b); err != nil {
			return written + k, err
		}
		written += k
		p = p[k:]
	}
	return written, nil
}

// send writes encrypted bytes; what a failed write (a time-out, say) left
// unsent waits in pending, since the keystream has moved past it: the
// next Write sends it first. The caller's bytes count as written once
// encrypted.
func (c *Conn) send(b []byte) error {
	n, err := c.Conn.Write(b)
	if err != nil {
		c.pending = b[n:]
	}
	return err
}

// wbufPool holds the buffers encrypted data goes out through, so that an
// idle connection holds none.
var wbufPool = sync.Pool{New: func() any { b := make([]byte, maxWriteChunk); return &b }}

func (c *Conn) buf() []byte {
	if c.wbuf == nil {
		c.wbuf = wbufPool.Get().(*[]byte)
	}
	return *c.wbuf
}

// releaseBuf returns the write buffer unless unsent bytes wait in it.
func (c *Conn) releaseBuf() {
	if c.wbuf != nil && len(c.pending) == 0 {
		wbufPool.Put(c.wbuf)
		c.wbuf = nil
	}
}

// flush sends what an earlier failed write left.
func (c *Conn) flush() (int64, error) {
	var sent int64
	for len(c.pending) > 0 {
		n, err := c.Conn.Write(c.pending)
		sent += int64(n)
		c.pending = c.pending[n:]
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// MaxInitialPayload bounds the initial payload a Client sends with its
// handshake (the first Write); a longer first Write goes after it.
const MaxInitialPayload = 1024

// WriteBuffers writes the buffers of v in order, as one write where it
// can: a plaintext stream goes to the underlying connection's vectored
// write (net.Buffers), an RC4 stream is encrypted into one buffer. It
// consumes v as net.Buffers.WriteTo does. Package wire uses it when the
// stream has it.
func (c *Conn) WriteBuffers(v *net.Buffers) (int64, error) {
	if _, err := c.handshake(nil); err != nil {
		return 0, err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.enc == nil {
		return v.WriteTo(c.Conn)
	}
	if n, err := c.flush(); err != nil {
		return n, err
	}
	defer c.releaseBuf()
	var written int64
	for len(*v) > 0 {
		b := c.buf()[:0]
		for len(*v) > 0 && len(b) < maxWriteChunk {
			p := (*v)[0]
			k := min(len(p), maxWriteChunk-len(b))
			start := len(b)
			b = append(b, p[:k]...)
			c.enc.XORKeyStream(b[start:], b[start:])
			if k == len(p) {
				*v = (*v)[1:]
			} else {
				(*v)[0] = p[k:]
			}
		}
		written += int64(len(b))
		if err := c.send(b); err != nil {
			return written, err
		}
	}
	return written, nil
}
