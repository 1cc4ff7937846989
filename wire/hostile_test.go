package wire

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// rawPeer is the far end of a Conn, driven byte by byte by a test.
type rawPeer struct {
	nc     net.Conn
	frames chan []byte // messages the Conn sent (id + payload; nil for keep-alive)
}

func allReserved() Reserved {
	var r Reserved
	r.SetFast(true)
	r.SetExtended(true)
	r.SetDHT(true)
	return r
}

// startRaw makes a started Conn with cfg whose peer is a raw stream that
// sent a handshake with the given reserved bits.
func startRaw(t testing.TB, cfg *Config, reserved Reserved) (*Conn, *recorder, *rawPeer) {
	t.Helper()
	return startRawOpts(t, cfg, reserved, true)
}

func startRawOpts(t testing.TB, cfg *Config, reserved Reserved, start bool) (*Conn, *recorder, *rawPeer) {
	t.Helper()
	pa, pb := net.Pipe()
	ch := make(chan *Conn, 1)
	go func() {
		c, err := NewConn(context.Background(), pa, cfg)
		if err != nil {
			t.Error(err)
		}
		ch <- c
	}()
	if err := WriteHandshake(pb, Handshake{Reserved: reserved, InfoHash: cfg.InfoHash}); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadHandshake(pb); err != nil {
		t.Fatal(err)
	}
	c := <-ch
	if c == nil {
		t.FailNow()
	}
	rp := &rawPeer{nc: pb, frames: make(chan []byte, 10000)}
	go rp.readFrames()
	rec := newRecorder()
	if start {
		if err := c.Start(rec); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		c.Close()
		pb.Close()
		<-c.Done()
	})
	return c, rec, rp
}

func (p *rawPeer) readFrames() {
	defer close(p.frames)
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(p.nc, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > 1<<20 {
			return
		}
		var b []byte
		if n > 0 {
			b = make([]byte, n)
			if _, err := io.ReadFull(p.nc, b); err != nil {
				return
			}
		}
		select {
		case p.frames <- b:
		default:
		}
	}
}

// send writes a message frame: length, id, payload.
func (p *rawPeer) send(t testing.TB, id byte, payload ...byte) {
	t.Helper()
	p.write(t, frame(id, payload...))
}

func (p *rawPeer) write(t testing.TB, b []byte) {
	t.Helper()
	p.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := p.nc.Write(b); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		t.Logf("raw write: %v", err)
	}
}

func frame(id byte, payload ...byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)))
	b = append(b, id)
	return append(b, payload...)
}

func u32s(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

// next waits for a frame of the given id from the Conn.
func (p *rawPeer) next(t testing.TB, id MessageType) []byte {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-p.frames:
			if !ok {
				t.Fatalf("connection closed before a %v message", id)
			}
			if len(f) > 0 && MessageType(f[0]) == id {
				return f
			}
		case <-timeout:
			t.Fatalf("no %v message", id)
		}
	}
}

// closedWith waits for the Conn to end and checks its error.
func closedWith(t testing.TB, c *Conn, rec *recorder, want error) {
	t.Helper()
	e := rec.nextEvent(t, EventClose)
	if !errors.Is(e.Err, want) {
		t.Fatalf("closed with %v, want %v", e.Err, want)
	}
	var pe *ProtocolError
	if errors.Is(want, ErrClosed) == false && !errors.As(e.Err, &pe) {
		t.Fatalf("error %v is not a *ProtocolError", e.Err)
	}
	<-c.Done()
	if !errors.Is(c.Err(), want) {
		t.Fatalf("Err() = %v", c.Err())
	}
}

