package mse

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"testing"
)

// The fuzz targets drive one side of the handshake with a peer whose
// bytes the fuzzer writes. With first byte odd the input is structured:
// the harness (knowing both private keys) supplies a valid public key,
// input[1]×3 bytes of padding and the synchronisation pattern, and the
// rest of the input, encrypted for the side under test, is what follows
// the pattern: the fields the fuzzer then varies. With first byte even the
// rest is the raw stream.

// FuzzServer fuzzes the receiving side.
func FuzzServer(f *testing.F) {
	good := func(provide Method, padC int, ia string, stream string) []byte {
		b := []byte{1, 0}
		b = append(b, vc[:]...)
		b = binary.BigEndian.AppendUint32(b, uint32(provide))
		b = binary.BigEndian.AppendUint16(b, uint16(padC))
		b = append(b, make([]byte, padC)...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(ia)))
		return append(append(b, ia...), stream...)
	}
	f.Add(good(RC4, 0, "\x13BitTorrent protocol", "stream"))
	f.Add(good(Plaintext, 3, "ia", "plain stream"))
	f.Add(good(Plaintext|RC4, 512, "", ""))
	f.Add(append([]byte{0}, "\x13BitTorrent protocol........"...))
	f.Add(append([]byte{0}, bytes.Repeat([]byte{7}, 700)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 || len(in) > 64<<10 {
			return
		}
		srvKey, _ := newKeyPair(fixedRand(seq(101)))
		var script []byte
		if in[0]&1 == 0 {
			script = in[1:]
		} else {
			if len(in) < 2 {
				return
			}
			cli, _ := newKeyPair(fixedRand(seq(1)))
			s, _ := cli.secret(srvKey.pub[:])
			script = append(script, cli.pub[:]...)
			script = append(script, make([]byte, 3*int(in[1]))...)
			req1 := hash([]byte("req1"), s[:])
			script = append(script, req1[:]...)
			req2, req3 := SKeyHash(testSKey), hash([]byte("req3"), s[:])
			for i := range req2 {
				script = append(script, req2[i]^req3[i])
			}
			rest := append([]byte(nil), in[2:]...)
			newRC4("keyA", &s, &testSKey).XORKeyStream(rest, rest)
			script = append(script, rest...)
		}
		sc := &scriptConn{r: bytes.NewReader(script)}
		c, err := Server(context.Background(), sc, &Config{Find: findTest, PadLen: -1, rand: fixedRand(seq(101))})
		if err != nil {
			return
		}
		if !c.Plain() && c.Method() != RC4 && c.Method() != Plaintext {
			t.Fatalf("method %v", c.Method())
		}
		n, _ := io.Copy(io.Discard, c)
		if n > int64(len(script)) {
			t.Fatalf("read %d bytes from a script of %d", n, len(script))
		}
		c.Write([]byte("answer"))
	})
}

// FuzzClient fuzzes the initiating side.
func FuzzClient(f *testing.F) {
	good := func(sel Method, padD int, stream string) []byte {
		b := []byte{1, 0}
		b = append(b, vc[:]...)
		b = binary.BigEndian.AppendUint32(b, uint32(sel))
		b = binary.BigEndian.AppendUint16(b, uint16(padD))
		b = append(b, make([]byte, padD)...)
		return append(b, stream...)
	}
	f.Add(good(RC4, 0, "\x13BitTorrent protocol"))
	f.Add(good(Plaintext, 10, "plain"))
	f.Add(good(3, 0, ""))
	f.Add(append([]byte{0}, "\x13BitTorrent protocol"...))
	f.Add(append([]byte{1, 171}, bytes.Repeat([]byte{9}, 40)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 || len(in) > 64<<10 {
			return
		}
		var script []byte
		if in[0]&1 == 0 {
			script = in[1:]
		} else {
			if len(in) < 2 {
				return
			}
			cli, _ := newKeyPair(fixedRand(seq(1)))
			srv, _ := newKeyPair(fixedRand(seq(101)))
			s, _ := srv.secret(cli.pub[:])
			script = append(script, srv.pub[:]...)
			script = append(script, make([]byte, 3*int(in[1]))...)
			rest := append([]byte(nil), in[2:]...)
			newRC4("keyB", &s, &testSKey).XORKeyStream(rest, rest)
			script = append(script, rest...)
		}
		sc := &scriptConn{r: bytes.NewReader(script)}
		c := Client(sc, &Config{SKey: testSKey, PadLen: -1, rand: fixedRand(seq(1))})
		if _, err := c.Write([]byte("\x13BitTorrent protocol")); err != nil {
			return
		}
		if m := c.Method(); m != RC4 && m != Plaintext {
			t.Fatalf("method %v", m)
		}
		n, _ := io.Copy(io.Discard, c)
		if n > int64(len(script)) {
			t.Fatalf("read %d bytes from a script of %d", n, len(script))
		}
	})
}
