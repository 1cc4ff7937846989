package mse

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestKnownAnswers checks the key derivation and keystreams against
// vectors computed independently from the specification (a short Python
// program: pow(2, x, P), SHA-1, RC4 with 1,024 bytes dropped).
func TestKnownAnswers(t *testing.T) {
	want := map[string]string{
		"ya":    "96e112dab29e8c5272accb9b17b26887ce54a144a4e3b697c7d159b7a817e556b0918db2b4c658e02a87f7e5fb14b18a553e084cbf3dad2d30f16596ccb982d406258c61b30c5c1dae2ddc60bdbd48d79896312aad63238c39e1a633821eb693",
		"yb":    "d32ae8cedd0de9ca4fe67e35626bb8c7cdb0966727d899f6a62fdb2b68817f9ddc4b684e3eb34030b8dba4e028b7cff3264020340cb4eab61923cdc4e4216ba873368d83f0a38e497f1f6b4e3d2012eb91a3ee6056f966f9eae732089b6fa46e",
		"s":     "d05ed96a95215a89b44073afe5d0b1626289ac01cff7849392948b2470b346547e944d7562a897ae86976bc389999083ec09572dbdc8ed7f6a0a86a1aa42a3ca04209b72d8239890360435640643b76479ed7836f1857963fcc7cb72084c3ab4",
		"req1":  "78fffb0f23055a793ff7609f359e04e383ec3505",
		"req2":  "5be9e663c6249c5ced743091d427ba5661ab4fcf",
		"req23": "60aef34caf7a6c843c5fd96a73da28c44e040a27",
		"keyA":  "0dc4355ae7cc67707ec66052e854158f",
		"keyB":  "a99e381373e3643a1729414762663025",
	}
	a, _ := newKeyPair(fixedRand(seq(1)))
	b, _ := newKeyPair(fixedRand(seq(101)))
	var skey [20]byte
	copy(skey[:], seqN(200, 20))
	s, err := a.secret(b.pub[:])
	if err != nil {
		t.Fatal(err)
	}
	if s2, _ := b.secret(a.pub[:]); s2 != s {
		t.Fatal("the two sides derive different secrets")
	}
	req1 := hash([]byte("req1"), s[:])
	req2, req3 := SKeyHash(skey), hash([]byte("req3"), s[:])
	var req23 [20]byte
	for i := range req23 {
		req23[i] = req2[i] ^ req3[i]
	}
	stream := func(name string) []byte {
		b := make([]byte, 16)
		newRC4(name, &s, &skey).XORKeyStream(b, b)
		return b
	}
	got := map[string][]byte{
		"ya": a.pub[:], "yb": b.pub[:], "s": s[:], "req1": req1[:], "req2": req2[:],
		"req23": req23[:], "keyA": stream("keyA"), "keyB": stream("keyB"),
	}
	for k, w := range want {
		if g := hex.EncodeToString(got[k]); g != w {
			t.Errorf("%s = %s, want %s", k, g, w)
		}
	}
}

func seqN(from byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = from + byte(i)
	}
	return b
}

func TestPublicKeyRange(t *testing.T) {
	k, _ := newKeyPair(rand.Reader)
	for _, y := range [][]byte{{0}, {1}, prime.Bytes(), primeMinus1.Bytes(), bytes.Repeat([]byte{0xff}, KeyLen)} {
		if _, err := k.secret(y); !errors.Is(err, errPublicKey) {
			t.Errorf("secret(%x...) = %v, want errPublicKey", y[:1], err)
		}
	}
}

var testSKey = [20]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}

func findTest(h [20]byte) ([20]byte, bool) {
	if h == SKeyHash(testSKey) {
		return testSKey, true
	}
	return [20]byte{}, false
}

