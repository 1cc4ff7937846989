package mse

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// Server runs the receiving side of the handshake on nc (which it
// accepted) and returns once it has answered (step 4): reads from the
// Conn then yield the initiator's initial payload (its BitTorrent
// handshake) followed by the stream. cfg.Find names the torrents served.
//
// If nc begins instead with a plaintext BitTorrent handshake (19,
// "BitTorrent protocol"), Server returns at once a Conn that replays it
// unchanged, with Plain true: one port serves both kinds of peers, and
// the caller decides whether to accept the plaintext one.
//
// ctx and nc's deadline bound the handshake; on failure nc is closed.
func Server(ctx context.Context, nc net.Conn, cfg *Config) (*Conn, error) {
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	c, err := serverHandshake(nc, cfg)
	if !stop() && err == nil {
		err = fmt.Errorf("mse: %w", ctx.Err())
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

func serverHandshake(nc net.Conn, cfg *Config) (*Conn, error) {
	c := &Conn{Conn: nc, hsDone: true}
	br := bufio.NewReaderSize(nc, readBufSize)
	head, err := br.Peek(20)
	if err != nil {
		return nil, fmt.Errorf("mse: reading the first bytes: %w", err)
	}
	if isHandshake(head) {
		c.br, c.legacy = br, true
		return c, nil
	}
	// 1. A→B: Ya, PadA.
	var ya [KeyLen]byte
	if _, err := io.ReadFull(br, ya[:]); err != nil {
		return nil, fmt.Errorf("mse: reading public key: %w", err)
	}
	key, err := newKeyPair(cfg.random())
	if err != nil {
		return nil, fmt.Errorf("mse: %w", err)
	}
	s, err := key.secret(ya[:])
	if err != nil {
		return nil, err
	}
	// 2. B→A: Yb, PadB.
	pad, err := cfg.padding()
	if err != nil {
		return nil, fmt.Errorf("mse: %w", err)
	}
	out := make([]byte, 0, KeyLen+len(pad))
	out = append(append(out, key.pub[:]...), pad...)
	if _, err := nc.Write(out); err != nil {
		return nil, fmt.Errorf("mse: sending public key: %w", err)
	}
	// 3. A→B: HASH('req1', S) ends PadA: at most 96+512+20 = 628 bytes
	// from the start.
	req1 := hash([]byte("req1"), s[:])
	if err := syncOn(br, req1[:], MaxPadLen+len(req1)); err != nil {
		return nil, err
	}
	var x [20]byte
	if _, err := io.ReadFull(br, x[:]); err != nil {
		return nil, fmt.Errorf("mse: reading key hash: %w", err)
	}
	req3 := hash([]byte("req3"), s[:])
	for i := range x {
		x[i] ^= req3[i]
	}
	var skey [20]byte
	ok := false
	if cfg.Find != nil {
		skey, ok = cfg.Find(x)
	}
	if !ok {
		return nil, ErrUnknownSKey
	}
	dec := newRC4("keyA", &s, &skey)
	enc := newRC4("keyB", &s, &skey)
	var head3 [8 + 4 + 2]byte
	if _, err := io.ReadFull(br, head3[:]); err != nil {
		return nil, fmt.Errorf("mse: reading crypto_provide: %w", err)
	}
	dec.XORKeyStream(head3[:], head3[:])
	if [8]byte(head3[:8]) != vc {
		return nil, fmt.Errorf("%w: bad verification constant", ErrProtocol)
	}
	provide := Method(binary.BigEndian.Uint32(head3[8:]))
	if err := skipPad(br, dec, int(binary.BigEndian.Uint16(head3[12:]))); err != nil {
		return nil, err
	}
	var lenIA [2]byte
	if _, err := io.ReadFull(br, lenIA[:]); err != nil {
		return nil, fmt.Errorf("mse: reading len(IA): %w", err)
	}
	dec.XORKeyStream(lenIA[:], lenIA[:])
	method := cfg.choose(provide)
	if method == 0 {
		return nil, fmt.Errorf("%w: offered %v, we accept %v", ErrNoMethod, provide, cfg.methods())
	}
	// 4. B→A: ENCRYPT(VC, crypto_select, len(PadD), PadD).
	var ans [8 + 4 + 2]byte
	binary.BigEndian.PutUint32(ans[8:], uint32(method))
	enc.XORKeyStream(ans[:], ans[:])
	if _, err := nc.Write(ans[:]); err != nil {
		return nil, fmt.Errorf("mse: sending crypto_select: %w", err)
	}
	c.br, c.method, c.skey = br, method, skey
	if method == RC4 {
		c.enc, c.dec = enc, dec
	} else {
		c.iaLeft, c.iaDec = int(binary.BigEndian.Uint16(lenIA[:])), dec
	}
	return c, nil
}

// choose picks crypto_select from the initiator's crypto_provide.
func (cfg *Config) choose(provide Method) Method {
	common := provide & cfg.methods()
	switch {
	case common&RC4 != 0 && (common&Plaintext == 0 || !cfg.PreferPlaintext):
		return RC4
	case common&Plaintext != 0:
		return Plaintext
	}
	return 0
}