func TestHostileInput(t *testing.T) {
	cfg := testConfig('h') // 10 pieces of 64 KiB, the last one 1000 bytes short
	plen := uint32(cfg.PieceLength)
	noFast := allReserved()
	noFast.SetFast(false)
	noExt := allReserved()
	noExt.SetExtended(false)
	tests := []struct {
		name     string
		reserved Reserved
		input    []byte
		want     error
	}{
		{"huge frame", allReserved(), u32s(0x7fffffff, 0x14000000), ErrFrameTooLarge},
		{"huge extended", allReserved(), append(u32s(MaxFrame+1), 20, 0), ErrFrameTooLarge},
		{"huge bitfield", allReserved(), append(u32s(MaxFrame+1), 5), ErrFrameTooLarge},
		{"huge piece", allReserved(), append(u32s(9+MaxBlockLength+1), 7), ErrMessageLength},
		{"unknown id", allReserved(), frame(99, 1, 2, 3), ErrUnknownMessage},
		{"choke with payload", allReserved(), frame(0, 1), ErrMessageLength},
		{"short have", allReserved(), frame(4, 0, 0, 1), ErrMessageLength},
		{"long request", allReserved(), frame(6, make([]byte, 13)...), ErrMessageLength},
		{"short port", allReserved(), frame(9, 1), ErrMessageLength},
		{"short piece", allReserved(), frame(7, 0, 0, 0, 0, 0, 0, 0), ErrMessageLength},
		{"empty extended", allReserved(), frame(20), ErrMessageLength},
		{"have all without fast", noFast, frame(0x0E), ErrFastNotNegotiated},
		{"reject without fast", noFast, frame(0x10, u32s(0, 0, 16384)...), ErrFastNotNegotiated},
		{"allowed fast without fast", noFast, frame(0x11, u32s(1)...), ErrFastNotNegotiated},
		{"suggest without fast", noFast, frame(0x0D, u32s(1)...), ErrFastNotNegotiated},
		{"extended without BEP 10", noExt, frame(20, 0, 'd', 'e'), ErrExtendedNotSupported},
		{"bitfield too long", allReserved(), frame(5, 0xff, 0xc0, 0), ErrBadBitfield},
		{"bitfield too short", allReserved(), frame(5, 0xff), ErrBadBitfield},
		{"bitfield spare bits", allReserved(), frame(5, 0xff, 0xc1), ErrBadBitfield},
		{"have out of range", allReserved(), frame(4, u32s(10)...), ErrIndexOutOfRange},
		{"have huge", allReserved(), frame(4, u32s(0xffffffff)...), ErrIndexOutOfRange},
		{"suggest out of range", allReserved(), frame(0x0D, u32s(10)...), ErrIndexOutOfRange},
		{"request out of range", allReserved(), frame(6, u32s(10, 0, 16384)...), ErrIndexOutOfRange},
		{"request too long", allReserved(), frame(6, u32s(0, 0, 16385)...), ErrBadRequest},
		{"request of 128 KiB", allReserved(), frame(6, u32s(0, 0, 128<<10)...), ErrBadRequest},
		{"request empty", allReserved(), frame(6, u32s(0, 0, 0)...), ErrBadRequest},
		{"request past piece end", allReserved(), frame(6, u32s(0, plen-100, 16384)...), ErrBadRequest},
		{"request past short last piece", allReserved(), frame(6, u32s(9, plen-1000-16383, 16384)...), ErrBadRequest},
		{"request begin overflow", allReserved(), frame(6, u32s(0, 0xfffffff0, 0x20)...), ErrBadRequest},
		{"request length overflow", allReserved(), frame(6, u32s(0, 16, 0xfffffff0)...), ErrBadRequest},
		{"extended handshake not a dict", allReserved(), frame(20, 0, 'i', '1', 'e'), ErrBadExtendedHandshake},
		{"extended handshake garbage", allReserved(), frame(20, 0, 'd', '9', '9', '9', ':'), ErrBadExtendedHandshake},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec, raw := startRaw(t, cfg, tt.reserved)
			raw.write(t, tt.input)
			closedWith(t, c, rec, tt.want)
		})
	}
}

func TestWrongProtocolString(t *testing.T) {
	pa, pb := net.Pipe()
	go func() {
		io.WriteString(pb, "\x13BitTorrent protocoX"+string(make([]byte, 48)))
		io.Copy(io.Discard, pb)
	}()
	_, err := NewConn(context.Background(), pa, testConfig('a'))
	if !errors.Is(err, ErrProtocolString) {
		t.Fatalf("got %v", err)
	}
	pb.Close()
}

func TestWrongInfoHash(t *testing.T) {
	other := testConfig('b')
	other.InfoHash[0] ^= 1
	pa, pb := net.Pipe()
	errc := make(chan error, 1)
	go func() {
		_, err := NewConn(context.Background(), pb, other)
		errc <- err
	}()
	_, err := NewConn(context.Background(), pa, testConfig('a'))
	if !errors.Is(err, ErrInfoHash) {
		t.Fatalf("got %v", err)
	}
	if err := <-errc; !errors.Is(err, ErrInfoHash) {
		t.Fatalf("other side got %v", err)
	}
}

func TestGarbageAfterHandshake(t *testing.T) {
	c, rec, raw := startRaw(t, testConfig('g'), allReserved())
	raw.write(t, []byte("GET / HTTP/1.1\r\nHost: example\r\n\r\n"))
	e := rec.nextEvent(t, EventClose)
	var pe *ProtocolError
	if !errors.As(e.Err, &pe) {
		t.Fatalf("closed with %v", e.Err)
	}
	<-c.Done()
}

