package wire

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
)

// memConn is a stream whose reads come from a fixed input and whose writes
// are discarded.
type memConn struct {
	r      *bytes.Reader
	once   sync.Once
	closed chan struct{}
}

func (m *memConn) Read(p []byte) (int, error) {
	select {
	case <-m.closed:
		return 0, io.ErrClosedPipe
	default:
	}
	return m.r.Read(p)
}

func (m *memConn) Write(p []byte) (int, error) {
	select {
	case <-m.closed:
		return 0, io.ErrClosedPipe
	default:
	}
	return len(p), nil
}

func (m *memConn) Close() error {
	m.once.Do(func() { close(m.closed) })
	return nil
}

// fuzzExt answers every extension message with one of its own.
type fuzzExt struct{}

func (fuzzExt) Name() string                         { return "ut_fuzz" }
func (fuzzExt) ExtendHandshake(h *ExtendedHandshake) {}
func (fuzzExt) PeerHandshake(c *Conn, h *ExtendedHandshake, ok bool) {
	c.SendExtended("ut_fuzz", []byte("hi"))
}
func (fuzzExt) HandleMessage(c *Conn, payload []byte) error {
	if len(payload) > 0 && payload[0] == 'x' {
		return io.ErrUnexpectedEOF
	}
	return nil
}
func (fuzzExt) Close(c *Conn) {}

// fuzzHandler plays along: it unchokes, answers requests, requests what
// the peer has and cancels some.
func fuzzHandler(block []byte) Handler {
	return Funcs{Message: func(c *Conn, m *Message) {
		switch m.Type {
		case MsgInterested:
			c.Unchoke()
		case MsgRequest:
			c.Piece(m.Index, m.Begin, block[:m.Length])
		case MsgUnchoke, MsgHave, MsgAllowedFast:
			c.Interested()
			c.Request(m.Index, 0, BlockSize, func([]byte, error) {})
			c.Request(m.Index, BlockSize, BlockSize, nil)
			c.Cancel(m.Index, BlockSize, BlockSize)
		case MsgChoke:
			c.Choke()
		}
	}}
}

func runFuzzInput(t testing.TB, reserved Reserved, data []byte, magnet bool) {
	hs, _ := Handshake{Reserved: reserved, InfoHash: testHash}.MarshalBinary()
	mc := &memConn{r: bytes.NewReader(append(hs, data...)), closed: make(chan struct{})}
	cfg := testConfig('f')
	cfg.MaxRequestLength = MaxBlockLength
	if magnet {
		cfg.PieceLength, cfg.TotalLength = 0, 0
	}
	c, err := NewConn(context.Background(), mc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Use(fuzzExt{})
	c.Start(fuzzHandler(make([]byte, MaxBlockLength)))
	<-c.Done()
	if magnet {
		c.SetTorrentSize(1<<14, 10<<14) // must not panic on whatever arrived
	}
	_ = c.Stats()
}

func FuzzConn(f *testing.F) {
	recoverPanics.Store(false)
	f.Cleanup(func() { recoverPanics.Store(true) })
	f.Add(byte(0xff), []byte{})
	f.Add(byte(0xff), frame(5, 0xff, 0xc0))
	f.Add(byte(0xff), append(frame(0x0E), frame(1)...))
	f.Add(byte(0xff), append(append(frame(2), frame(6, u32s(1, 0, 16384)...)...), frame(8, u32s(1, 0, 16384)...)...))
	f.Add(byte(0xff), append(frame(1), frame(4, u32s(3)...)...))
	f.Add(byte(0xff), append(frame(1), frame(7, append(u32s(3, 0), make([]byte, 100)...)...)...))
	f.Add(byte(0xff), frame(20, []byte("\x00d1:md7:ut_fuzzi3ee1:v3:abc4:reqqi5ee")...))
	f.Add(byte(0xff), frame(20, 1, 'x'))
	f.Add(byte(0xff), append(frame(0x11, u32s(2)...), frame(0x0D, u32s(2)...)...))
	f.Add(byte(0xfe), append(frame(4, u32s(7)...), frame(5, 0, 0x40)...))
	f.Add(byte(0x00), frame(0x10, u32s(0, 0, 16384)...))
	f.Add(byte(0xff), []byte{0, 0, 0, 0, 0, 0, 0, 3, 9, 0x1a, 0xe1})
	f.Fuzz(func(t *testing.T, flags byte, data []byte) {
		var r Reserved
		r.SetFast(flags&1 != 0)
		r.SetExtended(flags&2 != 0)
		r.SetDHT(flags&4 != 0)
		runFuzzInput(t, r, data, flags&8 == 0)
	})
}
