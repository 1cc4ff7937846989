package mse

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
)

// Client returns a Conn that runs the initiating side of the handshake
// on nc (which it opened), asking for the torrent cfg.SKey names. The
// handshake runs on the first Write, which travels as its initial payload
// (give it the BitTorrent handshake), or on the first Read. The caller
// bounds it with nc's deadline; on failure nc is closed.
func Client(nc net.Conn, cfg *Config) *Conn {
	return &Conn{Conn: nc, cfg: *cfg}
}

// readBufSize is the buffer a handshake reads through: the largest step
// (a public key and its padding) fits.
const readBufSize = 1024

// the verification constant VC: eight zero bytes.
var vc [8]byte

func (c *Conn) clientHandshake(ia []byte) error {
	cfg := &c.cfg
	provide := cfg.methods()
	key, err := newKeyPair(cfg.random())
	if err != nil {
		return fmt.Errorf("mse: %w", err)
	}
	pad, err := cfg.padding()
	if err != nil {
		return fmt.Errorf("mse: %w", err)
	}
	// 1. A→B: Ya, PadA.
	out := make([]byte, 0, KeyLen+len(pad))
	out = append(append(out, key.pub[:]...), pad...)
	if _, err := c.Conn.Write(out); err != nil {
		return fmt.Errorf("mse: sending public key: %w", err)
	}
	// 2. B→A: Yb, PadB. PadB is skipped by the search in step 4.
	br := bufio.NewReaderSize(c.Conn, readBufSize)
	var yb [KeyLen]byte
	if _, err := io.ReadFull(br, yb[:]); err != nil {
		return fmt.Errorf("mse: reading public key: %w", err)
	}
	if isHandshake(yb[:]) {
		return fmt.Errorf("%w: the peer answered with a plaintext handshake", ErrNotMSE)
	}
	s, err := key.secret(yb[:])
	if err != nil {
		return err
	}
	// 3. A→B: HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
	// ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA).
	req1 := hash([]byte("req1"), s[:])
	req2, req3 := SKeyHash(cfg.SKey), hash([]byte("req3"), s[:])
	enc := newRC4("keyA", &s, &cfg.SKey)
	dec := newRC4("keyB", &s, &cfg.SKey)
	msg := make([]byte, 40, 40+len(vc)+4+2+2+len(ia))
	copy(msg, req1[:])
	for i := range req2 {
		msg[20+i] = req2[i] ^ req3[i]
	}
	msg = append(msg, vc[:]...)
	msg = binary.BigEndian.AppendUint32(msg, uint32(provide))
	msg = binary.BigEndian.AppendUint16(msg, 0) // no PadC
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(ia)))
	msg = append(msg, ia...)
	enc.XORKeyStream(msg[40:], msg[40:])
	if _, err := c.Conn.Write(msg); err != nil {
		return fmt.Errorf("mse: sending key hashes: %w", err)
	}
	// 4. B→A: ENCRYPT(VC, crypto_select, len(PadD), PadD). The encrypted
	// VC ends PadB: look for it in at most 512+8 bytes.
	var evc [8]byte
	dec.XORKeyStream(evc[:], vc[:])
	if err := syncOn(br, evc[:], MaxPadLen+len(evc)); err != nil {
		return err
	}
	var sel [6]byte
	if _, err := io.ReadFull(br, sel[:]); err != nil {
		return fmt.Errorf("mse: reading crypto_select: %w", err)
	}
	dec.XORKeyStream(sel[:], sel[:])
	method := Method(binary.BigEndian.Uint32(sel[:4]))
	if method != Plaintext && method != RC4 || method&provide == 0 {
		return fmt.Errorf("%w: crypto_select %v, offered %v", ErrProtocol, method, provide)
	}
	if err := skipPad(br, dec, int(binary.BigEndian.Uint16(sel[4:]))); err != nil {
		return err
	}
	c.br, c.method, c.skey = br, method, cfg.SKey
	if method == RC4 {
		c.enc, c.dec = enc, dec
	}
	return nil
}

// isHandshake reports whether b starts with the plaintext BitTorrent
// handshake's first 20 bytes (19, "BitTorrent protocol").
func isHandshake(b []byte) bool {
	const proto = "\x13BitTorrent protocol"
	return len(b) >= len(proto) && string(b[:len(proto)]) == proto
}

// syncOn reads from br until the last bytes read equal pattern, reading
// at most limit bytes; past the limit it fails with ErrSync.
func syncOn(br *bufio.Reader, pattern []byte, limit int) error {
	var win [MaxPadLen + 20]byte
	for n := 0; n < limit && n < len(win); n++ {
		b, err := br.ReadByte()
		if err != nil {
			return fmt.Errorf("mse: synchronising: %w", err)
		}
		win[n] = b
		if n+1 >= len(pattern) && string(win[n+1-len(pattern):n+1]) == string(pattern) {
			return nil
		}
	}
	return fmt.Errorf("%w within %d bytes", ErrSync, limit)
}

// skipPad reads and decrypts n bytes of padding (PadC or PadD), which
// keeps the keystream in step; n is at most MaxPadLen.
func skipPad(br *bufio.Reader, dec interface{ XORKeyStream(dst, src []byte) }, n int) error {
	if n > MaxPadLen {
		return fmt.Errorf("%w: padding of %d bytes", ErrProtocol, n)
	}
	var pad [MaxPadLen]byte
	if _, err := io.ReadFull(br, pad[:n]); err != nil {
		return fmt.Errorf("mse: reading padding: %w", err)
	}
	dec.XORKeyStream(pad[:n], pad[:n])
	return nil
}
