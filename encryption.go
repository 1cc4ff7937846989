package bt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/bt-go/bt/wire"
	"github.com/bt-go/bt/wire/mse"
	"github.com/bt-go/bt/wire/pex"
)

// Encryption is a policy for Message Stream Encryption (MSE/PE), with the
// meaning Transmission gives the words. Every policy but
// EncryptionDisabled accepts, on the one listening port, both encrypted
// and plaintext handshakes (EncryptionRequired refuses the plaintext ones).
type Encryption uint8

const (
	// EncryptionTolerated (the default) dials with a plaintext handshake
	// and retries with MSE at once if the peer hangs up; it accepts both,
	// and when an MSE peer offers a choice it takes a plaintext stream
	// (RC4 costs CPU: about 1.8 s per GiB on each side, see package mse).
	// A peer that announced it prefers encryption (PEX flag 0x01) is
	// dialled with MSE first.
	EncryptionTolerated Encryption = iota
	// EncryptionPreferred dials with MSE offering RC4 only and falls back
	// to a plaintext handshake; it accepts both, and chooses RC4 when an
	// MSE peer offers it.
	EncryptionPreferred
	// EncryptionRequired speaks only MSE with an RC4 stream, both ways.
	EncryptionRequired
	// EncryptionDisabled speaks only plaintext BitTorrent, both ways.
	EncryptionDisabled
)

var encryptionNames = [...]string{"tolerated", "preferred", "required", "disabled"}

// String returns "tolerated", "preferred", "required" or "disabled".
func (e Encryption) String() string {
	if int(e) < len(encryptionNames) {
		return encryptionNames[e]
	}
	return fmt.Sprintf("Encryption(%d)", e)
}

// ParseEncryption parses the words String returns.
func ParseEncryption(s string) (Encryption, error) {
	for i, n := range encryptionNames {
		if s == n {
			return Encryption(i), nil
		}
	}
	return 0, fmt.Errorf("bt: unknown encryption policy %q (want required, preferred, tolerated or disabled)", s)
}

// ErrPlaintextRefused: a plaintext handshake under EncryptionRequired.
var ErrPlaintextRefused = errors.New("bt: plaintext handshake refused: encryption required")

// acceptMSE is the listener's wire.ListenConfig.Wrap: it answers an MSE
// handshake, or passes a plaintext one through, on whatever transport nc
// is. The listener's deadline on nc bounds it.
func (c *Client) acceptMSE(nc net.Conn) (net.Conn, error) {
	pol := c.cfg.Encryption
	cfg := &mse.Config{Find: c.findSKey, PreferPlaintext: pol == EncryptionTolerated}
	if pol == EncryptionRequired {
		cfg.Methods = mse.RC4
	}
	mc, err := mse.Server(context.Background(), nc, cfg)
	if err != nil {
		return nil, err
	}
	if mc.Plain() && pol == EncryptionRequired {
		return nil, ErrPlaintextRefused
	}
	return mc, nil
}

// findSKey is the SKEY search of an incoming MSE handshake over every
// torrent of the client: a look-up in the hashes kept as torrents come
// and go, not a SHA-1 per torrent for each connection.
func (c *Client) findSKey(h [20]byte) ([20]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ih, ok := c.skeys[h]
	return ih, ok
}

// sameSKey reports whether an incoming connection's BitTorrent handshake
// names the torrent its MSE handshake asked for.
func sameSKey(conn *wire.Conn) bool {
	mc, ok := conn.Transport().(*mse.Conn)
	return !ok || mc.Plain() || mc.SKey() == conn.InfoHash()
}

// dialPeer connects to a peer under the encryption policy: it tries the
// preferred handshake and, when the peer hangs up on it (rather than
// being unreachable), the other one at once on a new connection.
func (t *Torrent) dialPeer(ctx context.Context, a netip.AddrPort, cfg *wire.Config) (*wire.Conn, error) {
	c := t.client
	var tries []bool // MSE or not, in order
	switch c.cfg.Encryption {
	case EncryptionDisabled:
		tries = []bool{false}
	case EncryptionRequired:
		tries = []bool{true}
	case EncryptionPreferred:
		tries = []bool{true, false}
	default:
		if c.enc.prefers(a) {
			tries = []bool{true, false}
		} else {
			tries = []bool{false, true}
		}
	}
	var firstErr error
	for _, useMSE := range tries {
		nc, err := t.dialTransport(ctx, a)
		if err != nil {
			return nil, fmt.Errorf("bt: dial %s: %w", a, err)
		}
		conn, err := t.handshakeOut(ctx, nc, cfg, useMSE)
		if err == nil {
			c.enc.note(a, useMSE)
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("bt: dial %s: %w", a, firstErr)
}

// dialTransport opens a connection: Config.Dial's, or TCP.
func (t *Torrent) dialTransport(ctx context.Context, a netip.AddrPort) (net.Conn, error) {
	if dial := t.cfg.Dial; dial != nil {
		return dial(ctx, a)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", a.String())
}

// handshakeOut runs our side's handshakes over any transport nc: MSE
// first if useMSE (the BitTorrent handshake travels as its initial
// payload), then BitTorrent.
func (t *Torrent) handshakeOut(ctx context.Context, nc net.Conn, cfg *wire.Config, useMSE bool) (*wire.Conn, error) {
	if !useMSE {
		return wire.ClientHandshake(ctx, nc, cfg)
	}
	m := mse.Plaintext | mse.RC4
	if p := t.client.cfg.Encryption; p == EncryptionPreferred || p == EncryptionRequired {
		m = mse.RC4
	}
	return wire.ClientHandshake(ctx, mse.Client(nc, &mse.Config{SKey: cfg.InfoHash, Methods: m}), cfg)
}

// encryptionOf describes a connection's MSE state for PeerInfo: "rc4",
// "plaintext" (MSE handshake, plaintext stream) or "" (no MSE).
func encryptionOf(conn *wire.Conn) string {
	if mc, ok := conn.Transport().(*mse.Conn); ok && !mc.Plain() {
		return mc.Method().String()
	}
	return ""
}

// encMemory remembers, for a bounded number of peer addresses, whether
// the last handshake that worked with them was MSE, or that PEX said they
// prefer encryption: the next dial starts with what works.
type encMemory struct {
	mu  sync.Mutex
	mse map[netip.AddrPort]bool
}

const maxEncMemory = 4096

func (m *encMemory) note(a netip.AddrPort, useMSE bool) {
	if !a.IsValid() {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mse == nil {
		m.mse = make(map[netip.AddrPort]bool)
	}
	if _, ok := m.mse[a]; !ok && len(m.mse) >= maxEncMemory {
		for k := range m.mse { // forget one at random
			delete(m.mse, k)
			break
		}
	}
	m.mse[a] = useMSE
}

func (m *encMemory) prefers(a netip.AddrPort) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mse[a]
}

// pexFlags are the BEP 11 flags we give a connected peer in PEX: 0x01
// "prefers encryption" when its stream is RC4.
func pexFlags(p *peer) pex.Flags {
	if encryptionOf(p.conn) == "rc4" {
		return pex.FlagPrefersEncryption
	}
	return 0
}
