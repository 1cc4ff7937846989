package wire

import (
	"context"
	"errors"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/bt-go/bt/bitfield"
	"github.com/bt-go/bt/internal/waitfor"
)

// unchoked returns a Conn whose raw peer has unchoked it.
func unchoked(t *testing.T, reserved Reserved) (*Conn, *recorder, *rawPeer) {
	c, rec, raw := startRaw(t, testConfig('u'), reserved)
	raw.send(t, 1)
	rec.next(t, MsgUnchoke)
	return c, rec, raw
}

func requestErr(t *testing.T, c *Conn, index, begin int) chan error {
	t.Helper()
	ch := make(chan error, 1)
	if err := c.Request(index, begin, BlockSize, func(b []byte, err error) { ch <- err }); err != nil {
		t.Fatal(err)
	}
	return ch
}

func wantErr(t *testing.T, ch chan error, want error) {
	t.Helper()
	select {
	case err := <-ch:
		if !errors.Is(err, want) {
			t.Fatalf("completion %v, want %v", err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no completion (want %v)", want)
	}
}

func TestChokeWithoutFastFailsRequests(t *testing.T) {
	noFast := allReserved()
	noFast.SetFast(false)
	c, _, raw := unchoked(t, noFast)
	e1, e2 := requestErr(t, c, 0, 0), requestErr(t, c, 0, BlockSize)
	raw.next(t, MsgRequest)
	raw.send(t, 0)
	wantErr(t, e1, ErrChoked)
	wantErr(t, e2, ErrChoked)
	if c.NumRequests() != 0 {
		t.Fatal("requests left")
	}
	if err := c.Request(0, 0, BlockSize, nil); !errors.Is(err, ErrChoked) {
		t.Fatalf("request while choked: %v", err)
	}
}

func TestChokeWithFastKeepsRequests(t *testing.T) {
	c, rec, raw := unchoked(t, allReserved())
	e1 := requestErr(t, c, 0, 0)
	raw.send(t, 0)
	rec.next(t, MsgChoke)
	if c.NumRequests() != 1 {
		t.Fatal("choke dropped the request under fast")
	}
	raw.send(t, 0x10, u32s(0, 0, BlockSize)...)
	wantErr(t, e1, ErrRejected)
	if m := rec.next(t, MsgReject); m.Index != 0 || m.Length != BlockSize {
		t.Fatalf("reject message %+v", m)
	}
	// Allowed fast pieces may be requested while choked.
	raw.send(t, 0x11, u32s(4)...)
	rec.next(t, MsgAllowedFast)
	if err := c.Request(4, 0, BlockSize, nil); err != nil {
		t.Fatalf("request of an allowed fast piece: %v", err)
	}
}

func TestRequestTimeout(t *testing.T) {
	c, rec, raw := unchoked(t, allReserved())
	c.SetTimeout(30 * time.Millisecond)
	e1, e2 := requestErr(t, c, 1, 0), requestErr(t, c, 1, BlockSize)
	wantErr(t, e1, ErrTimeout)
	if e := rec.nextEvent(t, EventTimeout); e.Request != (Request{1, 0, BlockSize}) {
		t.Fatalf("timeout event %+v", e)
	}
	wantErr(t, e2, ErrTimeout)
	// A late piece is waste, not an error.
	raw.send(t, 7, append(u32s(1, 0), make([]byte, BlockSize)...)...)
	rec.nextEvent(t, EventWaste)
	if c.Err() != nil {
		t.Fatal(c.Err())
	}
}

func TestCancel(t *testing.T) {
	c, _, raw := unchoked(t, allReserved())
	e1 := requestErr(t, c, 2, 0)
	c.Cancel(2, 0, BlockSize)
	wantErr(t, e1, ErrCanceled)
	raw.next(t, MsgRequest)
	f := raw.next(t, MsgCancel)
	if len(f) != 13 {
		t.Fatalf("cancel frame %x", f)
	}
	if len(c.Requests()) != 0 {
		t.Fatal("request still listed")
	}
}

func TestPeerCancelWithFastRejects(t *testing.T) {
	c, rec, raw := startRaw(t, testConfig('c'), allReserved())
	c.Unchoke()
	raw.send(t, 6, u32s(3, 0, BlockSize)...)
	rec.next(t, MsgRequest)
	if got := c.PeerRequests(); len(got) != 1 || got[0] != (Request{3, 0, BlockSize}) {
		t.Fatalf("peer requests %v", got)
	}
	raw.send(t, 8, u32s(3, 0, BlockSize)...)
	rec.next(t, MsgCancel)
	raw.next(t, MsgReject)
	if err := c.Piece(3, 0, make([]byte, BlockSize)); !errors.Is(err, ErrNotRequested) {
		t.Fatalf("answering a canceled request: %v", err)
	}
}

func TestOurChokeRejectsPeerRequests(t *testing.T) {
	c, rec, raw := startRaw(t, testConfig('c'), allReserved())
	c.Unchoke()
	raw.send(t, 6, u32s(3, 0, BlockSize)...)
	rec.next(t, MsgRequest)
	c.Choke()
	raw.next(t, MsgChoke)
	raw.next(t, MsgReject)
	if len(c.PeerRequests()) != 0 {
		t.Fatal("peer request survived our choke")
	}
}

func TestKeepAliveAndIdle(t *testing.T) {
	cfg := testConfig('k')
	cfg.KeepAlive = 10 * time.Millisecond
	cfg.IdleTimeout = time.Second
	c, rec, raw := startRaw(t, cfg, allReserved())
	for range 3 { // keep-alives keep coming while we wait
		for f := range raw.frames {
			if f == nil {
				break
			}
		}
	}
	raw.write(t, []byte{0, 0, 0, 0})
	rec.next(t, MsgKeepAlive)
	closedWith(t, c, rec, ErrIdle)
}

func TestSetKeepAliveOff(t *testing.T) {
	cfg := testConfig('k')
	cfg.KeepAlive = -1
	c, _, raw := startRaw(t, cfg, allReserved())
	c.SetKeepAlive(5 * time.Millisecond)
	for f := range raw.frames {
		if f == nil {
			return
		}
	}
	t.Fatal("no keep-alive")
}

func TestCloseFailsRequests(t *testing.T) {
	c, rec, _ := unchoked(t, allReserved())
	e1 := requestErr(t, c, 0, 0)
	c.Close()
	wantErr(t, e1, ErrClosed)
	if e := rec.nextEvent(t, EventClose); e.Err != nil {
		t.Fatalf("close event %+v", e)
	}
	<-c.Done()
	if err := c.Interested(); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
}

func TestPeerClosing(t *testing.T) {
	c, rec, raw := startRaw(t, testConfig('p'), allReserved())
	raw.nc.Close()
	if e := rec.nextEvent(t, EventClose); e.Err == nil {
		t.Fatal("no error when the peer hangs up")
	}
	<-c.Done()
}

func TestMagnetSizeLater(t *testing.T) {
	cfg := testConfig('m')
	cfg.PieceLength, cfg.TotalLength = 0, 0
	c, rec, raw := startRaw(t, cfg, allReserved())
	raw.send(t, 5, 0x80, 0)
	raw.send(t, 4, u32s(9)...)
	raw.send(t, 4, u32s(3)...)
	rec.next(t, MsgHave)
	rec.next(t, MsgHave)
	if c.NumPieces() != -1 || c.PeerHas(0) {
		t.Fatal("pieces known too early")
	}
	if err := c.SetTorrentSize(64<<10, 10*(64<<10)-5); err != nil {
		t.Fatal(err)
	}
	got := c.PeerPieces()
	if got.String() != "1001000001" {
		t.Fatalf("peer pieces %v", got)
	}
	raw.send(t, 4, u32s(10)...)
	closedWith(t, c, rec, ErrIndexOutOfRange)
}

func TestMagnetBadBitfieldLater(t *testing.T) {
	cfg := testConfig('m')
	cfg.PieceLength, cfg.TotalLength = 0, 0
	c, rec, raw := startRaw(t, cfg, allReserved())
	raw.send(t, 5, 0xff, 0xff)
	rec.next(t, MsgBitfield)
	if err := c.SetTorrentSize(64<<10, 10*(64<<10)); !errors.Is(err, ErrBadBitfield) {
		t.Fatalf("SetTorrentSize: %v", err)
	}
	closedWith(t, c, rec, ErrBadBitfield)
}

func TestMessagesBothWays(t *testing.T) {
	a, b := pipePair(t, testConfig('a'), testConfig('b'))
	ra, rb := newRecorder(), newRecorder()
	bf := bitfield.New(10)
	bf.Set(1)
	bf.Set(9)
	if err := a.Bitfield(bf); err != nil {
		t.Fatal(err)
	}
	a.Start(ra)
	b.Start(rb)
	if m := rb.next(t, MsgBitfield); !b.PeerHas(1) || !b.PeerHas(9) || b.PeerHas(2) || len(m.Bitfield) != 2 {
		t.Fatalf("bitfield %+v", m)
	}
	a.Have(2)
	if m := rb.next(t, MsgHave); m.Index != 2 || !b.PeerHas(2) {
		t.Fatalf("have %+v", m)
	}
	a.Port(6881)
	if m := rb.next(t, MsgPort); m.Port != 6881 {
		t.Fatalf("port %+v", m)
	}
	a.Suggest(5)
	if m := rb.next(t, MsgSuggest); m.Index != 5 {
		t.Fatalf("suggest %+v", m)
	}
	a.KeepAlive()
	rb.next(t, MsgKeepAlive)
	a.Interested()
	rb.next(t, MsgInterested)
	a.NotInterested()
	rb.next(t, MsgNotInterested)
	if b.PeerInterested() {
		t.Fatal("still interested")
	}
	a.HaveNone()
	rb.next(t, MsgHaveNone)
	if !b.PeerPieces().None() {
		t.Fatal("have none not applied")
	}
	a.Extended(42, []byte("raw"))
	if m := rb.next(t, MsgExtended); m.ExtendedID != 42 || string(m.Payload) != "raw" {
		t.Fatalf("extended %+v", m)
	}
	if err := a.Bitfield(bitfield.New(3)); err == nil {
		t.Fatal("bitfield of the wrong size accepted")
	}
	if err := a.Request(10, 0, BlockSize, nil); !errors.Is(err, ErrIndexOutOfRange) {
		t.Fatalf("request out of range: %v", err)
	}
}

func TestFastNotNegotiatedSends(t *testing.T) {
	ca, cb := testConfig('a'), testConfig('b')
	cb.DisableFast = true
	a, _ := pipePair(t, ca, cb)
	if a.SupportsFast() {
		t.Fatal("fast negotiated")
	}
	for _, f := range []func() error{a.HaveAll, a.HaveNone, func() error { return a.Suggest(1) }, func() error { return a.AllowedFast(1) }} {
		if err := f(); !errors.Is(err, ErrFastNotNegotiated) {
			t.Fatalf("got %v", err)
		}
	}
}

func TestListenerAndDial(t *testing.T) {
	var mu sync.Mutex
	var conns []*Conn
	var stopping, stopped bool
	errs := make(chan error, 10)
	other := testHash
	other[0] ^= 0xff
	l, err := Listen("127.0.0.1:0", ListenConfig{
		Torrent: func(peer Handshake, remote net.Addr) *Config {
			if peer.InfoHash == testHash || peer.InfoHash == other {
				cfg := testConfig('L')
				cfg.InfoHash = peer.InfoHash
				return cfg
			}
			return nil
		},
		Connected: func(c *Conn) {
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			c.HaveAll()
			c.Start(Funcs{})
		},
		Error:    func(err error) { errs <- err },
		Stopping: func(time.Time) { mu.Lock(); stopping = true; mu.Unlock() },
		Stopped:  func(error) { mu.Lock(); stopped = true; mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, ih := range [][20]byte{testHash, other} {
		cfg := testConfig('D')
		cfg.InfoHash = ih
		c, err := Dial(ctx, l.Addr().String(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if c.PeerID()[0] != 'L' || c.InfoHash() != ih {
			t.Fatalf("peer handshake %+v", c.PeerHandshake())
		}
		rec := newRecorder()
		c.Start(rec)
		rec.next(t, MsgHaveAll)
		waitfor.Cond(t, 10*time.Second, "extended handshake", func() bool { return c.PeerExtendedHandshake() != nil })
		if ip := net.IP(c.PeerExtendedHandshake().YourIP); !ip.Equal(net.IPv4(127, 0, 0, 1)) {
			t.Fatalf("yourip %v", ip)
		}
		c.Close()
		<-c.Done()
	}
	unknown := testConfig('D')
	unknown.InfoHash[5] ^= 1
	if _, err := Dial(ctx, l.Addr().String(), unknown); err == nil {
		t.Fatal("dial for an unknown torrent succeeded")
	}
	if err := <-errs; !errors.Is(err, ErrUnknownTorrent) {
		t.Fatalf("listener error %v", err)
	}
	l.Close()
	mu.Lock()
	defer mu.Unlock()
	if !stopping || !stopped {
		t.Fatal("no stopping/stop events")
	}
	for _, c := range conns {
		c.Close()
		<-c.Done()
	}
}

// A peer that keeps sending but never reads cannot hold the writer.
func TestPeerNotReading(t *testing.T) {
	cfg := testConfig('s')
	cfg.IdleTimeout = 200 * time.Millisecond
	pa, pb := net.Pipe()
	ch := make(chan *Conn, 1)
	go func() {
		c, _ := NewConn(context.Background(), pa, cfg)
		ch <- c
	}()
	WriteHandshake(pb, Handshake{Reserved: allReserved(), InfoHash: cfg.InfoHash})
	ReadHandshake(pb)
	c := <-ch
	rec := newRecorder()
	c.Start(rec)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				pb.Close()
				return
			case <-time.After(20 * time.Millisecond):
				pb.Write([]byte{0, 0, 0, 0})
			}
		}
	}()
	e := rec.nextEvent(t, EventClose)
	var ne net.Error
	if !errors.As(e.Err, &ne) || !ne.Timeout() {
		t.Fatalf("closed with %v, want a write time-out", e.Err)
	}
	<-c.Done()
}

func TestListenerHandshakeTimeout(t *testing.T) {
	errs := make(chan error, 10)
	l, err := Listen("127.0.0.1:0", ListenConfig{
		Torrent:          func(Handshake, net.Addr) *Config { return testConfig('L') },
		Error:            func(err error) { errs <- err },
		HandshakeTimeout: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte("\x13BitTorrent"))
	select {
	case err := <-errs:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("error %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("slow handshake not dropped")
	}
}

// Each started Conn runs two goroutines.
func TestGoroutinesPerConn(t *testing.T) {
	before := runtime.NumGoroutine()
	const pairs = 20
	for range pairs {
		a, b := tcpPair(t, testConfig('a'), testConfig('b'))
		a.Start(nil)
		b.Start(nil)
	}
	if n := runtime.NumGoroutine() - before; n > 4*pairs+10 { // slack for other tests ending
		t.Fatalf("%d goroutines for %d connections", n, 2*pairs)
	}
}

func TestMeter(t *testing.T) {
	var m meter
	for i := range 10 {
		m.add(time.Duration(i)*time.Second, 1000)
	}
	if r := m.rate(9*time.Second + 500*time.Millisecond); r < 900 || r > 1100 {
		t.Fatalf("rate %v, want about 1000", r)
	}
	if r := m.rate(30 * time.Second); r != 0 {
		t.Fatalf("rate after silence %v", r)
	}
	var fresh meter
	fresh.add(100*time.Millisecond, 500)
	if r := fresh.rate(200 * time.Millisecond); r < 2000 {
		t.Fatalf("early rate %v", r)
	}
}

func TestRejectPeerRequest(t *testing.T) {
	c, rec, raw := startRaw(t, testConfig('r'), allReserved())
	c.Unchoke()
	raw.send(t, 6, u32s(3, 0, BlockSize)...)
	m := rec.next(t, MsgRequest)
	if err := c.Reject(m.Index, m.Begin, m.Length); err != nil {
		t.Fatal(err)
	}
	if f := raw.next(t, MsgReject); len(f) != 13 {
		t.Fatalf("reject %x", f)
	}
	if len(c.PeerRequests()) != 0 {
		t.Fatal("rejected request still pending")
	}
}

func TestProtocolErrorText(t *testing.T) {
	err := protoErr(MsgRequest, ErrBadRequest, "length %d", 1<<20)
	if got := err.Error(); got != "wire: request: bad request: length 1048576" {
		t.Fatalf("got %q", got)
	}
	if MessageType(99).String() != "unknown(99)" || MsgNotInterested.String() != "not interested" {
		t.Fatal("message type names")
	}
	var r Reserved
	r.SetDHT(true)
	r.SetExtended(true)
	if r.String() != "dht,extended" || r.Fast() {
		t.Fatalf("reserved %v", r)
	}
}