// TestRoundTrip runs both sides over loopback TCP for each combination of
// what the initiator offers and the receiver accepts, and checks the
// choice, the initial payload and data both ways.
func TestRoundTrip(t *testing.T) {
	cases := []struct {
		offer, accept Method
		preferPlain   bool
		want          Method // 0: no common method
	}{
		{Plaintext | RC4, Plaintext | RC4, false, RC4},
		{Plaintext | RC4, Plaintext | RC4, true, Plaintext},
		{RC4, Plaintext | RC4, true, RC4},
		{Plaintext, Plaintext | RC4, false, Plaintext},
		{Plaintext | RC4, RC4, true, RC4},
		{Plaintext | RC4, Plaintext, false, Plaintext},
		{RC4, Plaintext, false, 0},
		{Plaintext, RC4, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.offer.String()+"/"+tc.accept.String(), func(t *testing.T) {
			cn, sn := tcpPair(t)
			ia := []byte("\x13BitTorrent protocol and the rest of a handshake")
			payload := make([]byte, 300<<10)
			rand.Read(payload)
			var wg sync.WaitGroup
			wg.Add(1)
			var srvErr error
			var srv *Conn
			go func() {
				defer wg.Done()
				srv, srvErr = Server(context.Background(), sn, &Config{Methods: tc.accept, PreferPlaintext: tc.preferPlain, Find: findTest})
				if srvErr != nil {
					return
				}
				got := make([]byte, len(ia)+len(payload))
				if _, srvErr = io.ReadFull(srv, got); srvErr != nil {
					return
				}
				if !bytes.Equal(got[:len(ia)], ia) || !bytes.Equal(got[len(ia):], payload) {
					srvErr = errors.New("server read other bytes than were sent")
					return
				}
				_, srvErr = srv.Write(payload[:1000])
			}()
			cli := Client(cn, &Config{SKey: testSKey, Methods: tc.offer})
			_, err := cli.Write(ia)
			if err == nil {
				_, err = cli.Write(payload)
			}
			back := make([]byte, 1000)
			if err == nil {
				_, err = io.ReadFull(cli, back)
			}
			if tc.want == 0 {
				cn.Close()
				wg.Wait()
				if !errors.Is(srvErr, ErrNoMethod) {
					t.Fatalf("server: %v, want ErrNoMethod", srvErr)
				}
				return
			}
			wg.Wait()
			if err != nil || srvErr != nil {
				t.Fatalf("client: %v; server: %v", err, srvErr)
			}
			if !bytes.Equal(back, payload[:1000]) {
				t.Fatal("client read other bytes than were sent")
			}
			if cli.Method() != tc.want || srv.Method() != tc.want {
				t.Fatalf("methods %v and %v, want %v", cli.Method(), srv.Method(), tc.want)
			}
			if srv.SKey() != testSKey || srv.Plain() {
				t.Fatalf("server: skey %x, plain %v", srv.SKey(), srv.Plain())
			}
		})
	}
}