func TestPeerRequestsBounded(t *testing.T) {
	cfg := testConfig('q')
	cfg.MaxPeerRequests = 2
	c, rec, raw := startRaw(t, cfg, allReserved())
	c.Unchoke()
	for i := range 3 {
		raw.send(t, 6, u32s(1, uint32(i)*16384, 16384)...)
	}
	rec.next(t, MsgRequest)
	rec.next(t, MsgRequest)
	f := raw.next(t, MsgReject)
	if got := binary.BigEndian.Uint32(f[5:]); got != 2*16384 {
		t.Fatalf("rejected begin %d", got)
	}
	if n := len(c.PeerRequests()); n != 2 {
		t.Fatalf("%d pending peer requests", n)
	}
	if c.Err() != nil {
		t.Fatal(c.Err())
	}
}

func TestRequestWhileChokedRejected(t *testing.T) {
	c, rec, raw := startRaw(t, testConfig('q'), allReserved())
	raw.send(t, 6, u32s(1, 0, 16384)...)
	raw.next(t, MsgReject)
	c.AllowedFast(2)
	raw.send(t, 6, u32s(2, 0, 16384)...)
	if m := rec.next(t, MsgRequest); m.Index != 2 {
		t.Fatalf("request %+v delivered", m)
	}
}

func TestUnrequestedPieceIsWaste(t *testing.T) {
	c, rec, raw := startRaw(t, testConfig('w'), allReserved())
	raw.send(t, 7, append(u32s(1, 0), make([]byte, 100)...)...)
	if e := rec.nextEvent(t, EventWaste); e.Bytes != 100 || e.Request.Index != 1 {
		t.Fatalf("waste event %+v", e)
	}
	raw.send(t, 2)
	rec.next(t, MsgInterested)
	if s := c.Stats(); s.Waste != 100 || s.PayloadDownloaded != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestHugeFrameAllocatesLittle: a frame claiming 2 GiB ends the connection
// before anything of its size is allocated.
func TestHugeFrameAllocatesLittle(t *testing.T) {
	cfg := testConfig('h')
	c, rec, raw := startRaw(t, cfg, allReserved())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	raw.write(t, u32s(0x7fffffff, 0x14000000))
	closedWith(t, c, rec, ErrFrameTooLarge)
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
		t.Fatalf("a 2 GiB frame header cost %d bytes of allocation", n)
	}
}

// TestBitfieldOverMaxFrame: a torrent with more pieces than a MaxFrame
// bitfield can describe still gets its exact-size bitfield through.
func TestBitfieldOverMaxFrame(t *testing.T) {
	const n = 10_000_000 // 1,250,000 bytes of bitfield
	cfg := testConfig('h')
	cfg.PieceLength, cfg.TotalLength = 16<<10, n*(16<<10)
	c, rec, raw := startRaw(t, cfg, allReserved())
	frame := append(u32s(1+n/8), 5)
	frame = append(frame, bytes.Repeat([]byte{0xff}, n/8)...)
	raw.write(t, frame)
	rec.next(t, MsgBitfield)
	if !c.PeerHas(n-1) || c.PeerPieces().Count() != n {
		t.Fatal("bitfield not applied")
	}
}

// TestMaxRequestLength: configured up to 128 KiB, a request of that length
// is served and a longer one ends the connection.
func TestMaxRequestLength(t *testing.T) {
	for _, tc := range []struct {
		length uint32
		ok     bool
	}{{128 << 10, true}, {128<<10 + 1, false}} {
		cfg := testConfig('m')
		cfg.PieceLength, cfg.TotalLength = 256<<10, 4*256<<10
		cfg.MaxRequestLength = 1 << 20 // capped at MaxBlockLength
		c, rec, raw := startRaw(t, cfg, allReserved())
		c.Unchoke()
		raw.send(t, 6, u32s(1, 0, tc.length)...)
		if !tc.ok {
			closedWith(t, c, rec, ErrBadRequest)
			continue
		}
		if m := rec.next(t, MsgRequest); m.Length != int(tc.length) {
			t.Fatalf("request %+v", m)
		}
		if err := c.Piece(1, 0, make([]byte, tc.length)); err != nil {
			t.Fatal(err)
		}
		if f := raw.next(t, MsgPiece); len(f) != 9+int(tc.length) {
			t.Fatalf("piece frame of %d bytes", len(f))
		}
	}
}
