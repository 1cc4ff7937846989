package metadata

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestMessageRoundTrip(t *testing.T) {
	for _, m := range []Message{
		{Type: MsgRequest, Piece: 0},
		{Type: MsgReject, Piece: 7},
		{Type: MsgData, Piece: 2, TotalSize: 40000, Data: []byte("xyz")},
		{Type: MsgData, Piece: 0, TotalSize: PieceSize, Data: bytes.Repeat([]byte{1}, PieceSize)},
	} {
		b, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseMessage(b)
		if err != nil {
			t.Fatalf("ParseMessage(%q): %v", b, err)
		}
		if got.Type != m.Type || got.Piece != m.Piece || got.TotalSize != m.TotalSize || !bytes.Equal(got.Data, m.Data) {
			t.Errorf("round trip of %v %d: got %+v", m.Type, m.Piece, got)
		}
	}
}

func TestMessageBytesMatchBEP9(t *testing.T) {
	b, _ := Message{Type: MsgRequest, Piece: 0}.Marshal()
	if string(b) != "d8:msg_typei0e5:piecei0ee" {
		t.Errorf("request = %q", b)
	}
	b, _ = Message{Type: MsgData, Piece: 0, TotalSize: 34256, Data: []byte("xx")}.Marshal()
	if string(b) != "d8:msg_typei1e5:piecei0e10:total_sizei34256eexx" {
		t.Errorf("data = %q", b)
	}
}

func TestParseInvalid(t *testing.T) {
	for _, in := range []string{
		"", "le", "i1e", "d", "d8:msg_typei0ee", "d5:piecei0ee",
		"d8:msg_type1:05:piecei0ee",                    // msg_type not an integer
		"d8:msg_typei0e5:piecei-1ee",                   // negative piece
		"d8:msg_typei0e5:piecei99999999999999999999ee", // overflow
		"d8:msg_typei1e5:piecei0ee" + "data",           // data without total_size
		"d8:msg_typei1e5:piecei0e10:total_sizei5ee" + strings.Repeat("x", PieceSize+1),
	} {
		if _, err := ParseMessage([]byte(in)); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("ParseMessage(%.40q): error %v, want ErrInvalidMessage", in, err)
		}
	}
}

func TestParseUnknownTypeAndTrailing(t *testing.T) {
	m, err := ParseMessage([]byte("d8:msg_typei9e5:piecei3ee"))
	if err != nil || m.Type != 9 || m.Piece != 3 {
		t.Errorf("unknown type: %+v, %v", m, err)
	}
	m, err = ParseMessage([]byte("d8:msg_typei0e5:piecei3eetrailing"))
	if err != nil || m.Type != MsgRequest || m.Data != nil {
		t.Errorf("request with trailing bytes: %+v, %v", m, err)
	}
}

func TestPieceArithmetic(t *testing.T) {
	for _, c := range []struct {
		size      int64
		n, lastLn int
	}{{1, 1, 1}, {PieceSize, 1, PieceSize}, {PieceSize + 1, 2, 1}, {3*PieceSize - 5, 3, PieceSize - 5}} {
		if n := numPieces(c.size); n != c.n || pieceLen(c.size, n-1) != c.lastLn {
			t.Errorf("size %d: %d pieces, last %d; want %d, %d", c.size, n, pieceLen(c.size, n-1), c.n, c.lastLn)
		}
	}
}
