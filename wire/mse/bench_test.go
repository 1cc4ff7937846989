package mse

import (
	"context"
	"io"
	"net"
	"testing"
)

// BenchmarkStream measures the cost of the stream methods on loopback TCP:
// bytes written by one goroutine and read by another, over a bare TCP
// connection, an MSE connection that chose Plaintext, and one that chose
// RC4 (encrypting on one side, decrypting on the other).
func BenchmarkStream(b *testing.B) {
	for _, bc := range []struct {
		name   string
		method Method // 0: bare TCP
	}{{"tcp", 0}, {"mse-plaintext", Plaintext}, {"mse-rc4", RC4}} {
		b.Run(bc.name, func(b *testing.B) {
			cn, sn := tcpPair(b)
			var w io.Writer = cn
			var r io.Reader = sn
			if bc.method != 0 {
				w, r = handshakePair(b, cn, sn, bc.method)
			}
			buf := make([]byte, 256<<10)
			done := make(chan struct{})
			total := int64(b.N) * int64(len(buf))
			go func() {
				defer close(done)
				io.CopyBuffer(io.Discard, io.LimitReader(r, total), make([]byte, 256<<10))
			}()
			b.SetBytes(int64(len(buf)))
			b.ResetTimer()
			for range b.N {
				if _, err := w.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			<-done
		})
	}
}

// BenchmarkRC4 is the bare keystream: the CPU cost per byte of one side.
func BenchmarkRC4(b *testing.B) {
	var s [KeyLen]byte
	c := newRC4("keyA", &s, &testSKey)
	buf := make([]byte, 16<<10)
	b.SetBytes(int64(len(buf)))
	for range b.N {
		c.XORKeyStream(buf, buf)
	}
}

// BenchmarkHandshake is a whole handshake, both sides, on loopback TCP.
func BenchmarkHandshake(b *testing.B) {
	for range b.N {
		cn, sn := tcpPair(b)
		handshakePair(b, cn, sn, RC4)
		cn.Close()
		sn.Close()
	}
}

func handshakePair(b *testing.B, cn, sn net.Conn, m Method) (*Conn, *Conn) {
	errc := make(chan error, 1)
	var srv *Conn
	go func() {
		var err error
		srv, err = Server(context.Background(), sn, &Config{Methods: m, Find: findTest})
		errc <- err
	}()
	cli := Client(cn, &Config{SKey: testSKey, Methods: m})
	if _, err := cli.Write(nil); err != nil {
		b.Fatal(err)
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	return cli, srv
}
