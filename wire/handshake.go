package wire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Protocol is the protocol string of the BitTorrent handshake (BEP 3).
const Protocol = "BitTorrent protocol"

// HandshakeLen is the length in bytes of a BitTorrent handshake.
const HandshakeLen = 1 + len(Protocol) + 8 + 20 + 20

// Reserved holds the eight reserved bytes of the handshake, whose bits
// announce protocol extensions.
type Reserved [8]byte

// Bits of the reserved bytes this package knows.
const (
	reservedDHTByte, reservedDHTBit             = 7, 0x01 // BEP 5
	reservedFastByte, reservedFastBit           = 7, 0x04 // BEP 6
	reservedExtensionByte, reservedExtensionBit = 5, 0x10 // BEP 10
)

// DHT reports whether the DHT bit (BEP 5) is set: the peer may send a port message.
func (r Reserved) DHT() bool { return r[reservedDHTByte]&reservedDHTBit != 0 }

// Fast reports whether the Fast extension bit (BEP 6) is set.
func (r Reserved) Fast() bool { return r[reservedFastByte]&reservedFastBit != 0 }

// Extended reports whether the Extension protocol bit (BEP 10) is set.
func (r Reserved) Extended() bool { return r[reservedExtensionByte]&reservedExtensionBit != 0 }

// SetDHT sets or clears the DHT bit.
func (r *Reserved) SetDHT(on bool) { r.set(reservedDHTByte, reservedDHTBit, on) }

// SetFast sets or clears the Fast extension bit.
func (r *Reserved) SetFast(on bool) { r.set(reservedFastByte, reservedFastBit, on) }

// SetExtended sets or clears the Extension protocol bit.
func (r *Reserved) SetExtended(on bool) { r.set(reservedExtensionByte, reservedExtensionBit, on) }

func (r *Reserved) set(i int, bit byte, on bool) {
	if on {
		r[i] |= bit
	} else {
		r[i] &^= bit
	}
}

// String lists the extensions the bits announce, e.g. "dht,fast,extended".
func (r Reserved) String() string {
	var b bytes.Buffer
	add := func(ok bool, s string) {
		if ok {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(s)
		}
	}
	add(r.DHT(), "dht")
	add(r.Fast(), "fast")
	add(r.Extended(), "extended")
	return b.String()
}

// Handshake is the first message each side sends: its reserved bits, the
// info hash of the torrent and its peer id.
type Handshake struct {
	Reserved Reserved
	InfoHash [20]byte
	PeerID   [20]byte
}

// AppendBinary appends the 68-byte wire form of h to b.
func (h Handshake) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, byte(len(Protocol)))
	b = append(b, Protocol...)
	b = append(b, h.Reserved[:]...)
	b = append(b, h.InfoHash[:]...)
	return append(b, h.PeerID[:]...), nil
}

// MarshalBinary returns the 68-byte wire form of h.
func (h Handshake) MarshalBinary() ([]byte, error) {
	return h.AppendBinary(make([]byte, 0, HandshakeLen))
}

// WriteHandshake writes h to w.
func WriteHandshake(w io.Writer, h Handshake) error {
	b, _ := h.MarshalBinary()
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("wire: writing handshake: %w", err)
	}
	return nil
}

// ErrProtocolString reports a handshake that does not start with the
// BitTorrent protocol string (another protocol, or an encrypted stream).
var ErrProtocolString = errors.New("wire: not a BitTorrent handshake")

// ErrInfoHash reports a handshake for a torrent other than the one expected.
var ErrInfoHash = errors.New("wire: handshake for another torrent")

// readHandshakeHead reads the handshake up to and including the info hash
// (48 bytes), so a listener can choose the torrent before the peer id
// arrives.
func readHandshakeHead(r io.Reader, h *Handshake) error {
	var b [1 + len(Protocol) + 8 + 20]byte
	if _, err := io.ReadFull(r, b[:1+len(Protocol)]); err != nil {
		return fmt.Errorf("wire: reading handshake: %w", err)
	}
	if b[0] != byte(len(Protocol)) || string(b[1:1+len(Protocol)]) != Protocol {
		return fmt.Errorf("%w (starts %q)", ErrProtocolString, b[:1+len(Protocol)])
	}
	if _, err := io.ReadFull(r, b[1+len(Protocol):]); err != nil {
		return fmt.Errorf("wire: reading handshake: %w", err)
	}
	copy(h.Reserved[:], b[1+len(Protocol):])
	copy(h.InfoHash[:], b[1+len(Protocol)+8:])
	return nil
}

func readPeerID(r io.Reader, h *Handshake) error {
	if _, err := io.ReadFull(r, h.PeerID[:]); err != nil {
		return fmt.Errorf("wire: reading handshake peer id: %w", err)
	}
	return nil
}

// ReadHandshake reads a whole handshake from r. It fails with an error
// wrapping ErrProtocolString when the stream is not a BitTorrent handshake.
func ReadHandshake(r io.Reader) (Handshake, error) {
	var h Handshake
	if err := readHandshakeHead(r, &h); err != nil {
		return h, err
	}
	return h, readPeerID(r, &h)
}

// ExchangeHandshakes sends ours and reads the peer's handshake at the same
// time (so it works over synchronous streams such as net.Pipe). If ctx ends
// first, rw is closed when it is an io.Closer and the context's error is
// returned.
func ExchangeHandshakes(ctx context.Context, rw io.ReadWriter, ours Handshake) (Handshake, error) {
	werr := make(chan error, 1)
	go func() { werr <- WriteHandshake(rw, ours) }()
	if c, ok := rw.(io.Closer); ok {
		stop := context.AfterFunc(ctx, func() { c.Close() })
		defer stop()
	}
	peer, err := ReadHandshake(rw)
	if c, ok := rw.(io.Closer); ok && err != nil {
		c.Close() // unblock the writer
	}
	if err2 := <-werr; err == nil {
		err = err2
	}
	if ctx.Err() != nil {
		return peer, fmt.Errorf("wire: handshake: %w", ctx.Err())
	}
	return peer, err
}

// DefaultHandshakeTimeout bounds the handshake of Dial and of a Listener.
const DefaultHandshakeTimeout = 20 * time.Second
