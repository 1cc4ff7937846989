package metadata

import (
	"errors"
	"fmt"

	"github.com/bt-go/bt/bencode"
)

// PieceSize is the size of every metadata piece but the last (BEP 9).
const PieceSize = 16 << 10

// MsgType is the "msg_type" of a ut_metadata message.
type MsgType int

// The message types of BEP 9. Others must be ignored.
const (
	MsgRequest MsgType = 0
	MsgData    MsgType = 1
	MsgReject  MsgType = 2
)

// String returns the BEP 9 name of the type.
func (t MsgType) String() string {
	switch t {
	case MsgRequest:
		return "request"
	case MsgData:
		return "data"
	case MsgReject:
		return "reject"
	}
	return fmt.Sprintf("MsgType(%d)", int(t))
}

// Message is one ut_metadata message.
type Message struct {
	Type  MsgType // request, data or reject (or another, to be ignored)
	Piece int     // the metadata piece, counted from 0
	// TotalSize is the size of the whole metadata, in data messages.
	TotalSize int64
	// Data is the piece's bytes, in data messages. After ParseMessage it
	// aliases the payload.
	Data []byte
}

// ErrInvalidMessage reports a ut_metadata payload that does not start with a
// bencoded dictionary holding integer "msg_type" and "piece" (and
// "total_size" in data messages), has a negative piece index, or carries more
// than PieceSize bytes of data.
var ErrInvalidMessage = errors.New("metadata: invalid message")

type header struct {
	MsgType   *int64 `bencode:"msg_type"`
	Piece     *int64 `bencode:"piece"`
	TotalSize *int64 `bencode:"total_size"`
}

// maxPieces bounds the piece index of any message: metadata larger than
// maxPieces×PieceSize (64 GiB) cannot exist.
const maxPieces = 1 << 22

// ParseMessage decodes a ut_metadata payload: a bencoded dictionary,
// followed in data messages by the piece's bytes. A message of an unknown
// type is returned without error (with its Type) so that the caller can
// ignore it, as BEP 9 requires; bytes after the dictionary of a request or
// reject are ignored.
func ParseMessage(payload []byte) (Message, error) {
	if len(payload) == 0 || payload[0] != 'd' {
		return Message{}, fmt.Errorf("%w: not a dictionary", ErrInvalidMessage)
	}
	var h header
	n, err := bencode.UnmarshalPrefix(payload, &h)
	if err != nil {
		return Message{}, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	if h.MsgType == nil || h.Piece == nil {
		return Message{}, fmt.Errorf("%w: missing msg_type or piece", ErrInvalidMessage)
	}
	if *h.Piece < 0 || *h.Piece >= maxPieces {
		return Message{}, fmt.Errorf("%w: piece %d", ErrInvalidMessage, *h.Piece)
	}
	m := Message{Type: MsgType(*h.MsgType), Piece: int(*h.Piece)}
	if m.Type != MsgData {
		return m, nil
	}
	if h.TotalSize == nil {
		return Message{}, fmt.Errorf("%w: data without total_size", ErrInvalidMessage)
	}
	m.TotalSize = *h.TotalSize
	m.Data = payload[n:]
	if len(m.Data) > PieceSize {
		return Message{}, fmt.Errorf("%w: %d bytes of data in piece %d", ErrInvalidMessage, len(m.Data), m.Piece)
	}
	return m, nil
}

// Marshal encodes m as a ut_metadata payload: the dictionary, then Data for a
// data message.
func (m Message) Marshal() ([]byte, error) {
	mt, piece := int64(m.Type), int64(m.Piece)
	h := header{MsgType: &mt, Piece: &piece}
	if m.Type == MsgData {
		h.TotalSize = &m.TotalSize
	}
	b, err := bencode.AppendMarshal(make([]byte, 0, 64+len(m.Data)), h)
	if err != nil {
		return nil, fmt.Errorf("metadata: encoding %v message: %w", m.Type, err)
	}
	if m.Type == MsgData {
		b = append(b, m.Data...)
	}
	return b, nil
}

// numPieces is the number of metadata pieces of size bytes.
func numPieces(size int64) int {
	return int((size + PieceSize - 1) / PieceSize)
}

// pieceLen is the length of piece i of metadata of size bytes.
func pieceLen(size int64, i int) int {
	return int(min(PieceSize, size-int64(i)*PieceSize))
}
