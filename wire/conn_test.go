package wire

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bt-go/bt/internal/waitfor"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echoExt is an extension that records what it sees.
type echoExt struct {
	name      string
	got       chan []byte
	supported chan bool
	closed    chan struct{}
}

func newEchoExt(name string) *echoExt {
	return &echoExt{name: name, got: make(chan []byte, 10), supported: make(chan bool, 10), closed: make(chan struct{})}
}

func (e *echoExt) Name() string { return e.name }
func (e *echoExt) ExtendHandshake(h *ExtendedHandshake) {
	h.MetadataSize = 1234
	if h.Extra == nil {
		h.Extra = map[string]any{}
	}
	h.Extra["x_test"] = "hello"
}
func (e *echoExt) PeerHandshake(c *Conn, h *ExtendedHandshake, supported bool) {
	e.supported <- supported
}
func (e *echoExt) HandleMessage(c *Conn, payload []byte) error {
	e.got <- append([]byte(nil), payload...)
	return nil
}
func (e *echoExt) Close(c *Conn) { close(e.closed) }

func TestExtendedMessageExchange(t *testing.T) {
	a, b := pipePair(t, testConfig('a'), testConfig('b'))
	ea, eb := newEchoExt("ut_echo"), newEchoExt("ut_echo")
	a.Use(newEchoExt("ut_other")) // a numbers ut_echo 2, b numbers it 1
	a.Use(ea)
	b.Use(eb)
	ra, rb := newRecorder(), newRecorder()
	if err := a.Start(ra); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(rb); err != nil {
		t.Fatal(err)
	}
	if !<-ea.supported || !<-eb.supported {
		t.Fatal("extension not reported as supported")
	}
	if err := a.SendExtended("ut_echo", []byte("ping")); err != nil {
		t.Fatal(err)
	}
	if got := <-eb.got; string(got) != "ping" {
		t.Fatalf("b got %q", got)
	}
	if err := b.SendExtended("ut_echo", []byte("pong")); err != nil {
		t.Fatal(err)
	}
	if got := <-ea.got; string(got) != "pong" {
		t.Fatalf("a got %q", got)
	}
	if err := b.SendExtended("ut_missing", nil); !errors.Is(err, ErrExtensionNotSupported) {
		t.Fatalf("SendExtended to a missing extension: %v", err)
	}
	ph := b.PeerExtendedHandshake()
	if ph == nil || ph.M["ut_echo"] != 2 || ph.M["ut_other"] != 1 || ph.MetadataSize != 1234 || ph.V != DefaultClientVersion || ph.Reqq != DefaultMaxPeerRequests {
		t.Fatalf("peer extended handshake: %+v", ph)
	}
	if string(ph.Raw["x_test"]) != "5:hello" {
		t.Fatalf("extra field: %q", ph.Raw["x_test"])
	}
	a.Close()
	<-a.Done()
	<-ea.closed
}

func TestRequestPiece(t *testing.T) {
	a, b := pipePair(t, testConfig('a'), testConfig('b'))
	ra, rb := newRecorder(), newRecorder()
	data := bytes.Repeat([]byte("0123456789abcdef"), BlockSize/16)
	rb.onMsg = func(c *Conn, m *Message) {
		if m.Type == MsgRequest {
			if err := c.Piece(m.Index, m.Begin, data[:m.Length]); err != nil {
				t.Error(err)
			}
		}
	}
	a.Start(ra)
	b.Start(rb)
	if !a.PeerChoking() || !a.AmChoking() || a.AmInterested() || a.PeerInterested() {
		t.Fatal("initial state wrong")
	}
	b.HaveAll()
	a.Interested()
	rb.next(t, MsgInterested)
	if !b.PeerInterested() {
		t.Fatal("b does not see a interested")
	}
	if ra.next(t, MsgHaveAll); !a.PeerHas(9) || a.PeerHas(10) {
		t.Fatal("have all not applied")
	}
	b.Unchoke()
	ra.next(t, MsgUnchoke)
	got := make(chan []byte, 1)
	if err := a.Request(3, BlockSize, BlockSize, func(block []byte, err error) {
		if err != nil {
			t.Error(err)
		}
		got <- append([]byte(nil), block...)
	}); err != nil {
		t.Fatal(err)
	}
	if blk := <-got; !bytes.Equal(blk, data) {
		t.Fatal("block differs")
	}
	m := ra.next(t, MsgPiece)
	if m.Index != 3 || m.Begin != BlockSize || m.Length != BlockSize {
		t.Fatalf("piece message %+v", m)
	}
	waitfor.Cond(t, 10*time.Second, "stats", func() bool { return b.Uploaded() == BlockSize && a.Downloaded() == BlockSize })
	if e := ra.nextEvent(t, EventDownload); e.Bytes != BlockSize {
		t.Fatalf("download event %+v", e)
	}
	if e := rb.nextEvent(t, EventUpload); e.Bytes != BlockSize {
		t.Fatalf("upload event %+v", e)
	}
	// Protocol bytes are counted apart from payload, the same on both
	// ends of the stream.
	waitfor.Cond(t, 10*time.Second, "protocol stats", func() bool {
		sa, sb := a.Stats(), b.Stats()
		return sa.ProtocolUploaded == sb.ProtocolDownloaded && sb.ProtocolUploaded == sa.ProtocolDownloaded
	})
	sa, sb := a.Stats(), b.Stats()
	if sa.ProtocolDownloaded == 0 || sa.ProtocolDownloaded >= BlockSize || sb.ProtocolUploaded >= BlockSize || sa.PayloadUploaded != 0 {
		t.Fatalf("stats: a %+v, b %+v", sa, sb)
	}
	if sa.DownloadRate <= 0 || sb.UploadRate <= 0 {
		t.Fatalf("rates: a down %v, b up %v", sa.DownloadRate, sb.UploadRate)
	}
}

// TestHandshakeBytes: the handshake on the wire is BEP 3's, with the
// reserved bits of BEP 5 (DHT: byte 7, 0x01), BEP 6 (Fast: byte 7, 0x04)
// and BEP 10 (extension protocol: byte 5, 0x10); the peer's bits, info hash
// and peer id are reported on receipt.
func TestHandshakeBytes(t *testing.T) {
	ca, cb := testConfig('a'), testConfig('b')
	ca.DHT = true
	var buf bytes.Buffer
	if err := WriteHandshake(&buf, ca.Handshake()); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if len(b) != 68 || b[0] != 19 || string(b[1:20]) != "BitTorrent protocol" {
		t.Fatalf("handshake %q", b)
	}
	if want := []byte{0, 0, 0, 0, 0, 0x10, 0, 0x05}; !bytes.Equal(b[20:28], want) {
		t.Fatalf("reserved % x, want % x", b[20:28], want)
	}
	if !bytes.Equal(b[28:48], ca.InfoHash[:]) || !bytes.Equal(b[48:68], ca.PeerID[:]) {
		t.Fatal("info hash or peer id misplaced")
	}
	a, bc := pipePair(t, ca, cb)
	if !bc.SupportsDHT() || a.SupportsDHT() || !bc.PeerHandshake().Reserved.DHT() {
		t.Fatalf("DHT bit: b sees %v, a sees %v", bc.SupportsDHT(), a.SupportsDHT())
	}
	if h := a.PeerHandshake(); h.PeerID != cb.PeerID || h.InfoHash != cb.InfoHash || !h.Reserved.Fast() || !h.Reserved.Extended() {
		t.Fatalf("a got handshake %+v", h)
	}
}
