package metadata

import (
	"bytes"
	"testing"
)

// ask sends one request to e and returns its answer.
func ask(t *testing.T, e *Extension, piece int) Message {
	t.Helper()
	var reply []byte
	req, _ := Message{Type: MsgRequest, Piece: piece}.Marshal()
	if err := e.handle(req, func(p []byte) error { reply = bytes.Clone(p); return nil }); err != nil {
		t.Fatal(err)
	}
	m, err := ParseMessage(reply)
	if err != nil {
		t.Fatalf("reply %q: %v", reply, err)
	}
	if m.Piece != piece {
		t.Fatalf("reply for piece %d, asked %d", m.Piece, piece)
	}
	return m
}

// serveAll fetches n pieces from e and returns them joined.
func serveAll(t *testing.T, e *Extension, n int) []byte {
	t.Helper()
	var all []byte
	for i := range n {
		m := ask(t, e, i)
		if m.Type != MsgData {
			t.Fatalf("piece %d: %v", i, m.Type)
		}
		all = append(all, m.Data...)
	}
	return all
}

func TestServe(t *testing.T) {
	info := testInfo(3*PieceSize + 1)
	e := New(Config{Info: info})
	if e.metadataSize() != int64(len(info)) {
		t.Errorf("metadata_size %d", e.metadataSize())
	}
	m := ask(t, e, 3)
	if m.Type != MsgData || m.TotalSize != int64(len(info)) || len(m.Data) != pieceLen(int64(len(info)), 3) {
		t.Errorf("last piece: %v, total %d, %d bytes", m.Type, m.TotalSize, len(m.Data))
	}
	if got := serveAll(t, e, 4); !bytes.Equal(got, info) {
		t.Error("served bytes differ")
	}
	if m := ask(t, e, 4); m.Type != MsgReject {
		t.Errorf("piece past the end: %v, want reject", m.Type)
	}
}

func TestServeWithoutMetadataRejects(t *testing.T) {
	e := New(Config{})
	if e.metadataSize() != 0 {
		t.Error("metadata_size without metadata")
	}
	if m := ask(t, e, 0); m.Type != MsgReject {
		t.Errorf("got %v, want reject", m.Type)
	}
}

func TestServeFloodLimit(t *testing.T) {
	info := testInfo(40)
	e := New(Config{Info: info, ServeFactor: 2})
	data := 0
	for range 100 {
		if ask(t, e, 0).Type == MsgData {
			data++
		}
	}
	if data != 4 { // 2 × (1 piece + 1)
		t.Errorf("served %d times, want 4", data)
	}
}

func TestHandleIgnoresUnknownAndUnasked(t *testing.T) {
	e := New(Config{})
	for _, p := range []string{
		"d8:msg_typei7e5:piecei0ee",
		"d8:msg_typei2e5:piecei0ee",
		"d8:msg_typei1e5:piecei0e10:total_sizei3eeabc",
	} {
		if err := e.handle([]byte(p), func([]byte) error { t.Errorf("answered %q", p); return nil }); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
	if err := e.handle([]byte("garbage"), nil); err == nil {
		t.Error("garbage accepted")
	}
}
