package wire

import (
	"errors"
	"testing"

	"github.com/bt-go/bt/bencode"
)

// failingExt fails on the payload "bad".
type failingExt struct{ echoExt }

func (f *failingExt) HandleMessage(c *Conn, payload []byte) error {
	if string(payload) == "bad" {
		return errors.New("bad payload")
	}
	return f.echoExt.HandleMessage(c, payload)
}

func extendedHandshake(t *testing.T, fields map[string]any) []byte {
	t.Helper()
	b, err := bencode.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{0}, b...)
}

func TestExtendedHandshakeUpdatesAndDispatch(t *testing.T) {
	cfg := testConfig('e')
	pa, pb := rawPair(t, cfg)
	ext := &failingExt{*newEchoExt("ut_echo")}
	pa.Use(ext)
	rec := newRecorder()
	pa.Start(rec)

	// Our extended handshake names ut_echo 1 and carries reqq.
	f := pb.next(t, MsgExtended)
	ours, err := ParseExtendedHandshake(f[2:])
	if err != nil || ours.M["ut_echo"] != 1 || ours.Reqq != DefaultMaxPeerRequests || ours.V != DefaultClientVersion {
		t.Fatalf("our extended handshake %+v, %v", ours, err)
	}

	pb.send(t, 20, extendedHandshake(t, map[string]any{"m": map[string]any{"ut_echo": 7, "ut_pex": 3}, "metadata_size": -5, "p": 70000, "yourip": "abc"})...)
	if !<-ext.supported {
		t.Fatal("not supported")
	}
	h := pa.PeerExtendedHandshake()
	if h.MetadataSize != 0 || h.P != 0 || h.YourIP != nil {
		t.Fatalf("bad values not dropped: %+v", h)
	}
	if err := pa.SendExtended("ut_echo", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if f := pb.next(t, MsgExtended); f[1] != 7 || string(f[2:]) != "x" {
		t.Fatalf("sent %q", f)
	}
	// A later handshake disables ut_echo (id 0) and keeps ut_pex.
	pb.send(t, 20, extendedHandshake(t, map[string]any{"m": map[string]any{"ut_echo": 0}})...)
	if <-ext.supported {
		t.Fatal("still supported")
	}
	if err := pa.SendExtended("ut_echo", nil); !errors.Is(err, ErrExtensionNotSupported) {
		t.Fatalf("send to a disabled extension: %v", err)
	}
	if got := pa.PeerExtensions(); len(got) != 1 || got[0] != "ut_pex" {
		t.Fatalf("peer extensions %v", got)
	}
	// Our id 1 goes to the extension; an id we did not assign to the handler.
	pb.send(t, 20, append([]byte{1}, "hello"...)...)
	if got := <-ext.got; string(got) != "hello" {
		t.Fatalf("extension got %q", got)
	}
	pb.send(t, 20, append([]byte{9}, "other"...)...)
	m := rec.next(t, MsgExtended)
	for m.ExtendedID == 0 { // the handshakes come first
		m = rec.next(t, MsgExtended)
	}
	if m.ExtendedID != 9 || string(m.Payload) != "other" {
		t.Fatalf("handler got %+v", m)
	}
	// An extension's error closes the connection.
	pb.send(t, 20, append([]byte{1}, "bad"...)...)
	e := rec.nextEvent(t, EventClose)
	if e.Err == nil || e.Err.Error() != "wire: extension ut_echo: bad payload" {
		t.Fatalf("closed with %v", e.Err)
	}
	<-ext.closed
}

// rawPair is startRaw without Start, so that a test can Use extensions.
func rawPair(t *testing.T, cfg *Config) (*Conn, *rawPeer) {
	t.Helper()
	c, _, raw := startRawOpts(t, cfg, allReserved(), false)
	return c, raw
}