// TestReadFirst: a Client whose first call is Read runs the handshake
// without an initial payload.
func TestReadFirst(t *testing.T) {
	cn, sn := tcpPair(t)
	done := make(chan error, 1)
	go func() {
		srv, err := Server(context.Background(), sn, &Config{Find: findTest})
		if err == nil {
			_, err = srv.Write([]byte("hello"))
		}
		done <- err
	}()
	cli := Client(cn, &Config{SKey: testSKey})
	b := make([]byte, 5)
	if _, err := io.ReadFull(cli, b); err != nil || string(b) != "hello" {
		t.Fatalf("read %q, %v", b, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestPlaintextHandshake: a peer that starts with the plaintext
// BitTorrent handshake gets through Server unchanged.
func TestPlaintextHandshake(t *testing.T) {
	cn, sn := tcpPair(t)
	hs := append([]byte("\x13BitTorrent protocol"), make([]byte, 48)...)
	go cn.Write(hs)
	srv, err := Server(context.Background(), sn, &Config{Find: findTest})
	if err != nil {
		t.Fatal(err)
	}
	if !srv.Plain() || srv.Method() != 0 {
		t.Fatalf("plain %v, method %v", srv.Plain(), srv.Method())
	}
	got := make([]byte, len(hs))
	if _, err := io.ReadFull(srv, got); err != nil || !bytes.Equal(got, hs) {
		t.Fatalf("replayed %q, %v", got, err)
	}
}

// TestClientMeetsPlaintextPeer: a Client whose peer answers with a
// plaintext handshake fails at once (ErrNotMSE) instead of waiting.
func TestClientMeetsPlaintextPeer(t *testing.T) {
	cn, sn := tcpPair(t)
	go func() {
		sn.Write(append([]byte("\x13BitTorrent protocol"), make([]byte, 100)...))
	}()
	_, err := Client(cn, &Config{SKey: testSKey}).Write([]byte("x"))
	if !errors.Is(err, ErrNotMSE) {
		t.Fatalf("err %v, want ErrNotMSE", err)
	}
}

// TestHostileInitiator feeds the receiver handshakes that break one rule
// each and checks it refuses them with the right error, having read no
// more than the specification allows.
func TestHostileInitiator(t *testing.T) {
	ok := initiator{priv: seqN(1, 20), skey: testSKey, provide: RC4}
	cases := []struct {
		name string
		mod  func(*initiator)
		want error
	}{
		{"padA 512 is fine", func(in *initiator) { in.padA = 512 }, nil},
		{"padA 513", func(in *initiator) { in.padA = 513 }, ErrSync},
		{"bad req1", func(in *initiator) { in.req1Bad = true }, ErrSync},
		{"unknown torrent", func(in *initiator) { in.skey[0] ^= 1 }, ErrUnknownSKey},
		{"padC 513", func(in *initiator) { in.padC = 513 }, ErrProtocol},
		{"nothing offered", func(in *initiator) { in.provide = 0 }, ErrNoMethod},
		{"unknown method only", func(in *initiator) { in.provide = 0x80 }, ErrNoMethod},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.mod(&in)
			srvKey, _ := newKeyPair(fixedRand(seq(101)))
			script, _, _ := in.stream(srvKey.pub[:])
			script = append(script, make([]byte, 4096)...) // junk after
			sc := &scriptConn{r: bytes.NewReader(script)}
			_, err := Server(context.Background(), sc, &Config{Find: findTest, PadLen: -1, rand: fixedRand(seq(101))})
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
	// A zero public key.
	sc := &scriptConn{r: bytes.NewReader(make([]byte, 700))}
	if _, err := Server(context.Background(), sc, &Config{Find: findTest}); !errors.Is(err, errPublicKey) {
		t.Fatalf("zero key: %v", err)
	}
}

// TestSyncLimit: junk after a valid public key makes the receiver give
// up after 628 bytes in all.
func TestSyncLimit(t *testing.T) {
	k, _ := newKeyPair(rand.Reader)
	r := &countReader{r: io.MultiReader(bytes.NewReader(k.pub[:]), junk{})}
	_, err := Server(context.Background(), &scriptConn{r: r}, &Config{Find: findTest})
	if !errors.Is(err, ErrSync) {
		t.Fatalf("err %v, want ErrSync", err)
	}
	if r.n > KeyLen+MaxPadLen+20+readBufSize {
		t.Fatalf("read %d bytes", r.n)
	}
}

type junk struct{}

func (junk) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0x5a
	}
	return len(p), nil
}

type countReader struct {
	r io.Reader
	n int
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestContextCancel: a receiver whose peer never sends stops when its
// context ends.
func TestContextCancel(t *testing.T) {
	_, sn := tcpPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Server(ctx, sn, &Config{Find: findTest})
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("err %v", err)
		}
	}
}

func TestMethodString(t *testing.T) {
	for m, want := range map[Method]string{Plaintext: "plaintext", RC4: "rc4", 3: "plaintext|rc4", 0: "0x0", 0x12: "rc4|0x10"} {
		if got := m.String(); got != want {
			t.Errorf("%d: %q, want %q", m, got, want)
		}
	}
}

// TestWriteBuffers: vectored writes arrive whole and in order with both
// stream methods.
func TestWriteBuffers(t *testing.T) {
	for _, m := range []Method{Plaintext, RC4} {
		cn, sn := tcpPair(t)
		var srv *Conn
		errc := make(chan error, 1)
		go func() {
			var err error
			srv, err = Server(context.Background(), sn, &Config{Methods: m, Find: findTest})
			errc <- err
		}()
		cli := Client(cn, &Config{SKey: testSKey})
		if _, err := cli.Write([]byte("ia")); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		var want []byte
		var v net.Buffers
		for i := range 20 {
			b := bytes.Repeat([]byte{byte(i)}, i*9000)
			want = append(want, b...)
			v = append(v, b)
		}
		go func() {
			if n, err := cli.WriteBuffers(&v); err != nil || n != int64(len(want)) {
				t.Errorf("WriteBuffers: %d, %v", n, err)
			}
		}()
		got := make([]byte, 2+len(want))
		if _, err := io.ReadFull(srv, got); err != nil {
			t.Fatal(err)
		}
		if string(got[:2]) != "ia" || !bytes.Equal(got[2:], want) {
			t.Fatalf("%v: bytes differ", m)
		}
	}
}

// TestWriteTimeoutKeepsStream: a write that times out part-way (the peer
// not reading) leaves the RC4 stream intact: the caller's bytes count as
// written once encrypted, and what was not sent goes first next time.
func TestWriteTimeoutKeepsStream(t *testing.T) {
	cn, sn := tcpPair(t)
	errc := make(chan error, 1)
	var srv *Conn
	go func() {
		var err error
		srv, err = Server(context.Background(), sn, &Config{Methods: RC4, Find: findTest})
		errc <- err
	}()
	cli := Client(cn, &Config{SKey: testSKey, Methods: RC4})
	if _, err := cli.Write([]byte("ia")); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 16<<20)
	rand.Read(want)
	cn.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	p, timeouts := want, 0
	for len(p) > 0 && timeouts == 0 {
		n, err := cli.Write(p)
		p = p[n:]
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatal(err)
			}
			timeouts++
		}
	}
	if timeouts == 0 {
		t.Skip("16 MiB fitted in the socket buffers: no time-out to test")
	}
	cn.SetWriteDeadline(time.Time{})
	got := make(chan []byte, 1)
	go func() {
		b := make([]byte, 2+len(want))
		io.ReadFull(srv, b)
		got <- b
	}()
	if _, err := cli.Write(p); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Write(nil); err != nil { // flushes nothing more
		t.Fatal(err)
	}
	b := <-got
	if string(b[:2]) != "ia" || !bytes.Equal(b[2:], want) {
		t.Fatal("the stream was damaged by the time-out")
	}
}
