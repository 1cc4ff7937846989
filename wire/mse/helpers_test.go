package mse

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
)

// fixedRand returns a source whose first 20 bytes (a private key) are b.
func fixedRand(b []byte) io.Reader { return bytes.NewReader(b) }

func seq(from byte) []byte {
	b := make([]byte, privLen)
	for i := range b {
		b[i] = from + byte(i)
	}
	return b
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-acc
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	deadline := time.Now().Add(20 * time.Second)
	client.SetDeadline(deadline)
	server.SetDeadline(deadline)
	return client, server
}

// initiator describes a hand-made step 1 and 3 of an initiator, for tests
// of the receiver that need fields a Client never sends.
type initiator struct {
	priv    []byte // 20 bytes
	padA    int
	skey    [20]byte
	req1Bad bool
	provide Method
	padC    int
	ia      []byte
}

// stream returns the initiator's bytes, given the receiver's public key,
// and the RC4 ciphers that continue them (to encrypt what follows, and to
// decrypt the receiver's answer).
func (in initiator) stream(yb []byte) (out []byte, enc, dec interface{ XORKeyStream(d, s []byte) }) {
	key, _ := newKeyPair(bytes.NewReader(in.priv))
	out = append(out, key.pub[:]...)
	out = append(out, make([]byte, in.padA)...)
	s, err := key.secret(yb)
	if err != nil {
		panic(err)
	}
	req1 := hash([]byte("req1"), s[:])
	if in.req1Bad {
		req1[0] ^= 1
	}
	out = append(out, req1[:]...)
	req2, req3 := SKeyHash(in.skey), hash([]byte("req3"), s[:])
	for i := range req2 {
		out = append(out, req2[i]^req3[i])
	}
	e := newRC4("keyA", &s, &in.skey)
	d := newRC4("keyB", &s, &in.skey)
	body := append([]byte(nil), vc[:]...)
	body = binary.BigEndian.AppendUint32(body, uint32(in.provide))
	body = binary.BigEndian.AppendUint16(body, uint16(in.padC))
	body = append(body, make([]byte, in.padC)...)
	body = binary.BigEndian.AppendUint16(body, uint16(len(in.ia)))
	body = append(body, in.ia...)
	e.XORKeyStream(body, body)
	return append(out, body...), e, d
}

// scriptConn is a net.Conn that reads a fixed script and discards writes.
type scriptConn struct {
	r       io.Reader
	written int
}

func (c *scriptConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error)      { c.written += len(p); return len(p), nil }
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }
